// The real Trivy at real-world timing: a registry that holds back every layer for seconds, nine
// scans at once, the layer cache in a real Redis (Debian's redis-server), through the workflow
// and the scan-image activity's own command line. What this guards: concurrent scans never fail
// on Trivy's DB or cache lock (Trivy before v0.68.0 failed a second scan after 5 s), a re-run of
// unchanged images downloads no layer, and cached findings equal uncached ones byte for byte.
//
// Needs what test/e2e/real-trivy.test.ts needs, and redis-server (CI installs Debian's). Skipped
// with the reason otherwise, unless IMAGE_SCANNING_E2E=required.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import { runTrivy } from '../../activities/scan/run-trivy.js';
import { findRedisServer, startCacheServer, type CacheServer } from '../../cache/embedded-redis.js';
import { redisCommands, parseRedisUrl } from '../../cache/redis-protocol.js';
import { startRun } from '../../client/scan.js';
import { classifyTrivyFailure } from '../../core/failures.js';
import { parseReportCsv } from '../../core/render/csv.js';
import type { RunSummary } from '../../core/run.js';
import { freePort } from '../../host/ports.js';
import { startSlowRegistry, overlap, type SlowRegistry } from '../fakes/slow-registry.js';
import { Harness, tempDir } from '../helpers/harness.js';
import { createTestEnvironment, testWorker, workflowBundle } from '../helpers/temporal.js';
import { applicationFailure, assign, record, run } from '../activities/support.js';
import { copySampleCache, EXPECTED_FINDINGS, locateSample, SAMPLE_IMAGES, SHARED_BASE_IMAGES, startSampleRegistry, type SampleRegistry } from './offline-sample.js';

const sample = await locateSample();
const redisServer = await findRedisServer({ install: false }).catch((error: Error) => error);
const skip =
  'missing' in sample
    ? `slow-registry end-to-end test skipped: ${sample.missing}`
    : redisServer instanceof Error
      ? `slow-registry end-to-end test skipped: ${redisServer.message}`
      : false;
if (skip && process.env.IMAGE_SCANNING_E2E === 'required') throw new Error(`IMAGE_SCANNING_E2E=required, but ${skip}`);

/** Longer than Trivy's lock timeouts (5 s for trivy.db before v0.68.0 and for the fs cache). */
const LAYER_DELAY_MS = 8_000;
const LOCK_TIMEOUT_MS = 5_000;
const WINDOW = 9;

describe('the real Trivy behind a slow registry, with the shared layer cache', { skip }, () => {
  let env: TestWorkflowEnvironment;
  let registry: SampleRegistry;
  let slow: SlowRegistry;
  let cache: CacheServer;
  let cacheDir: string;
  const trivy = 'trivy' in sample ? sample.trivy : '';
  const images = () => [...Object.values(SAMPLE_IMAGES).filter((i) => i !== SAMPLE_IMAGES.missing), ...SHARED_BASE_IMAGES.map(([ref]) => ref)].map((i) => slow.ref(i));

  before(async () => {
    registry = await startSampleRegistry();
    slow = await startSlowRegistry({ target: registry.host, layerDelayMs: LAYER_DELAY_MS });
    const dir = await tempDir('image-scanning-slow-');
    cacheDir = await copySampleCache(join(dir, 'trivy-cache'));
    cache = await startCacheServer({ server: redisServer as string, dir: join(dir, 'redis'), port: await freePort() });
    env = await createTestEnvironment();
    await workflowBundle();
  });

  after(async () => {
    await env?.teardown();
    await cache?.stop();
    await slow?.stop();
    await registry?.stop();
  });

  /** One run of the whole workflow over every sample image, with its own store and reports. */
  async function scanAll(cacheBackend: string): Promise<{ h: Harness; summary: RunSummary; ms: number }> {
    const h = await Harness.create('image-scanning-slow-run-');
    const deps = h.deps({ bin: trivy, cacheDir, cacheBackend, timeoutSeconds: 120 });
    const list = await h.writeList('images.txt', images());
    const taskQueue = `slow-${randomUUID()}`;
    const worker = await testWorker(env, deps, taskQueue, { maxConcurrentActivityTaskExecutions: WINDOW + 4 });
    slow.reset();
    const started = Date.now();
    const summary = await worker.runUntil(async () => {
      const handle = await startRun(env.client, { releases: [{ name: 'slow', images: list }], maxConcurrentScans: WINDOW }, { taskQueue });
      return handle.result();
    });
    return { h, summary, ms: Date.now() - started };
  }

  it(`overlaps ${WINDOW} scans for longer than the lock timeout with none failing; a re-run downloads no layer; cached CSVs equal uncached ones byte for byte`, async (t) => {
    const expected = [
      ...EXPECTED_FINDINGS.map(([key, ...rest]) => [slow.ref(SAMPLE_IMAGES[key]), ...rest].join(' ')),
      ...SHARED_BASE_IMAGES.flatMap(([ref, base]) => EXPECTED_FINDINGS.filter(([key]) => key === base).map(([, ...rest]) => [slow.ref(ref), ...rest].join(' '))),
    ].sort();

    // The reference: fresh, uncached standalone scans (no layer cache at all) on the same DB.
    const uncached = await scanAll('memory');
    const uncachedCsv = await uncached.h.readReport('slow');
    const rows = parseReportCsv(uncachedCsv, 'cves-slow.csv');
    assert.deepEqual(rows.map((r) => [r.image, r.packageName, r.cells.installed_version, r.vulnerabilityId, r.cells.severity, r.cells.patched_version].join(' ')).sort(), expected);

    // First run on an empty shared cache: every scan in flight at once, none failing.
    const first = await scanAll(cache.url);
    const firstRelease = first.summary.releases[0]!;
    assert.equal(firstRelease.status, 'completed', firstRelease.error);
    assert.equal(firstRelease.result?.failed, 0, `failed scans: ${firstRelease.result?.failedSample.join('; ')}`);
    assert.equal(firstRelease.result?.total, images().length);
    const firstOverlap = overlap(slow.served, 8);
    const distinctLayers = new Set(slow.downloads('layer').map((r) => r.digest));
    const firstLayers = slow.downloads('layer').length;
    t.diagnostic(
      `first run: ${images().length} images in ${first.ms} ms; at most ${firstOverlap.maxConcurrent} scans in flight, >= 8 of them together for ${firstOverlap.overlapMs} ms; ` +
        `${firstLayers} layer downloads of ${distinctLayers.size} distinct layers`,
    );
    assert.ok(firstOverlap.maxConcurrent >= 8, `at least 8 scans in flight at once (saw ${firstOverlap.maxConcurrent})`);
    assert.ok(firstOverlap.overlapMs > LOCK_TIMEOUT_MS, `8 or more scans overlapped for longer than ${LOCK_TIMEOUT_MS} ms (saw ${firstOverlap.overlapMs} ms)`);
    assert.ok(distinctLayers.size >= images().length, 'each image has a layer of its own, and each was downloaded');
    assert.equal(await uncached.h.readReport('slow'), uncachedCsv);
    assert.equal(await first.h.readReport('slow'), uncachedCsv, 'the first cached run writes the same CSV as uncached scans');

    // The same run again: manifests and configs only, every layer analysis from the cache.
    const again = await scanAll(cache.url);
    const againRelease = again.summary.releases[0]!;
    assert.equal(againRelease.status, 'completed', againRelease.error);
    assert.equal(againRelease.result?.failed, 0, `failed scans: ${againRelease.result?.failedSample.join('; ')}`);
    t.diagnostic(`re-run: ${again.ms} ms; ${slow.downloads('manifest').length} manifests, ${slow.downloads('config').length} configs, ${slow.downloads('layer').length} layers downloaded`);
    assert.equal(slow.downloads('layer').length, 0, 'an unchanged re-run downloads no layer');
    assert.ok(slow.downloads('manifest').length >= images().length && slow.downloads('config').length >= images().length, 'each image was still looked up');
    assert.equal(await again.h.readReport('slow'), uncachedCsv, 'findings from the cache equal those of a fresh, uncached scan, byte for byte');
    const keys = await redisCommands(parseRedisUrl(cache.url), [['DBSIZE']]);
    assert.ok(Number(keys[0]!.slice(1)) >= distinctLayers.size, `the cache holds an analysis per layer (${keys[0]})`);
  });

  it('names the lock contention of a file cache shared by two scans (the setting the project refuses) ScannerLockContention', async () => {
    // Two scans on one fs cache: the first holds fanal.db while its layer is held back; the
    // second gives up after Trivy's 5 s lock timeout. This is what TRIVY_CACHE_BACKEND=fs would do.
    const dir = await copySampleCache(join(await tempDir('image-scanning-lock-'), 'cache'));
    const scan = (image: string) =>
      runTrivy(trivy, ['image', '--format', 'json', '--scanners', 'vuln', '--quiet', '--cache-dir', dir, '--skip-db-update', '--skip-java-db-update', image], {
        timeoutMs: 60_000,
        env: { TRIVY_CACHE_BACKEND: 'fs' },
      });
    const runs = await Promise.all([scan(slow.ref(SAMPLE_IMAGES.alpine)), new Promise((r) => setTimeout(r, 300)).then(() => scan(slow.ref(SAMPLE_IMAGES.debian)))]);
    const failed = runs.filter((r) => r.exitCode !== 0);
    assert.equal(failed.length, 1, `one of the two scans lost the lock: ${runs.map((r) => r.exitCode).join(', ')}`);
    const failure = classifyTrivyFailure(failed[0]!.stderr);
    assert.equal(failure.type, 'ScannerLockContention', failed[0]!.stderr);
    assert.equal(failure.permanent, false);
    assert.match(failure.summary, /TRIVY_CACHE_BACKEND=redis/);
  });

  it('fails a scan whose cache is down with CacheUnavailable, naming the cache but not its password, before Trivy downloads anything', async () => {
    const h = await Harness.create('image-scanning-cache-down-');
    const port = await freePort();
    const deps = h.deps({ bin: trivy, cacheDir, cacheBackend: `redis://:s3cret-pass@127.0.0.1:${port}`, timeoutSeconds: 60 });
    await assign(deps, 'run-cache-down', 'r', [record(slow.ref(SAMPLE_IMAGES.alpine))]);
    slow.reset();
    const failure = await applicationFailure(run(createActivities(deps).scanImage, { runKey: 'run-cache-down', release: 'r', index: 0 }));
    assert.equal(failure.type, 'CacheUnavailable');
    assert.match(failure.message, new RegExp(`redis://\\*\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(failure.message, /s3cret-pass/);
    assert.equal(slow.served.length, 0, 'no request reached the registry');

    // Trivy's own answer when the cache refuses it (here a wrong password) is classified the same.
    const wrong = cache.url.replace(/:[^:@/]+@/, ':wrong-password@');
    const out = await runTrivy(trivy, ['image', '--format', 'json', '--scanners', 'vuln', '--quiet', '--cache-dir', cacheDir, '--skip-db-update', '--skip-java-db-update', registry.ref(SAMPLE_IMAGES.debian)], {
      timeoutMs: 60_000,
      env: { TRIVY_CACHE_BACKEND: wrong },
    });
    assert.notEqual(out.exitCode, 0);
    const classified = classifyTrivyFailure(out.stderr);
    assert.equal(classified.type, 'CacheUnavailable', out.stderr);
    assert.doesNotMatch(classified.summary, /wrong-password/);
  });
});
