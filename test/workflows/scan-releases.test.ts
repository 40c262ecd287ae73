import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createGitHub } from '../../activities/github/github.js';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { startRun } from '../../client/scan.js';
import { createSchedule, deleteSchedule, describeSchedule, triggerSchedule } from '../../client/schedule.js';
import { parseReportCsv, REPORT_COLUMNS } from '../../core/render/csv.js';
import type { ScanReleasesInput } from '../../core/run.js';
import type { ReleaseReportSummary } from '../../core/triage.js';
import { releaseProgressQuery, runProgressQuery } from '../../workflows/messages.js';
import { eventually, Harness, images, processAlive } from '../helpers/harness.js';
import { inspectHistory } from '../helpers/history.js';
import { capturedLogs, createTestEnvironment, workflowBundle } from '../helpers/temporal.js';
import { startFakeGitHub } from '../fakes/github-server.js';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await createTestEnvironment();
  await workflowBundle();
});

after(async () => {
  await env?.teardown();
});

async function withWorker<T>(harness: Harness, fn: (taskQueue: string) => Promise<T>, deps: ActivityDeps = harness.deps()): Promise<T> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.client.options.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(deps),
    maxConcurrentActivityTaskExecutions: 40,
    // Cancellation reaches an activity with its next heartbeat; keep that prompt in tests.
    maxHeartbeatThrottleInterval: '500 milliseconds',
  });
  return worker.runUntil(() => fn(taskQueue));
}

async function summaryOf(harness: Harness, release: string): Promise<ReleaseReportSummary> {
  return JSON.parse(await readFile(join(harness.reportsDir, `cves-${release}.summary.json`), 'utf8')) as ReleaseReportSummary;
}

async function rowsOf(harness: Harness, release: string) {
  return parseReportCsv(await harness.readReport(release), `cves-${release}.csv`);
}

describe('scanReleases on a real Temporal server', () => {
  it('scans every image of a 50-image release once and writes the CSV, site and issue plan, with no report JSON in history', async (t) => {
    const h = await Harness.create();
    const list = await h.writeList('images.txt', images('app', 0, 50));
    const started = Date.now();
    const { summary, parent, child } = await withWorker(h, async (taskQueue) => {
      const handle = await startRun(env.client, { releases: [{ name: 'v2.9.0', images: list }] }, { taskQueue });
      const summary = await handle.result();
      return { summary, parent: await inspectHistory(handle), child: await inspectHistory(env.client.workflow.getHandle(`${handle.workflowId}/v2.9.0`)) };
    });
    t.diagnostic(`50-image run: ${Date.now() - started} ms wall time; child history ${child.bytes} bytes / ${child.events} events; parent ${parent.bytes} bytes / ${parent.events} events`);

    const scans = (await h.calls()).filter((c) => c.kind === 'scan');
    assert.equal(scans.length, 50);
    assert.equal(new Set(scans.map((c) => c.image)).size, 50);
    assert.ok(scans.every((c) => c.args.includes('--format json') && c.args.includes('--scanners vuln') && c.args.includes('--skip-db-update')));
    assert.equal((await h.calls()).filter((c) => c.kind === 'db').length, 1, 'the DB is downloaded once per run');

    const release = summary.releases[0]!;
    assert.equal(release.status, 'completed');
    assert.equal(release.result?.scanned, 50);
    assert.equal(release.result?.failed, 0);

    const rows = await rowsOf(h, 'v2.9.0');
    assert.deepEqual([...new Set(rows.map((r) => r.image))].sort(), images('app', 0, 50).sort());
    assert.ok(rows.every((r) => r.vulnerabilityId.startsWith('CVE-2024-')));
    assert.ok((await stat(join(h.reportsDir, 'site', 'index.html'))).size > 0);
    const page = await readFile(join(h.reportsDir, 'site', 'release-v2.9.0.html'), 'utf8');
    assert.ok(page.includes('rancher/app-7:v1.7.0'));
    const plan = JSON.parse(await readFile(join(h.reportsDir, 'issue-plan.json'), 'utf8')) as { changes: { action: string }[] };
    assert.equal(plan.changes.filter((c) => c.action === 'create').length, 50);
    assert.equal(summary.issues?.create, 50);

    for (const history of [parent, child]) {
      assert.ok(!history.payloadText.includes('synthetic finding'), 'no finding titles in history');
      assert.ok(!history.payloadText.includes('CVE-2024-'), 'no vulnerability ids in history');
      assert.ok(!history.payloadText.includes('SchemaVersion'), 'no Trivy JSON in history');
    }
    assert.ok(child.bytes < 512 * 1024, `child history is ${child.bytes} bytes`);
  });

  it('retries a rate-limited scan, records a permanent failure without retrying, and keeps other releases going when one fails', async () => {
    const h = await Harness.create();
    const a = images('a', 0, 6);
    await h.scenarios({
      [a[0]!]: { fail: 'FATAL  Fatal error  run error: image scan error: GET https://index.docker.io/v2/rancher/a-0/manifests/v1.0.0: TOOMANYREQUESTS: You have reached your pull rate limit.', times: 1 },
      [a[1]!]: { fail: 'FATAL  Fatal error  run error: image scan error: remote error: GET https://index.docker.io/v2/rancher/a-1/manifests/v1.1.0: MANIFEST_UNKNOWN: manifest unknown; unknown tag=v1.1.0' },
    });
    const input: ScanReleasesInput = {
      releases: [
        { name: 'rel-a', images: await h.writeList('a.txt', a) },
        { name: 'rel-broken', images: join(h.dir, 'does-not-exist.txt') },
        { name: 'rel-c', images: await h.writeList('c.txt', images('c', 0, 4)) },
      ],
    };
    const summary = await withWorker(h, async (taskQueue) => (await startRun(env.client, input, { taskQueue })).result());

    const calls = (await h.calls()).filter((c) => c.kind === 'scan');
    assert.equal(calls.filter((c) => c.image === a[0]).length, 2, 'the rate-limited scan is retried once and succeeds');
    assert.equal(calls.filter((c) => c.image === a[1]).length, 1, 'manifest unknown is not retried');

    const [relA, broken, relC] = summary.releases;
    assert.equal(relA?.status, 'completed');
    assert.equal(relA?.result?.failed, 1);
    assert.deepEqual(relA?.result?.failedByType, { ImageNotFound: 1 });
    assert.match(relA?.result?.failedSample[0] ?? '', /rancher\/a-1:v1\.1\.0: image not found/);
    assert.equal(broken?.status, 'failed');
    assert.match(broken?.error ?? '', /ImageListNotFound.*does-not-exist\.txt/);
    assert.equal(relC?.status, 'completed');
    assert.equal(relC?.result?.scanned, 4);

    const reportA = await summaryOf(h, 'rel-a');
    assert.equal(reportA.images.failed, 1);
    assert.deepEqual(reportA.failedImages.map((f) => [f.image, f.type]), [[a[1], 'ImageNotFound']]);
    const rowsA = await rowsOf(h, 'rel-a');
    assert.ok(rowsA.some((r) => r.image === a[0]), 'the retried image has its findings');
    assert.ok(!rowsA.some((r) => r.image === a[1]), 'a failed scan has no findings, and is not shown as clean');
    assert.equal(summary.issues?.held, 1, 'the failed image is held, its issue untouched');
  });

  it('kills running Trivy processes when a run is cancelled', async () => {
    const h = await Harness.create();
    await h.scenarios({ default: { hang: true } });
    const list = await h.writeList('images.txt', images('hang', 0, 3));
    await withWorker(h, async (taskQueue) => {
      const handle = await startRun(env.client, { releases: [{ name: 'v1', images: list }] }, { taskQueue });
      const scans = await eventually(async () => {
        const calls = (await h.calls()).filter((c) => c.kind === 'scan');
        return calls.length === 3 && calls;
      }, 30_000, 'three scans to start');
      assert.ok(scans.every((c) => processAlive(c.pid)));
      await handle.cancel();
      await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError);
      await eventually(async () => scans.every((c) => !processAlive(c.pid)), 20_000, 'the stub processes to be killed');
    });
  });

  it('answers the progress query while scans are in flight', async () => {
    const h = await Harness.create();
    await h.scenarios({ default: { synthetic: 2, waitFor: 'go' } });
    const list = await h.writeList('images.txt', images('slow', 0, 12));
    await withWorker(h, async (taskQueue) => {
      const handle = await startRun(env.client, { releases: [{ name: 'v1', images: list }], maxConcurrentScans: 4 }, { taskQueue });
      const child = env.client.workflow.getHandle(`${handle.workflowId}/v1`);
      const midRun = await eventually(async () => {
        const p = await child.query(releaseProgressQuery).catch(() => undefined);
        return p?.inFlight === 4 && p;
      }, 30_000, 'four scans in flight');
      assert.deepEqual({ ...midRun }, { release: 'v1', phase: 'scanning', total: 12, assigned: 12, done: 0, failed: 0, inFlight: 4 });
      const parent = await handle.query(runProgressQuery);
      assert.equal(parent.phase, 'scanning');
      assert.equal(parent.total, 12);
      await h.release('go');
      await handle.result();
      const final = await child.query(releaseProgressQuery);
      assert.equal(final.done, 12);
      assert.equal(final.phase, 'completed');
    });
  });

  it('scans an image shared by two releases once and reports it in both', async () => {
    const h = await Harness.create();
    const first = images('shared', 0, 50);
    const second = images('shared', 20, 70);
    const input: ScanReleasesInput = {
      releases: [
        { name: 'v2.8', images: await h.writeList('v28.txt', first) },
        { name: 'v2.9', images: await h.writeList('v29.txt', second) },
      ],
    };
    const summary = await withWorker(h, async (taskQueue) => (await startRun(env.client, input, { taskQueue })).result());
    const scans = (await h.calls()).filter((c) => c.kind === 'scan');
    assert.equal(scans.length, 70);
    assert.equal(new Set(scans.map((c) => c.image)).size, 70);
    assert.equal(summary.scannedImages, 70);
    const v28 = await rowsOf(h, 'v2.8');
    const v29 = await rowsOf(h, 'v2.9');
    assert.deepEqual([...new Set(v28.map((r) => r.image))].sort(), [...first].sort());
    assert.deepEqual([...new Set(v29.map((r) => r.image))].sort(), [...second].sort());
    const shared = first.slice(20);
    for (const image of shared) {
      const ids28 = v28.filter((r) => r.image === image).map((r) => r.vulnerabilityId);
      const ids29 = v29.filter((r) => r.image === image).map((r) => r.vulnerabilityId);
      assert.ok(ids28.length > 0);
      assert.deepEqual(ids28, ids29);
    }
  });

  it('continues as new in the middle of a release and still scans each image once', async () => {
    const h = await Harness.create();
    const list = await h.writeList('images.txt', images('can', 0, 12));
    const summary = await withWorker(h, async (taskQueue) =>
      (await startRun(env.client, { releases: [{ name: 'v1', images: list }], maxScansPerRun: 5, maxConcurrentScans: 3 }, { taskQueue })).result(),
    );
    const result = summary.releases[0]?.result;
    assert.equal(result?.continuedAsNew, 2);
    assert.equal(result?.scanned, 12);
    const scans = (await h.calls()).filter((c) => c.kind === 'scan');
    assert.equal(scans.length, 12);
    assert.equal((await rowsOf(h, 'v1')).length, 12);
  });

  it('applies issues through GitHub and never lets the token reach history, logs or errors', async () => {
    const token = 'ghp_NEVER_IN_HISTORY_0123456789abcdefABCDEF';
    const fake = await startFakeGitHub({ token });
    try {
      const h = await Harness.create();
      const list = await h.writeList('images.txt', images('secret', 0, 3));
      const deps = (client = createGitHub({ token, baseUrl: fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } })): ActivityDeps => ({
        ...h.deps(),
        github: client,
        githubCanWrite: true,
        issueRepository: 'rancher/cve-reports',
      });
      const ok = await withWorker(h, async (taskQueue) => {
        const handle = await startRun(env.client, { releases: [{ name: 'v1', images: list }] }, { taskQueue });
        return { summary: await handle.result(), histories: [await inspectHistory(handle), await inspectHistory(env.client.workflow.getHandle(`${handle.workflowId}/v1`))] };
      }, deps());
      assert.equal(ok.summary.issues?.applied, true);
      assert.equal(fake.issues('rancher', 'cve-reports').length, 3);

      // A token GitHub refuses: the run fails with a clear error that does not carry the token either.
      const refused = 'ghp_REFUSED_TOKEN_9876543210zyxwvuZYXWVU';
      const failed = await withWorker(h, async (taskQueue) => {
        const handle = await startRun(env.client, { releases: [{ name: 'v1', images: list }] }, { taskQueue });
        const error = await handle.result().then(() => undefined, (e: unknown) => e);
        return { error, history: await inspectHistory(handle) };
      }, deps(createGitHub({ token: refused, baseUrl: fake.url, retryAfterBaseValue: 1 })));
      assert.ok(failed.error instanceof WorkflowFailedError);
      const cause = failed.error.cause as (Error & { cause?: Error }) | undefined;
      const message = `${failed.error.message} ${cause?.message ?? ''} ${cause?.cause?.message ?? ''}`;
      assert.match(message, /GitHub answered 401/);
      for (const secret of [token, refused]) {
        for (const history of [...ok.histories, failed.history]) assert.ok(!history.payloadText.includes(secret), 'no token in history');
        assert.ok(!capturedLogs.some((line) => line.includes(secret)), 'no token in worker logs');
        assert.ok(!message.includes(secret), 'no token in the error');
      }
      assert.ok(capturedLogs.length > 0, 'logs were captured');
    } finally {
      await fake.close();
    }
  });

  it('skips a garbage list line with its file and line, and records a half-written Trivy report as a permanent failure', async () => {
    const h = await Harness.create();
    const good = images('bad-input', 0, 3);
    await h.scenarios({ [good[1]!]: { stdout: '{"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnera' } });
    const list = await h.writeList('garbage.txt', [good[0]!, 'this is not an image', good[1]!, 'UPPER/case:1', good[2]!]);
    const summary = await withWorker(h, async (taskQueue) => (await startRun(env.client, { releases: [{ name: 'v1', images: list }] }, { taskQueue })).result());
    const result = summary.releases[0]!.result!;
    assert.equal(result.total, 3, 'the valid lines are all kept');
    assert.equal(result.listProblems, 2);
    assert.match(result.listProblemSample[0]!, /garbage\.txt:2: .*this is not an image/);
    assert.match(result.listProblemSample[1]!, /garbage\.txt:4: /);
    assert.deepEqual(result.failedByType, { UnparsableReport: 1 });
    assert.match(result.failedSample[0]!, /rancher\/bad-input-1:v1\.1\.0: Trivy output for rancher\/bad-input-1:v1\.1\.0 is not JSON/);
    assert.equal((await h.calls()).filter((c) => c.image === good[1]).length, 1, 'an unparsable report is not retried');
    assert.equal(result.scanned, 2);
  });

  it('completes a release with zero images, and fails only the release whose previous CSV is broken, leaving that file untouched', async () => {
    const h = await Harness.create();
    const broken = 'image,package_name,vulnerability_id,state,notes\nrancher/x:1,openssl,CVE-1,ignore,"unterminated note\n';
    await mkdir(h.reportsDir, { recursive: true });
    await writeFile(join(h.reportsDir, 'cves-v-broken.csv'), broken);
    const input: ScanReleasesInput = {
      releases: [
        { name: 'v-empty', images: await h.writeList('empty.txt', ['# no images in this release']) },
        { name: 'v-broken', images: await h.writeList('b.txt', images('b', 0, 2)) },
      ],
    };
    const summary = await withWorker(h, async (taskQueue) => (await startRun(env.client, input, { taskQueue })).result());
    const [empty, failed] = summary.releases;
    assert.equal(empty?.status, 'completed');
    assert.equal(empty?.result?.total, 0);
    assert.equal(await h.readReport('v-empty'), `${REPORT_COLUMNS.join(',')}\n`);
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error ?? '', /InvalidPreviousReport: .*cves-v-broken\.csv is not a valid CSV report.*left untouched/);
    assert.equal(await readFile(join(h.reportsDir, 'cves-v-broken.csv'), 'utf8'), broken, 'the person\'s file is unchanged');
  });

  it('creates, describes and triggers the weekly Schedule, and the triggered run completes', async () => {
    const h = await Harness.create();
    const list = await h.writeList('images.txt', images('sched', 0, 3));
    const id = `weekly-${randomUUID()}`;
    await withWorker(h, async (taskQueue) => {
      const input: ScanReleasesInput = { releases: [{ name: 'v1', images: list }] };
      const schedule = { id, dayOfWeek: 'MONDAY' as const, hour: 3, catchupWindow: '1 day', taskQueue };
      assert.equal(await createSchedule(env.client, schedule, input), 'created');
      assert.equal(await createSchedule(env.client, schedule, input), 'updated', 'create twice is safe');
      const described = await describeSchedule(env.client, id);
      assert.equal(described.policies.overlap, 'SKIP');
      assert.equal(described.policies.catchupWindow, 24 * 60 * 60 * 1000);
      assert.equal(described.spec.calendars?.[0]?.dayOfWeek?.[0]?.start, 'MONDAY');
      assert.equal(described.action.type, 'startWorkflow');
      await triggerSchedule(env.client, id);
      const workflowId = await eventually(async () => (await describeSchedule(env.client, id)).info.recentActions[0]?.action.workflow.workflowId, 30_000, 'the triggered run');
      const summary = await env.client.workflow.getHandle(workflowId).result();
      assert.equal(summary.releases[0]?.result?.scanned, 3);
      await deleteSchedule(env.client, id);
    });
  });
});
