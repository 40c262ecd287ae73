import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { ImageCheck } from '../../core/image-check.js';
import { Harness, TRIVY_STUB, type StubScenario } from '../helpers/harness.js';
import { checkCli, editReleaseCsv, scanReleasesNow } from '../helpers/release-runs.js';

const IMAGE = 'rancher/check-me:v1.0.0';
const OTHER = 'rancher/bystander:v2.0.0';
const RELEASES = ['v2.12.0', 'v2.13-head'];

let h: Harness;
/** The stub's synthetic ids for IMAGE: CVE 0 (CRITICAL) and CVE 1 (HIGH), and a third the reports never saw. */
let cve: string[];
/** The stub's package of IMAGE. */
let pkg: string;

before(async () => {
  h = await Harness.create('image-scanning-check-');
  await h.scenarios({ default: { synthetic: 2 } });
  const list = await h.writeList('images.txt', [IMAGE, OTHER]);
  await scanReleasesNow(h.deps(), 'run-1', RELEASES, list);
  const csv = await readFile(join(h.reportsDir, 'cves-v2.13-head.csv'), 'utf8');
  const ids = [...new Set([...csv.matchAll(/CVE-2024-\d+/g)].map((m) => m[0]))].filter((id) => csv.split('\n').some((l) => l.startsWith(IMAGE) && l.includes(id))).sort();
  assert.equal(ids.length, 2, csv);
  cve = [...ids, `${ids[0]!.slice(0, -1)}2`];
  pkg = /pkg-[0-9a-f]{6}/.exec(csv.split('\n').find((l) => l.startsWith(IMAGE))!)![0];
  // People's triage: CVE 1 ignored with a justification in both releases, CVE 0 waiting in the head.
  await editReleaseCsv(h.reportsDir, 'v2.13-head', IMAGE, cve[0]!, 'waiting', 'upstream fix in PR 123, "soon"');
  await editReleaseCsv(h.reportsDir, 'v2.13-head', IMAGE, cve[1]!, 'ignore', 'not reachable: the binary never calls it');
  await editReleaseCsv(h.reportsDir, 'v2.12.0', IMAGE, cve[1]!, 'ignore', 'not reachable in 2.12 either');
  await scanReleasesNow(h.deps(), 'run-2', RELEASES, list);
});

async function check(scenario: StubScenario, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  await h.scenarios({ [IMAGE]: scenario });
  return checkCli(args, {
    IMAGE_SCANNING_DATA_DIR: join(h.dir, 'data'),
    TRIVY_BIN: TRIVY_STUB,
    TRIVY_CACHE_DIR: join(h.dir, 'trivy-cache'),
    TRIVY_CACHE_BACKEND: 'memory',
    TRIVY_STUB_DIR: h.stubDir,
    IMAGE_SCANNING_REMATCH: 'false',
  });
}

/** A Trivy report of IMAGE holding the stub's synthetic CVEs `ids` (the stub replays it). */
async function reportWith(ids: string[]): Promise<string> {
  const path = join(h.dir, `report-${ids.join('-')}.json`);
  const vulnerabilities = ids.map((id) => ({ VulnerabilityID: id, PkgName: pkg, InstalledVersion: '1.0.0', FixedVersion: '1.0.1', Severity: 'HIGH', Title: `t ${id}`, PrimaryURL: `https://avd.aquasec.com/nvd/${id.toLowerCase()}` }));
  await writeFile(path, JSON.stringify({ SchemaVersion: 2, ArtifactName: IMAGE, ArtifactType: 'container_image', Metadata: { OS: { Family: 'debian', Name: '12.5' } }, Results: [{ Target: 'x (debian 12.5)', Class: 'os-pkgs', Type: 'debian', Vulnerabilities: vulnerabilities }] }));
  return path;
}

describe('image-scanning check IMAGE (stub Trivy, reports written by the real activities)', () => {
  it('still present and not ignored everywhere: lists each CVE with the state and notes people wrote, exit 3', async () => {
    const { code, stdout } = await check({ synthetic: 2 }, IMAGE);
    assert.equal(code, 3, stdout);
    assert.match(stdout, /against the newest reports of v2\.12\.0, v2\.13-head: 2 still present, 0 fixed, 0 new/);
    const line = (id: string) => stdout.split('\n').find((l) => l.includes(id)) ?? '';
    assert.match(line(cve[0]!), /still present +CRITICAL/);
    assert.match(line(cve[0]!), /v2\.13-head: waiting "upstream fix in PR 123, "soon""/);
    assert.match(line(cve[0]!), /v2\.12\.0: triaged/);
    assert.match(line(cve[1]!), /\[ignored in every release\]/);
    assert.match(stdout, /1 CVE remains that is not ignored/);
  });

  it('all fixed: exit 0', async () => {
    const { code, stdout } = await check({ synthetic: 0 }, IMAGE);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /0 still present, 2 fixed, 0 new/);
    assert.match(stdout, /No CVE remains that is not ignored/);
  });

  it('only CVEs ignored in every release remain: exit 0', async () => {
    const { code, stdout } = await check({ report: await reportWith([cve[1]!]) }, IMAGE);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /1 still present, 1 fixed, 0 new/);
  });

  it('a new CVE alone: exit 3', async () => {
    const { code, stdout } = await check({ report: await reportWith([cve[1]!, cve[2]!]) }, IMAGE);
    assert.equal(code, 3, stdout);
    assert.match(stdout.split('\n').find((l) => l.includes(cve[2]!)) ?? '', /^ {2}new +HIGH/);
    assert.match(stdout, /1 still present, 1 fixed, 1 new/);
  });

  it('--json: one document with statuses, triage and the exit code', async () => {
    const { code, stdout } = await check({ synthetic: 2 }, '--json', IMAGE);
    assert.equal(code, 3);
    const doc = JSON.parse(stdout) as ImageCheck & { exitCode: number };
    assert.equal(doc.exitCode, 3);
    assert.equal(doc.remaining, 1);
    assert.deepEqual(doc.releases, RELEASES);
    const first = doc.cves.find((c) => c.vulnerabilityId === cve[0])!;
    assert.equal(first.status, 'still present');
    assert.deepEqual(first.triage.map((t) => [t.release, t.state, t.notes]), [['v2.12.0', 'triaged', ''], ['v2.13-head', 'waiting', 'upstream fix in PR 123, "soon"']]);
  });

  it('a failed scan: exit 1 with Trivy\'s reason; a bad reference: exit 2', async () => {
    const failed = await check({ fail: 'FATAL\tremote error: GET https://index.docker.io/v2/rancher/check-me/manifests/v1.0.0: MANIFEST_UNKNOWN: manifest unknown' }, IMAGE);
    assert.equal(failed.code, 1, failed.stdout);
    assert.match(failed.stdout, /the scan failed: ImageNotFound/);
    const bad = await check({ synthetic: 0 }, 'Not An Image::');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an image reference/);
  });
});
