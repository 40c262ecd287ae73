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
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { findCrane } from '../../client/crane-cli.js';
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
import { capturedLogs, testWorker } from '../helpers/temporal.js';
import { copySampleCache, locateSample, SAMPLE_IMAGES } from './offline-sample.js';
import { useSampleServices } from './sample-services.js';

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
    const run = async () => {
      const worker = await testWorker(services.env, deps, `rematch-${randomUUID()}`, { maxConcurrentActivityTaskExecutions: 4 });
      return worker.runUntil(async () => (await startRun(services.env.client, { releases: [{ name: 'e2e', images: list }] }, { taskQueue: worker.options.taskQueue })).result());
    };
    const scans = async (runKey: string) => Promise.all(refs.map(async (ref) => (await deps.store.readJson<ImageScan>(storeKeys.result(runKey, ref)))!));
    return { front, h, deps, refs, run, scans };
  }

  it('waits on a spent quota and completes when the window opens, with no failed scan', async (t) => {
    const images = [SAMPLE_IMAGES.alpine, SAMPLE_IMAGES.debian, SAMPLE_IMAGES.noOs, SAMPLE_IMAGES.goApp];
    const { front, run } = await setUp(images, { limit: 2, windowMs: 8_000 });
    t.after(() => front.stop());
    const started = Date.now();
    const summary = await run();
    const elapsed = Date.now() - started;
    t.diagnostic(`quota 2 per 8 s, 4 images: ${elapsed} ms, ${JSON.stringify(front.counts())}`);
    assert.equal(summary.releases[0]!.result?.failed, 0, JSON.stringify(summary.releases[0]));
    assert.equal(front.counts().manifestGets, 4);
    assert.ok(front.counts().refused >= 1, 'pulls past the quota were refused, then waited for');
    assert.ok(elapsed >= 7_000, `the run waited for the window (${elapsed} ms)`);
  });

  it('fails exactly the images still waiting at the run deadline, each named', async (t) => {
    const images = [SAMPLE_IMAGES.alpine, SAMPLE_IMAGES.debian, SAMPLE_IMAGES.goApp];
    const { front, run, refs } = await setUp(images, { limit: 1, windowMs: 10 * 60_000 }, { rateLimitDeadlineSeconds: 4 });
    t.after(() => front.stop());
    const summary = await run();
    const result = summary.releases[0]!.result!;
    t.diagnostic(`quota 1 per 10 min, deadline 4 s: ${JSON.stringify(front.counts())}; ${JSON.stringify(result.failedSample)}`);
    assert.equal(front.counts().manifestGets, 1);
    assert.equal(result.failed, 2);
    assert.deepEqual(result.failedByType, { RegistryRateLimited: 2 });
    const pulled = Object.keys(front.pullsByRepository());
    const waiting = refs.filter((r) => !pulled.some((p) => r.includes(`/${p}:`)));
    assert.equal(waiting.length, 2);
    for (const ref of waiting) assert.ok(result.failedSample.some((m) => m.includes(ref) && /deadline/.test(m)), `${ref} is named: ${result.failedSample.join(' | ')}`);
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
