// Re-matching end to end with the real Trivy, the real Temporal test server and crane, through a
// loopback front that behaves like Docker Hub (test/fakes/hub-front.ts): the first run pulls each
// image once; with the quota at 0, an unchanged re-run pulls nothing and writes the same CSV, a DB
// update finds its new CVE without a pull, and only a re-pushed tag is pulled again.
// Needs `npm run trivy-cli`, `npm run crane-cli` and scripts/build-e2e-fixtures.sh (CI runs all three).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { promisify } from 'node:util';
import { findCrane } from '../../client/crane-cli.js';
import { ProgressReporter } from '../../client/progress.js';
import { startRun } from '../../client/scan.js';
import { trivyVersion } from '../../client/trivy-cli.js';
import { parseReportCsv } from '../../core/render/csv.js';
import { imagePageName, releasePageName } from '../../core/render/html.js';
import type { ImageScan } from '../../core/scan.js';
import type { ReleaseReportSummary } from '../../core/triage.js';
import { PROJECT_ROOT } from '../../host/paths.js';
import { storeKeys } from '../../activities/store/result-store.js';
import { sbomKeys } from '../../activities/store/sbom-store.js';
import { startHubFront } from '../fakes/hub-front.js';
import { Harness } from '../helpers/harness.js';
import { capturedLogs, testWorker, workflowBundle } from '../helpers/temporal.js';
import { copySampleCache, locateSample, SAMPLE_IMAGES } from './offline-sample.js';
import { useSampleServices } from './sample-services.js';
import { releaseProgressQuery, type ReleaseProgress } from '../../workflows/messages.js';

const sample = await locateSample();
const crane = await findCrane({ install: false }).catch((error: Error) => ({ missing: error.message }));
const skip = 'missing' in sample ? `re-match end-to-end test skipped: ${sample.missing}` : typeof crane !== 'string' ? `re-match end-to-end test skipped: ${crane.missing}` : false;
if (skip && process.env.IMAGE_SCANNING_E2E === 'required') throw new Error(`IMAGE_SCANNING_E2E=required, but ${skip}`);

/** A second DB: the sample's advisories plus CVE-2099-1009 in Alpine's zlib (the "DB update"). */
async function updatedDatabase(dir: string): Promise<string> {
  const advisories = JSON.parse(await readFile(join(PROJECT_ROOT, 'test', 'fixtures', 'e2e', 'advisories.json'), 'utf8')) as {
    advisories: Record<string, Record<string, Record<string, unknown>>>;
    vulnerabilities: Record<string, unknown>;
  };
  advisories.advisories['alpine 3.19']!.zlib!['CVE-2099-1009'] = { FixedVersion: '1.3.2-r0' };
  advisories.vulnerabilities['CVE-2099-1009'] = {
    Title: 'zlib: fixture flaw added by a DB update',
    Description: 'Added after the first run, to show a re-match finds it without a pull.',
    Severity: 'HIGH',
    VendorSeverity: { alpine: 3 },
    PublishedDate: '2099-02-01T00:00:00Z',
  };
  const file = join(dir, 'advisories-updated.json');
  await writeFile(file, JSON.stringify(advisories));
  const cacheDir = join(dir, 'trivy-cache-updated');
  await promisify(execFile)(join(PROJECT_ROOT, '.tools', 'bin', 'fixture-db'), ['-advisories', file, '-cache-dir', cacheDir]);
  return cacheDir;
}

describe('re-matching with the real Trivy through a Docker-Hub-like front', { skip }, () => {
  const services = useSampleServices();
  const trivy = 'trivy' in sample ? sample.trivy : '';

  it('pulls each image once, then re-matches unchanged images with no pull, finds a DB update, and pulls only a re-pushed tag', async (t) => {
    const front = await startHubFront({ target: services.registry.host, limit: 100, windowMs: 60 * 60_000 });
    t.after(() => front.stop());
    const h = await Harness.create('image-scanning-rematch-');
    const version = trivyVersion(trivy);
    const settings = { bin: trivy, crane: crane as string, version, timeoutSeconds: 120, rateLimitDeadlineSeconds: 600 };
    const deps = h.deps({ ...settings, cacheDir: await copySampleCache(join(h.dir, 'trivy-cache')) });
    const keys = ['alpine', 'debian', 'noOs', 'goApp'] as const;
    const images = [...keys.map((k) => SAMPLE_IMAGES[k]), 'e2e/alpine-app-1:1.0'];
    const refs = images.map((i) => front.ref(i));
    const list = await h.writeList('images.txt', refs);
    const taskQueue = `rematch-${randomUUID()}`;
    const results = async (runKey: string): Promise<ImageScan[]> =>
      Promise.all(refs.map(async (ref) => (await deps.store.readJson<ImageScan>(storeKeys.result(runKey, ref)))!));

    const run = async (runDeps = deps) => {
      const worker = await testWorker(services.env, runDeps, `${taskQueue}-${randomUUID()}`, { maxConcurrentActivityTaskExecutions: 4 });
      return worker.runUntil(async () => {
        const handle = await startRun(services.env.client, { releases: [{ name: 'e2e', images: list }] }, { taskQueue: worker.options.taskQueue });
        return handle.result();
      });
    };

    // First run: each image pulled once (one counted manifest GET each), and an SBOM made and verified.
    let summary = await run();
    const first = front.counts();
    t.diagnostic(`run 1 (first): ${JSON.stringify(first)} by repository ${JSON.stringify(front.pullsByRepository())}`);
    assert.equal(summary.releases[0]!.result?.failed, 0, JSON.stringify(summary.releases[0]));
    assert.deepEqual(Object.values(front.pullsByRepository()), images.map(() => 1));
    assert.equal(first.refused, 0);
    const firstScans = await results(summary.runKey);
    assert.ok(firstScans.every((s) => s.scannedAs === 'pulled' && /^sha256:/.test(s.digest ?? '') && !s.needsFullScans), JSON.stringify(firstScans.map((s) => [s.image, s.scannedAs, s.needsFullScans])));
    const csv1 = await h.readReport('e2e');
    assert.ok(!csv1.includes('@sha256:') && !csv1.includes('.cdx.json'), 'OS targets are written as the image');

    // Quota at 0: an unchanged re-run pulls nothing, fails nothing, and writes the same CSV.
    front.setLimit(0);
    front.reset();
    summary = await run();
    const second = front.counts();
    t.diagnostic(`run 2 (unchanged, quota 0): ${JSON.stringify(second)}`);
    assert.equal(summary.releases[0]!.result?.failed, 0, JSON.stringify(summary.releases[0]));
    assert.equal(second.manifestGets, 0);
    assert.equal(second.blobGets, 0);
    assert.equal(second.refused, 0);
    assert.equal(second.manifestHeads, images.length, 'one free HEAD an image');
    assert.ok((await results(summary.runKey)).every((s) => s.scannedAs === 'rematched'));
    assert.equal(await h.readReport('e2e'), csv1, 'the CSV is byte-identical');
    const summary2 = JSON.parse(await readFile(join(h.reportsDir, 'cves-e2e.summary.json'), 'utf8')) as ReleaseReportSummary;
    assert.deepEqual(summary2.scanPaths, { rematched: 5, pulled: 0 });
    assert.deepEqual(summary2.pullsByRegistry, {});
    assert.deepEqual(summary2.needsFullScans, []);
    assert.ok(summary2.imageScans?.every((w) => /^sha256:/.test(w.digest ?? '')));

    // A DB update that adds an advisory: found in every unchanged image that has zlib, still no pull.
    front.reset();
    const updated = h.deps({ ...settings, cacheDir: await updatedDatabase(h.dir) });
    summary = await run(updated);
    const third = front.counts();
    t.diagnostic(`run 3 (DB update, quota 0): ${JSON.stringify(third)}`);
    assert.equal(summary.releases[0]!.result?.failed, 0, JSON.stringify(summary.releases[0]));
    assert.equal(third.manifestGets + third.blobGets + third.refused, 0);
    const rows3 = parseReportCsv(await h.readReport('e2e'), 'cves-e2e.csv');
    const withNew = rows3.filter((r) => r.vulnerabilityId === 'CVE-2099-1009').map((r) => r.image).sort();
    assert.deepEqual(withNew, [front.ref(SAMPLE_IMAGES.alpine), front.ref('e2e/alpine-app-1:1.0')].sort());

    // One tag re-pushed with content never seen (SBOMs are by digest: content seen under another name would be re-matched):
    // only it is pulled, and its new findings are under its name.
    front.setLimit(1);
    front.openWindow();
    front.reset();
    front.repush(SAMPLE_IMAGES.noOs, 'e2e/debian-app-1:1.0');
    summary = await run(updated);
    const fourth = front.counts();
    t.diagnostic(`run 4 (no-os re-pushed, quota 1): ${JSON.stringify(fourth)} by repository ${JSON.stringify(front.pullsByRepository())}`);
    assert.equal(summary.releases[0]!.result?.failed, 0, JSON.stringify(summary.releases[0]));
    assert.deepEqual(front.pullsByRepository(), { 'e2e/no-os': 1 });
    const summary4 = JSON.parse(await readFile(join(h.reportsDir, 'cves-e2e.summary.json'), 'utf8')) as ReleaseReportSummary;
    assert.deepEqual(summary4.scanPaths, { rematched: 4, pulled: 1 });
    assert.deepEqual(summary4.pullsByRegistry, { [front.host]: 1 }, 'the summary counts pulls per registry');
    // The site says how each image was scanned, and its digest.
    const page = async (image: string) => readFile(join(h.reportsDir, 'site', imagePageName(front.ref(image))), 'utf8');
    const noOsPage = await page(SAMPLE_IMAGES.noOs);
    assert.match(noOsPage, /pulled and scanned in full; digest <code>sha256:[0-9a-f]{64}<\/code>/);
    assert.match(await page(SAMPLE_IMAGES.alpine), /re-matched from its stored SBOM \(no pull\); digest <code>sha256:/);
    assert.match(await readFile(join(h.reportsDir, 'site', releasePageName('e2e')), 'utf8'), /4 images re-matched from their SBOMs \(no pull\), 1 pulled \(1 from 127\.0\.0\.1:\d+\)/);
    const scans4 = await results(summary.runKey);
    assert.deepEqual(scans4.map((s) => s.scannedAs), refs.map((r) => (r === front.ref(SAMPLE_IMAGES.noOs) ? 'pulled' : 'rematched')));
    const rows4 = parseReportCsv(await h.readReport('e2e'), 'cves-e2e.csv');
    assert.ok(rows4.some((r) => r.image === front.ref(SAMPLE_IMAGES.noOs) && r.vulnerabilityId === 'CVE-2099-2001'), 'the re-pushed tag reports its new content under its own name');
  });

  /** A harness, a front and a run function over `images` (sample repositories) through the front. */
  async function setUp(images: string[], quota: { limit: number; windowMs: number }, extra: { rateLimitBackoffSeconds?: number; rateLimitDeadlineSeconds?: number } = {}) {
    const front = await startHubFront({ target: services.registry.host, ...quota });
    const h = await Harness.create('image-scanning-rematch-');
    const deps = h.deps({
      bin: trivy,
      crane: crane as string,
      version: trivyVersion(trivy),
      timeoutSeconds: 120,
      rateLimitDeadlineSeconds: extra.rateLimitDeadlineSeconds ?? 600,
      rateLimitBackoffSeconds: extra.rateLimitBackoffSeconds ?? 1,
      cacheDir: await copySampleCache(join(h.dir, 'trivy-cache')),
    });
    const refs = images.map((i) => front.ref(i));
    const list = await h.writeList('images.txt', refs);
    /** `only`: the run scans just these (a first run that leaves the others unseen); `watch` sees the run's handle while it runs. */
    const run = async (options: { only?: string[]; maxConcurrentScans?: number; watch?: (handle: WorkflowHandle) => Promise<void> } = {}) => {
      const images = options.only ? await h.writeList(`only-${randomUUID()}.txt`, options.only.map((i) => front.ref(i))) : list;
      const worker = await testWorker(services.env, deps, `rematch-${randomUUID()}`, { maxConcurrentActivityTaskExecutions: options.maxConcurrentScans ?? 4 });
      return worker.runUntil(async () => {
        const handle = await startRun(services.env.client, { releases: [{ name: 'e2e', images }], maxConcurrentScans: options.maxConcurrentScans }, { taskQueue: worker.options.taskQueue });
        const watching = options.watch?.(handle);
        const summary = await handle.result();
        await watching;
        return summary;
      });
    };
    const scans = async (runKey: string) => Promise.all(refs.map(async (ref) => (await deps.store.readJson<ImageScan>(storeKeys.result(runKey, ref)))!));
    return { front, h, deps, refs, run, scans };
  }

  /** Polls the release's own progress while the run lasts: what a person's progress line is made of. */
  async function watchRelease(handle: WorkflowHandle, seen: ReleaseProgress[], details: string[] = []): Promise<void> {
    const child = services.env.client.workflow.getHandle(`${handle.workflowId}/e2e`);
    const ended = handle.result().then(
      () => true,
      () => true,
    );
    let done = false;
    void ended.then(() => (done = true));
    while (!done) {
      const p = await child.query(releaseProgressQuery).catch(() => undefined);
      if (p) seen.push(p);
      // The Web UI's "current details" of the workflow (the SDK's metadata query).
      const meta = await child.query<{ currentDetails?: string }>('__temporal_workflow_metadata').catch(() => undefined);
      if (meta?.currentDetails) details.push(meta.currentDetails);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  it('re-matches unchanged images while others wait on a spent quota, then completes when the window opens, with no failed scan', async (t) => {
    // Three images need pulls, two can be re-matched; a quota of 1 per 10 s; a window of 2 scans.
    // Waiting inside the scan would hold both slots with images waiting; put off, they hold none.
    const pulls = [SAMPLE_IMAGES.noOs, SAMPLE_IMAGES.goApp, 'e2e/alpine-app-1:1.0'];
    const rematchable = [SAMPLE_IMAGES.alpine, SAMPLE_IMAGES.debian];
    const { front, run, scans, refs } = await setUp([...pulls, ...rematchable], { limit: 100, windowMs: 10_000 });
    t.after(() => front.stop());
    await run({ only: rematchable });
    front.setLimit(1);
    front.openWindow();
    front.reset();
    const seen: ReleaseProgress[] = [];
    const details: string[] = [];
    let history: unknown[] = [];
    let recorded: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> | undefined;
    const started = Date.now();
    const summary = await run({
      maxConcurrentScans: 2,
      watch: async (handle) => {
        await watchRelease(handle, seen, details);
        recorded = await services.env.client.workflow.getHandle(`${handle.workflowId}/e2e`).fetchHistory();
        history = recorded.events ?? [];
      },
    });
    const elapsed = Date.now() - started;
    t.diagnostic(`quota 1 per 10 s, 3 pulls and 2 re-matches, window 2: ${elapsed} ms, ${JSON.stringify(front.counts())}, pulls ${JSON.stringify(front.pullsByRepository())}`);
    assert.equal(summary.releases[0]!.result?.failed, 0, JSON.stringify(summary.releases[0]));
    assert.deepEqual(front.pullsByRepository(), { 'e2e/no-os': 1, 'e2e/go-app': 1, 'e2e/alpine-app-1': 1 });
    assert.ok(front.counts().refused >= 1, 'pulls past the quota were refused, then put off');
    assert.ok(elapsed >= 18_000, `the run waited for two windows to open (${elapsed} ms)`);
    assert.deepEqual((await scans(summary.runKey)).map((s) => s.scannedAs), refs.map((r) => (rematchable.some((i) => r.endsWith(`/${i}`)) ? 'rematched' : 'pulled')));

    // While images waited, the re-matchable ones were done: 1 pulled + 2 re-matched, with 2 waiting.
    const whileWaiting = seen.filter((p) => (p.waiting ?? []).length > 0);
    assert.ok(whileWaiting.length > 0, 'the progress said something was waiting');
    assert.ok(whileWaiting.some((p) => p.done >= 3), `re-matched images finished while others waited: ${JSON.stringify(whileWaiting.map((p) => [p.done, p.inFlight, p.waiting?.[0]?.count]))}`);
    // What was waiting, on which registry, and the registry's own ratelimit-remaining figure (0 once the quota is spent).
    const spent = whileWaiting.find((p) => p.waiting![0]!.remaining === '0;w=10');
    assert.ok(spent, `the figure the registry sent on the HEAD: ${JSON.stringify(whileWaiting.map((p) => p.waiting))}`);
    const w = spent.waiting![0]!;
    assert.equal(w.registry, front.host);
    assert.ok(w.images.length > 0 && w.images.every((i) => pulls.some((p) => i === front.ref(p))), JSON.stringify(w.images));
    const snapshot = { phase: 'scanning', done: spent.done, total: 5, unit: 'images', waiting: spent.waiting };
    const reporter = new ProgressReporter(new PassThrough());
    reporter.update(snapshot);
    const line = reporter.line(snapshot);
    t.diagnostic(`progress line: ${line}`);
    assert.ok(line.includes(`waiting on ${front.host} (ratelimit-remaining 0;w=10) until `) && line.includes(w.images[0]!), line);
    // The Web UI: each put-off scan's timer says what waits, on which registry, with the figure.
    const timers = (history as { timerStartedEventAttributes?: unknown; userMetadata?: { summary?: Payload } }[])
      .filter((e) => e.timerStartedEventAttributes)
      .map((e) => (e.userMetadata?.summary ? defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary) : ''));
    assert.ok(timers.length >= 2, `a timer per put-off scan: ${timers.length}`);
    for (const text of timers) assert.ok(text.includes(`waiting on ${front.host}'s pull quota (ratelimit-remaining `), text);
    assert.ok(timers.some((text) => text.includes('(ratelimit-remaining 0;w=10, limit 1;w=10)')), timers.join(' | '));
    assert.ok(
      details.some((d) => d.includes(`waiting on ${front.host}'s pull quota (ratelimit-remaining 0;w=10, limit 1;w=10)`) && pulls.some((p) => d.includes(front.ref(p)))),
      `the workflow's current details name what waits: ${JSON.stringify([...new Set(details)])}`,
    );
    // The put-off scans' history (patch marker, timers, retried activities) replays without non-determinism.
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, recorded!, 'deferred-run/e2e');
    // `IMAGE_SCANNING_RECORD_HISTORIES=test/histories` keeps it for replay.test.ts (done once, when the patch was made).
    if (process.env.IMAGE_SCANNING_RECORD_HISTORIES) {
      await writeFile(join(process.env.IMAGE_SCANNING_RECORD_HISTORIES, 'deferred-run--e2e.json'), historyToJSON(recorded!));
    }
    // Which image pulls first is a race; the two others wait, each named by its timer.
    const named = new Set(timers.map((text) => pulls.find((p) => text.endsWith(`: ${front.ref(p)}`))));
    assert.ok(!named.has(undefined) && named.size >= 2, timers.join(' | '));
  });

  it('fails exactly the images still waiting at the run deadline, each named, while re-matchable ones complete', async (t) => {
    const images = [SAMPLE_IMAGES.alpine, SAMPLE_IMAGES.debian, SAMPLE_IMAGES.goApp, SAMPLE_IMAGES.noOs];
    const { front, run, refs, scans } = await setUp(images, { limit: 100, windowMs: 10 * 60_000 }, { rateLimitDeadlineSeconds: 4 });
    t.after(() => front.stop());
    await run({ only: [SAMPLE_IMAGES.noOs] });
    front.setLimit(1);
    front.openWindow();
    front.reset();
    const summary = await run({ maxConcurrentScans: 2 });
    const result = summary.releases[0]!.result!;
    t.diagnostic(`quota 1 per 10 min, deadline 4 s: ${JSON.stringify(front.counts())}; ${JSON.stringify(result.failedSample)}`);
    assert.equal(front.counts().manifestGets, 1);
    assert.equal(result.failed, 2);
    assert.deepEqual(result.failedByType, { RegistryRateLimited: 2 });
    const pulled = Object.keys(front.pullsByRepository());
    const waiting = refs.filter((r) => !r.endsWith(`/${SAMPLE_IMAGES.noOs}`) && !pulled.some((p) => r.includes(`/${p}:`)));
    assert.equal(waiting.length, 2);
    for (const ref of waiting) assert.ok(result.failedSample.some((m) => m.includes(ref) && /deadline/.test(m)), `${ref} is named: ${result.failedSample.join(' | ')}`);
    assert.equal(result.failedSample.length, 2, 'no other image failed');
    assert.equal((await scans(summary.runKey)).find((s) => s.image.endsWith(`/${SAMPLE_IMAGES.noOs}`))?.scannedAs, 'rematched');
  });

  it('takes a full scan, with a warning and nothing lost, for a corrupt, truncated or other-version SBOM, and for a registry without HEAD', async (t) => {
    const images = [SAMPLE_IMAGES.alpine, SAMPLE_IMAGES.goApp, SAMPLE_IMAGES.debian];
    const { front, h, deps, run, scans, refs } = await setUp(images, { limit: 100, windowMs: 60 * 60_000 });
    t.after(() => front.stop());
    const first = await run();
    const csv = await h.readReport('e2e');
    const firstScans = await scans(first.runKey);
    const version = trivyVersion(trivy)!;
    const sbomPath = (i: number) => deps.store.path(sbomKeys.sbom(firstScans[i]!.digest!, version));
    await writeFile(sbomPath(0), '{ this is not JSON');
    await truncate(sbomPath(1), 200);
    const other = JSON.parse(await readFile(sbomPath(2), 'utf8')) as { sbom: { metadata: { tools: { components: { name: string; version: string }[] } } } };
    for (const c of other.sbom.metadata.tools.components) if (c.name === 'trivy') c.version = '0.0.1';
    await writeFile(sbomPath(2), JSON.stringify(other));
    front.reset();
    capturedLogs.length = 0;
    const second = await run();
    t.diagnostic(`bad SBOMs: ${JSON.stringify(front.counts())}`);
    assert.equal(second.releases[0]!.result?.failed, 0);
    assert.deepEqual((await scans(second.runKey)).map((s) => s.scannedAs), ['pulled', 'pulled', 'pulled']);
    assert.equal(front.counts().manifestGets, 3);
    for (const ref of refs) assert.ok(capturedLogs.some((l) => l.includes(`stored SBOM of ${ref} not used`)), `a warning names ${ref}`);
    assert.ok(capturedLogs.some((l) => /made by Trivy 0\.0\.1/.test(l)), 'the other version is named');
    assert.equal(await h.readReport('e2e'), csv, 'nothing lost: the same CSV');
    // The SBOMs were made again: the next run re-matches.
    front.reset();
    const third = await run();
    assert.deepEqual((await scans(third.runKey)).map((s) => s.scannedAs), ['rematched', 'rematched', 'rematched']);
    assert.equal(front.counts().manifestGets, 0);

    // A registry that cannot be asked with HEAD: full scans (crane's fallback GET is refused as an answer).
    front.refuseHead(true);
    front.reset();
    const fourth = await run();
    t.diagnostic(`no HEAD: ${JSON.stringify(front.counts())}`);
    assert.equal(fourth.releases[0]!.result?.failed, 0);
    assert.deepEqual((await scans(fourth.runKey)).map((s) => s.scannedAs), ['pulled', 'pulled', 'pulled']);
    assert.equal(await h.readReport('e2e'), csv);
  });
});
