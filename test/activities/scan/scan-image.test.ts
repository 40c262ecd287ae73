import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createActivities } from '../../../activities/index.js';
import { storeKeys } from '../../../activities/store/result-store.js';
import type { Finding } from '../../../core/finding.js';
import type { ImageScan, ScanSummary } from '../../../core/scan.js';
import { runDatabaseDir } from '../../../activities/scan/run-database.js';
import { fakeRedis } from '../../fakes/fake-redis.js';
import { processAlive } from '../../helpers/harness.js';
import { applicationFailure, argv, assign, fixture, flagValue, record, run, workspace } from '../support.js';

const RUN = 'run-2025-01-14';
const RELEASE = 'v2.10.1';
const FLEET = 'rancher/fleet-agent:v0.10.4';

// What Trivy 0.58 prints on stderr (with --quiet only the fatal error remains) for each kind of failure.
const trivyFatal = (image: string, remoteError: string) =>
  [
    `2025-01-14T09:12:05Z\tFATAL\tFatal error\trun error: image scan error: scan error: unable to initialize a scan service: unable to initialize an image scan service: unable to find the specified image "${image}" in ["docker" "containerd" "podman" "remote"]: 4 errors occurred:`,
    `\t* docker error: unable to inspect the image (${image}): Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?`,
    '\t* containerd error: containerd socket not found: /run/containerd/containerd.sock',
    '\t* podman error: unable to initialize Podman client: no podman socket found: stat podman/podman.sock: no such file or directory',
    `\t* remote error: ${remoteError}`,
  ].join('\n');

const REPORT_JSON = JSON.stringify({ SchemaVersion: 2, ArtifactName: FLEET, ArtifactType: 'container_image', Results: [] }, null, 2);

const FAILURES: { name: string; image: string; scenario: { fail: string } | { stdout: string }; type: string; permanent: boolean }[] = [
  {
    name: 'a missing tag (MANIFEST_UNKNOWN)',
    image: 'rancher/fleet-agent:v9.9.9',
    scenario: {
      fail: trivyFatal(
        'rancher/fleet-agent:v9.9.9',
        'GET https://index.docker.io/v2/rancher/fleet-agent/manifests/v9.9.9: MANIFEST_UNKNOWN: manifest unknown; unknown tag=v9.9.9',
      ),
    },
    type: 'ImageNotFound',
    permanent: true,
  },
  {
    name: 'a private repository (UNAUTHORIZED)',
    image: 'registry.suse.com/rancher/private-agent:v1.0.0',
    scenario: {
      fail: trivyFatal(
        'registry.suse.com/rancher/private-agent:v1.0.0',
        'GET https://registry.suse.com/v2/rancher/private-agent/manifests/v1.0.0: UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:rancher/private-agent Type:repository]]',
      ),
    },
    type: 'RegistryUnauthorized',
    permanent: true,
  },
  {
    name: 'a reference Trivy cannot parse',
    image: 'rancher/Fleet-Agent:v0.10.4',
    scenario: {
      fail: '2025-01-14T09:12:05Z\tFATAL\tFatal error\trun error: image scan error: scan error: unable to initialize a scan service: unable to initialize an image scan service: failed to parse the image name: could not parse reference: rancher/Fleet-Agent:v0.10.4',
    },
    type: 'InvalidImageReference',
    permanent: true,
  },
  {
    name: 'the Docker Hub pull rate limit (TOOMANYREQUESTS)',
    image: 'rancher/shell:v0.3.0',
    scenario: {
      fail: trivyFatal(
        'rancher/shell:v0.3.0',
        'GET https://index.docker.io/v2/rancher/shell/manifests/v0.3.0: TOOMANYREQUESTS: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
      ),
    },
    type: 'RegistryRateLimited',
    permanent: false,
  },
  {
    name: 'an unreachable registry (connection refused)',
    image: 'localhost:5000/rancher/shell:v0.3.0',
    scenario: {
      fail: trivyFatal('localhost:5000/rancher/shell:v0.3.0', 'Get "https://localhost:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused'),
    },
    type: 'NetworkError',
    permanent: false,
  },
  {
    name: 'a missing vulnerability DB',
    image: 'rancher/shell:v0.3.1',
    scenario: { fail: '2025-01-14T09:12:05Z\tFATAL\tFatal error\trun error: init error: DB error: --skip-db-update cannot be specified on the first run' },
    type: 'DatabaseError',
    permanent: false,
  },
  {
    name: 'an unknown Trivy error',
    image: 'rancher/shell:v0.3.2',
    scenario: { fail: '2025-01-14T09:12:05Z\tFATAL\tFatal error\trun error: image scan error: scan error: something nobody has seen before' },
    type: 'ScannerError',
    permanent: false,
  },
  {
    name: 'garbage on a successful exit',
    image: 'rancher/shell:v0.3.3',
    scenario: { stdout: 'panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation]' },
    type: 'UnparsableReport',
    permanent: true,
  },
  {
    name: 'half a JSON report',
    image: 'rancher/shell:v0.3.4',
    scenario: { stdout: REPORT_JSON.slice(0, Math.floor(REPORT_JSON.length / 2)) },
    type: 'UnparsableReport',
    permanent: true,
  },
];

describe('scanImage', () => {
  it('stores the normalized findings and returns only the key, outcome and counts', async (t) => {
    const h = await workspace(t);
    await h.scenarios({ [FLEET]: { report: fixture('debian-report.json') } });
    const deps = h.deps();
    const fleet = record(FLEET);
    await assign(deps, RUN, RELEASE, [fleet]);
    const { scanImage } = createActivities(deps);

    const summary = await run(scanImage, { runKey: RUN, release: RELEASE, index: 0 }) as ScanSummary;

    const resultKey = storeKeys.result(RUN, fleet.canonical);
    assert.deepEqual(summary, {
      image: FLEET,
      resultKey,
      outcome: 'findings',
      counts: { CRITICAL: 2, HIGH: 1, MEDIUM: 1, LOW: 1, UNKNOWN: 0 },
    });
    assert.ok(!('findings' in summary), 'findings never travel through workflow history');

    const stored = await deps.store.readJson<ImageScan>(resultKey);
    const os = { image: FLEET, target: `${FLEET} (debian 12.8)`, class: 'os-pkgs', type: 'debian', packagePath: '' };
    const go = { image: FLEET, target: 'usr/bin/fleetagent', class: 'lang-pkgs', type: 'gobinary', packagePath: '' };
    const expected: Finding[] = [
      {
        ...os,
        packageName: 'libc6',
        installedVersion: '2.36-9+deb12u3',
        fixedVersion: '2.36-9+deb12u4',
        vulnerabilityId: 'CVE-2023-4911',
        severity: 'HIGH',
        status: 'fixed',
        title: 'glibc: buffer overflow in ld.so leading to privilege escalation',
        url: 'https://avd.aquasec.com/nvd/cve-2023-4911',
        publishedDate: '2023-10-03T18:15:10.223Z',
      },
      {
        ...os,
        packageName: 'openssl',
        installedVersion: '3.0.11-1~deb12u2',
        fixedVersion: '3.0.13-1~deb12u1',
        vulnerabilityId: 'CVE-2024-0727',
        severity: 'MEDIUM',
        status: 'fixed',
        title: 'openssl: denial of service via null dereference',
        url: 'https://avd.aquasec.com/nvd/cve-2024-0727',
        publishedDate: '2024-01-26T09:15:07.637Z',
      },
      {
        ...os,
        packageName: 'zlib1g',
        installedVersion: '1:1.2.13.dfsg-1',
        fixedVersion: '',
        vulnerabilityId: 'CVE-2023-45853',
        severity: 'CRITICAL',
        status: 'will_not_fix',
        title: 'zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6',
        url: 'https://avd.aquasec.com/nvd/cve-2023-45853',
        publishedDate: '2023-10-14T02:15:09.323Z',
      },
      {
        ...os,
        packageName: 'apt',
        installedVersion: '2.6.1',
        fixedVersion: '',
        vulnerabilityId: 'CVE-2011-3374',
        severity: 'LOW',
        status: 'affected',
        title: 'It was found that apt-key in apt, all versions, do not correctly validate ...',
        url: 'https://avd.aquasec.com/nvd/cve-2011-3374',
        publishedDate: '2019-11-26T00:15:11.03Z',
      },
      {
        ...go,
        packageName: 'stdlib',
        installedVersion: 'v1.22.3',
        fixedVersion: '1.21.11, 1.22.4',
        vulnerabilityId: 'CVE-2024-24790',
        severity: 'CRITICAL',
        status: 'fixed',
        title: 'golang: net/netip: Unexpected behavior from Is methods for IPv4-mapped IPv6 addresses',
        url: 'https://avd.aquasec.com/nvd/cve-2024-24790',
        publishedDate: '2024-06-05T16:15:10.56Z',
      },
    ];
    assert.deepEqual(stored, { image: FLEET, outcome: 'findings', osScanned: true, os: 'debian 12.8', findings: expected });
  });

  it("runs `trivy image --format json --scanners vuln` offline on the run's DB copy and the shared layer cache, the image last", async (t) => {
    const h = await workspace(t);
    await h.scenarios({ default: { synthetic: 1 } });
    // A cache that answers, as the worker has: the scan checks it before Trivy starts.
    const cache = await fakeRedis('s3cret');
    t.after(() => cache.close());
    const deps = h.deps({ timeoutSeconds: 600, cacheBackend: `redis://:s3cret@127.0.0.1:${cache.port}` });
    await assign(deps, RUN, RELEASE, [record(FLEET)]);
    await run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 });

    const calls = await h.calls();
    assert.equal(calls.length, 1);
    const args = argv(calls[0]!);
    assert.deepEqual(args.slice(0, 5), ['image', '--format', 'json', '--scanners', 'vuln']);
    assert.ok(args.includes('--skip-db-update'));
    assert.ok(args.includes('--skip-java-db-update'));
    assert.ok(!args.includes('--cache-backend') && !args.join(' ').includes('s3cret'), 'the cache and its password stay off the command line');
    assert.deepEqual(await h.cacheBackends(), [deps.trivy.cacheBackend], "the layer cache comes in Trivy's environment");
    assert.equal(flagValue(args, '--cache-dir'), runDatabaseDir(deps.trivy.cacheDir, RUN), "the run's copy of the DB");
    assert.equal(flagValue(args, '--timeout'), '600s');
    assert.ok(!args.includes('--platform'), 'a Linux image is scanned for the default platform');
    assert.ok(!args.includes('--severity'), 'no severity filter: every severity, UNKNOWN included');
    assert.ok(!args.includes('--exit-code'), 'Trivy exits 1 for every error: --exit-code would make findings look like failures');
    assert.equal(args.at(-1), FLEET);
    // The report goes to a private temporary file, removed once read.
    const output = flagValue(args, '--output');
    assert.ok(output);
    assert.equal(existsSync(output), false);
  });

  it('gives every VEX source to Trivy with --show-suppressed; a URL document is fetched once per run, and one that is not OpenVEX fails the scan, named', async (t) => {
    const h = await workspace(t);
    const served = new Map([
      ['/good.json', JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', statements: [] })],
      ['/bad.json', '{"not":"vex"}'],
    ]);
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      const body = served.get(req.url ?? '');
      res.writeHead(body ? 200 : 404).end(body ?? 'missing');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const deps = h.deps({ vex: [{ kind: 'file', name: 'ours.json', path: '/etc/vex/ours.json' }, { kind: 'url', name: `${base}/good.json` }, { kind: 'repo', name: 'repo' }] });
    const other = 'rancher/shell:v0.2.1';
    await assign(deps, RUN, RELEASE, [record(FLEET), record(other)]);
    await run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 });
    await run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 1 });
    const args = argv((await h.calls())[0]!);
    const vexValues = args.flatMap((a, i) => (args[i - 1] === '--vex' ? [a] : []));
    assert.equal(vexValues.length, 3);
    assert.equal(vexValues[0], '/etc/vex/ours.json');
    assert.ok(vexValues[1]!.startsWith(join(runDatabaseDir(deps.trivy.cacheDir, RUN), 'vex-sources')), "the URL's document, copied for the run");
    assert.equal(vexValues[2], 'repo');
    assert.ok(args.includes('--show-suppressed'), 'suppressed findings stay in the report');
    assert.ok(args.includes('--skip-vex-repo-update'), 'no scan downloads the VEX repositories');
    assert.equal(args.at(-1), FLEET);
    assert.equal(requests, 1, 'fetched once for the run, not per scan');

    const bad = h.deps({ vex: [{ kind: 'url', name: `${base}/bad.json` }] });
    await assign(bad, 'run-2', RELEASE, [record(FLEET)]);
    const failure = await applicationFailure(run(createActivities(bad).scanImage, { runKey: 'run-2', release: RELEASE, index: 0 }));
    assert.equal(failure.type, 'VexSourceUnavailable');
    assert.match(failure.message, /bad\.json is not an OpenVEX document/);
  });

  it('passes a severity filter when one is configured', async (t) => {
    const h = await workspace(t);
    const deps = h.deps({ severities: ['CRITICAL', 'HIGH'] });
    await assign(deps, RUN, RELEASE, [record(FLEET)]);
    await run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 });
    const args = argv((await h.calls())[0]!);
    assert.equal(flagValue(args, '--severity'), 'CRITICAL,HIGH');
    assert.equal(args.at(-1), FLEET);
  });

  it('scans a Windows image for windows/amd64 and reports it as os-not-scanned when Trivy finds no OS', async (t) => {
    const h = await workspace(t);
    const WINS = 'rancher/wins:v0.4.20';
    await h.scenarios({ [WINS]: { report: fixture('windows-no-os.json') } });
    const deps = h.deps();
    const wins = record(WINS, true);
    await assign(deps, RUN, RELEASE, [wins]);

    const summary = await run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 }) as ScanSummary;

    assert.equal(summary.outcome, 'os-not-scanned');
    assert.deepEqual(summary.counts, { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
    const stored = await deps.store.readJson<ImageScan>(summary.resultKey);
    assert.deepEqual(stored, { image: WINS, outcome: 'os-not-scanned', osScanned: false, findings: [] });
    const args = argv((await h.calls())[0]!);
    assert.equal(flagValue(args, '--platform'), 'windows/amd64');
    assert.equal(args.at(-1), WINS);
  });

  it('reports an image whose OS was scanned and had nothing as clean', async (t) => {
    const h = await workspace(t);
    const KUBECTL = 'rancher/kubectl:v1.31.4';
    await h.scenarios({ [KUBECTL]: { report: fixture('clean-report.json') } });
    const deps = h.deps();
    await assign(deps, RUN, RELEASE, [record(KUBECTL)]);
    const summary = await run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 }) as ScanSummary;
    assert.equal(summary.outcome, 'clean');
    const stored = await deps.store.readJson<ImageScan>(summary.resultKey);
    assert.equal(stored?.osScanned, true);
    assert.equal(stored?.os, 'alpine 3.21.0');
  });

  for (const c of FAILURES) {
    it(`classifies ${c.name} as ${c.permanent ? 'permanent' : 'retryable'} ${c.type} and records the failure`, async (t) => {
      const h = await workspace(t);
      await h.scenarios({ [c.image]: c.scenario });
      const deps = h.deps({ rateLimitBackoffSeconds: 3600 });
      // Built by hand: an image with a reference Trivy rejects must still reach Trivy in this test.
      const image = { ...record('rancher/shell:v0.3.0'), image: c.image, canonical: `canonical/${c.image}` };
      await assign(deps, RUN, RELEASE, [image]);

      const failure = await applicationFailure(run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 }));

      assert.equal(failure.type, c.type);
      assert.equal(failure.nonRetryable, c.permanent);
      assert.ok(failure.message.includes(c.image), `the message names the image: ${failure.message}`);
      if (c.type === 'RegistryRateLimited') assert.equal(failure.nextRetryDelay, '3600s');
      else assert.equal(failure.nextRetryDelay, undefined);

      const stored = await deps.store.readJson<ImageScan>(storeKeys.result(RUN, image.canonical));
      assert.equal(stored?.outcome, 'failed');
      assert.equal(stored?.image, c.image);
      assert.deepEqual(stored?.findings, []);
      assert.equal(stored?.failure?.type, c.type);
      assert.equal(stored?.failure?.permanent, c.permanent);
      assert.equal((await h.calls()).length, 1);
    });
  }

  it('never runs Trivy twice for an image already scanned in the run (claim check)', async (t) => {
    const h = await workspace(t);
    await h.scenarios({ [FLEET]: { report: fixture('debian-report.json') } });
    const deps = h.deps();
    await assign(deps, RUN, RELEASE, [record(FLEET)]);
    const first = await run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 }) as ScanSummary;
    // A retry after a lost completion, on another worker (fresh activities object, same store).
    const second = await run(createActivities(h.deps()).scanImage, { runKey: RUN, release: RELEASE, index: 0 }) as ScanSummary;
    assert.deepEqual(second, first);
    assert.equal((await h.calls()).length, 1);
  });

  it('scans again after a recorded failure, then stops', async (t) => {
    const h = await workspace(t);
    await h.scenarios({
      [FLEET]: { fail: trivyFatal(FLEET, 'Get "https://index.docker.io/v2/": read tcp 10.0.0.2:53210->54.236.113.205:443: read: connection reset by peer'), times: 1 },
    });
    const deps = h.deps();
    await assign(deps, RUN, RELEASE, [record(FLEET)]);
    const { scanImage } = createActivities(deps);
    const failure = await applicationFailure(run(scanImage, { runKey: RUN, release: RELEASE, index: 0 }));
    assert.equal(failure.type, 'NetworkError');
    assert.equal(failure.nonRetryable, false);

    const retried = await run(scanImage, { runKey: RUN, release: RELEASE, index: 0 }) as ScanSummary;
    assert.equal(retried.outcome, 'findings');
    assert.equal((await deps.store.readJson<ImageScan>(retried.resultKey))?.outcome, 'findings');
    await run(scanImage, { runKey: RUN, release: RELEASE, index: 0 });
    assert.equal((await h.calls()).length, 2);
  });

  it('fails permanently with ScannerNotInstalled when the Trivy executable does not exist', async (t) => {
    const h = await workspace(t);
    const deps = h.deps({ bin: '/nonexistent/trivy' });
    await assign(deps, RUN, RELEASE, [record(FLEET)]);
    const failure = await applicationFailure(run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 }));
    assert.equal(failure.type, 'ScannerNotInstalled');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /\/nonexistent\/trivy/);
  });

  it('fails permanently with ScanAssignmentMissing for an index past the assignment', async (t) => {
    const h = await workspace(t);
    const deps = h.deps();
    await assign(deps, RUN, RELEASE, [record(FLEET)]);
    const failure = await applicationFailure(run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 1 }));
    assert.equal(failure.type, 'ScanAssignmentMissing');
    assert.equal(failure.nonRetryable, true);
    assert.equal((await h.calls()).length, 0);
  });

  it('kills a Trivy that outlives its timeout and reports a retryable ScanTimeout', async (t) => {
    const h = await workspace(t);
    await h.scenarios({ [FLEET]: { hang: true } });
    const deps = h.deps({ timeoutSeconds: 1, timeoutGraceSeconds: 0 });
    const fleet = record(FLEET);
    await assign(deps, RUN, RELEASE, [fleet]);

    const started = Date.now();
    const failure = await applicationFailure(run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 }));
    const elapsed = Date.now() - started;

    assert.equal(failure.type, 'ScanTimeout');
    assert.equal(failure.nonRetryable, false);
    assert.ok(failure.message.includes(FLEET));
    assert.ok(elapsed >= 900 && elapsed < 10_000, `killed after ${elapsed} ms`);
    const [call] = await h.calls();
    assert.ok(call);
    assert.equal(processAlive(call.pid), false, 'the hung Trivy was killed');
    const stored = await deps.store.readJson<ImageScan>(storeKeys.result(RUN, fleet.canonical));
    assert.equal(stored?.outcome, 'failed');
    assert.equal(stored?.failure?.type, 'ScanTimeout');
  });
});
