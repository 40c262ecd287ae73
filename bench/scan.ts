/**
 * Scanning at real-world timing: the real Trivy on the sample registry with realistic images,
 * behind a slow front (every layer held back, then trickled out), side by side in one run:
 *
 *  (a) the seed's way: one `trivy image` after another on a fresh file cache (what the old
 *      weekly job did: sequential, so its fs cache never contends);
 *  (b) this project's first run on an empty shared cache: scanReleases on the embedded dev
 *      server, an in-process worker, a window of 8, the Redis layer cache;
 *  (c) the same run again, nothing changed, with re-matching off (every image pulled, layers cached);
 *  (d) the same run again on the re-match path (issue 21): a free HEAD a tag, `trivy sbom` on the
 *      SBOM (b) made and verified, no pull.
 *
 * For each: wall time, layer downloads and bytes against the distinct layers, Trivy CPU seconds
 * (the scanner launcher's reaped children), peak RSS of one Trivy and of the cache service.
 * Targets (issue 13): (c) downloads no layer and takes at most 10 % of (b); (b) is at least 5x
 * faster than (a). Issue 21: (d) makes 0 counted pulls (manifest GETs) and its wall is at most
 * (c)'s; (b), which now also makes and checks each SBOM, stays at least 5x faster than (a). A last
 * table projects a weekly run of 1,000 images from the measured per-image costs.
 *
 *   npm run bench:scan [-- --images 40 --bases 4 --base-mb 30 --app-mb 10 --layer-delay-ms 5000 --mb-per-s 10 --window 8]
 *
 * The images (built once into .tools/bench/, rebuilt when the spec changes) share an OS layer
 * (the sample's Alpine or Debian) and a base layer of incompressible bytes, and add one of their
 * own. Needs what the end-to-end test needs, and redis-server. Prints Markdown tables.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { FolderResultStore } from '../activities/store/result-store.js';
import { QUIET_TRIVY } from '../activities/scan/trivy-args.js';
import { runTrivy } from '../activities/scan/run-trivy.js';
import { findRedisServer, startCacheServer } from '../cache/embedded-redis.js';
import { startRun } from '../client/scan.js';
import { findTemporalCli } from '../client/temporal-cli.js';
import { trivyVersion } from '../client/trivy-cli.js';
import { findCrane } from '../client/crane-cli.js';
import { PROJECT_ROOT } from '../host/paths.js';
import { freePort } from '../host/ports.js';
import { startSlowRegistry, type SlowRegistry } from '../test/fakes/slow-registry.js';
import { copySampleCache, locateSample, SAMPLE, startSampleRegistry } from '../test/e2e/offline-sample.js';
import { createWorker } from '../worker/worker.js';
import { launcherCpuOf, load, machine, MiB, pass, seconds, startBenchDevServer, table } from './support.js';

const { values: opts } = parseArgs({
  options: {
    images: { type: 'string', default: '40' },
    bases: { type: 'string', default: '4' },
    'base-mb': { type: 'string', default: '30' },
    'app-mb': { type: 'string', default: '10' },
    'layer-delay-ms': { type: 'string', default: '5000' },
    'mb-per-s': { type: 'string', default: '10' },
    window: { type: 'string', default: '8' },
  },
});
const IMAGES = Number(opts.images);
const BASES = Number(opts.bases);
const WINDOW = Number(opts.window);
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The bench images: image i sits on base i % BASES (an OS layer and a random base layer) and adds its own. */
function imageSpec(): unknown[] {
  const os = ['alpine-vulnerable', 'debian-vulnerable'].map((name) => join(PROJECT_ROOT, 'test', 'fixtures', 'e2e', 'images', name));
  return Array.from({ length: IMAGES }, (_, i) => ({
    ref: `bench/app-${String(i).padStart(3, '0')}:1.0`,
    layers: [
      { rootfs: os[i % BASES % os.length] },
      { random: { bytes: Number(opts['base-mb']) * 1_000_000, seed: `bench-base-${i % BASES}` } },
      { random: { bytes: Number(opts['app-mb']) * 1_000_000, seed: `bench-app-${i}` } },
    ],
  }));
}

/** Builds the layout once for a given spec; the spec sits beside it so a change rebuilds. */
async function benchLayout(): Promise<string> {
  const dir = join(PROJECT_ROOT, '.tools', 'bench');
  const spec = JSON.stringify(imageSpec(), null, 1);
  const specFile = join(dir, 'spec.json');
  const layout = join(dir, 'images');
  if (existsSync(specFile) && readFileSync(specFile, 'utf8') === spec && existsSync(join(layout, 'index.json'))) return layout;
  await mkdir(dir, { recursive: true });
  await rm(specFile, { force: true });
  const pending = join(dir, 'spec.pending.json');
  await writeFile(pending, spec);
  log(`building ${IMAGES} bench images into ${layout}`);
  const built = spawnSync(SAMPLE.imagesTool, ['build', '-spec', pending, '-out', layout], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error(`fixture-images build failed (${built.status})`);
  // Written last: a build cut short is redone next time.
  await writeFile(specFile, spec);
  await rm(pending, { force: true });
  return layout;
}

/** Peak RSS of any one Trivy process, sampled every 50 ms from /proc (VmHWM of each, while it lives). */
function trivyPeakSampler(): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'trivy') continue;
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
        if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
      } catch {
        // gone while we looked
      }
    }
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

function peakRssOf(pid: number | undefined): number {
  if (!pid) return NaN;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return hwm ? Number(hwm[1]) * 1024 : NaN;
}

interface Measured {
  label: string;
  wallMs: number;
  /** Manifest GETs answered: what Docker Hub counts as pulls. */
  pulls: number;
  layers: number;
  layerBytes: number;
  trivyCpu: number;
  trivyPeak: number;
  cachePeak?: number;
  failed: number;
}

/** Counted pulls, as Docker Hub counts them: manifest GETs answered (HEADs are free). */
function countedPulls(slow: SlowRegistry): number {
  return slow.served.filter((r) => r.kind === 'manifest' && r.method === 'GET' && r.status === 200).length;
}

function measureRegistry(slow: SlowRegistry): { layers: number; layerBytes: number } {
  const downloads = slow.downloads('layer');
  return { layers: downloads.length, layerBytes: downloads.reduce((n, r) => n + r.bytes, 0) };
}

async function main(): Promise<void> {
  const sample = await locateSample();
  if ('missing' in sample) throw new Error(sample.missing);
  const redisServer = await findRedisServer({ install: false });
  const crane = await findCrane({ install: true, log });
  const version = trivyVersion(sample.trivy);
  const work = await mkdtemp(join(tmpdir(), 'image-scanning-bench-scan-'));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  log(`machine: ${machine()}; load average ${load()}; Trivy ${trivyVersion(sample.trivy)}`);
  const layout = await benchLayout();
  const registry = await startSampleRegistry('127.0.0.1:0', layout);
  const slow = await startSlowRegistry({ target: registry.host, layerDelayMs: Number(opts['layer-delay-ms']), bytesPerSecond: Number(opts['mb-per-s']) * 1_000_000 });
  const refs = imageSpec().map((s) => slow.ref((s as { ref: string }).ref));
  const cli = await findTemporalCli({ install: true, log });
  const server = await startBenchDevServer(cli, join(work, 'temporal.db'));
  const cache = await startCacheServer({ server: redisServer, dir: join(work, 'redis'), port: await freePort() });
  const results: Measured[] = [];
  let distinct = { layers: 0, bytes: 0 };
  try {
    // (a) sequential, on a fresh fs cache that the scans share one after another.
    const aCache = await copySampleCache(join(work, 'a-cache'));
    slow.reset();
    const cpu0 = launcherCpuOf(process.pid);
    const sampler = trivyPeakSampler();
    let failedA = 0;
    const startedA = Date.now();
    for (const ref of refs) {
      const run = await runTrivy(sample.trivy, ['image', '--format', 'json', '--scanners', 'vuln', '--quiet', ...QUIET_TRIVY, '--cache-dir', aCache, '--skip-db-update', '--skip-java-db-update', '--output', join(work, 'a.json'), ref], {
        timeoutMs: 600_000,
        env: { TRIVY_CACHE_BACKEND: 'fs' },
      });
      if (run.exitCode !== 0) failedA++;
    }
    const wallA = Date.now() - startedA;
    const registryA = measureRegistry(slow);
    // Every layer digest the manifests named, and its size: what a run must fetch at least once.
    const sizes = new Map<string, number>();
    for (const r of slow.downloads('layer')) sizes.set(r.digest!, r.bytes);
    distinct = { layers: sizes.size, bytes: [...sizes.values()].reduce((a, b) => a + b, 0) };
    results.push({ label: '(a) seed: one `trivy image` after another, fresh fs cache', wallMs: wallA, pulls: countedPulls(slow), ...registryA, trivyCpu: launcherCpuOf(process.pid) - cpu0, trivyPeak: sampler.stop(), failed: failedA });
    log(`(a) ${seconds(wallA)}`);

    // (b) and (c): the product's run, twice, on one shared Redis cache and one DB folder.
    const connection = await Connection.connect({ address: server.address });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    const cacheDir = await copySampleCache(join(work, 'trivy-cache'));
    const list = join(work, 'images.txt');
    await writeFile(list, `${refs.join('\n')}\n`);
    // One result store for the three runs: (d) re-matches the SBOMs (b) made.
    const store = new FolderResultStore(join(work, 'store'));
    const runs: [string, boolean][] = [
      ['(b) this project, first run (empty cache; makes and checks each SBOM)', true],
      ['(c) this project, unchanged re-run, re-matching off', false],
      ['(d) this project, unchanged re-run, re-match path', true],
    ];
    for (const [label, rematch] of runs) {
      const dir = join(work, randomUUID());
      const taskQueue = `bench-scan-${randomUUID()}`;
      const worker = await createWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        maxConcurrentActivities: WINDOW + 4,
        deps: {
          store,
          reportsDir: join(dir, 'reports'),
          trivy: {
            bin: sample.trivy,
            cacheDir,
            cacheBackend: cache.url,
            timeoutSeconds: 600,
            severities: [],
            rateLimitBackoffSeconds: 300,
            heartbeatSeconds: 5,
            ...(rematch ? { crane, version, rateLimitDeadlineSeconds: 3600 } : {}),
          },
        },
      });
      slow.reset();
      const cpu1 = launcherCpuOf(process.pid);
      const peak = trivyPeakSampler();
      const started = Date.now();
      const summary = await worker.runUntil(async () => {
        const handle = await startRun(client, { releases: [{ name: 'bench', images: list }], maxConcurrentScans: WINDOW, skipPublish: true }, { taskQueue });
        return handle.result();
      });
      const wallMs = Date.now() - started;
      results.push({
        label,
        wallMs,
        pulls: countedPulls(slow),
        ...measureRegistry(slow),
        trivyCpu: launcherCpuOf(process.pid) - cpu1,
        trivyPeak: peak.stop(),
        cachePeak: peakRssOf(cache.pid),
        failed: summary.releases.reduce((n, r) => n + (r.result?.failed ?? 0), 0),
      });
      log(`${label}: ${seconds(wallMs)}`);
    }
    await connection.close();
    await nativeConnection.close();
  } finally {
    await cache.stop();
    await server.stop();
    await slow.stop();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }

  const mb = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
  console.log(`## bench:scan: ${IMAGES} images over ${BASES} shared bases, the real Trivy behind a slow registry\n`);
  console.log(
    `Machine: ${machine()}. Images: an OS layer (the sample's Alpine or Debian), a ${opts['base-mb']} MB base layer of random bytes shared by every ${BASES}th image, and a ${opts['app-mb']} MB layer of their own: ` +
      `${distinct.layers} distinct layers, ${mb(distinct.bytes)}. The front holds each layer ${opts['layer-delay-ms']} ms, then sends it at ${opts['mb-per-s']} MB/s. Window ${WINDOW}.\n`,
  );
  console.log(
    table(
      ['run', 'wall', 'counted pulls', 'layer downloads (distinct)', 'layer bytes (distinct)', 'Trivy CPU', 'peak RSS, one Trivy', 'peak RSS, cache service', 'failed scans'],
      results.map((r) => [r.label, seconds(r.wallMs), r.pulls, `${r.layers} (${distinct.layers})`, `${mb(r.layerBytes)} (${mb(distinct.bytes)})`, `${r.trivyCpu.toFixed(1)} s`, mb(r.trivyPeak), r.cachePeak === undefined ? '-' : mb(r.cachePeak), r.failed]),
    ),
  );
  const [a, b, c, d] = results as [Measured, Measured, Measured, Measured];
  console.log('');
  console.log(
    table(
      ['target', 'measured', ''],
      [
        ['(c) downloads 0 layers', String(c.layers), pass(c.layers === 0)],
        ['(c) wall <= 10 % of (b)', `${((100 * c.wallMs) / b.wallMs).toFixed(1)} % (${seconds(c.wallMs)} / ${seconds(b.wallMs)})`, pass(c.wallMs <= 0.1 * b.wallMs)],
        ['(d) makes 0 counted pulls', String(d.pulls), pass(d.pulls === 0)],
        ['(d) wall <= (c)', `${seconds(d.wallMs)} / ${seconds(c.wallMs)}`, pass(d.wallMs <= c.wallMs)],
        [`(b) >= 5x faster than (a) at a window of ${WINDOW}`, `${(a.wallMs / b.wallMs).toFixed(1)}x (${seconds(a.wallMs)} / ${seconds(b.wallMs)})`, pass(a.wallMs >= 5 * b.wallMs)],
        ['no failed scans', results.map((r) => r.failed).join(' / '), pass(results.every((r) => r.failed === 0))],
      ],
    ),
  );
  console.log('');
  console.log(projection(IMAGES, c, d));
}

/**
 * A weekly run of 1,000 images, projected from the measured per-image costs: counted pulls scale
 * with the images, and a quota of N pulls per 6 h holds a run for (ceil(pulls / N) - 1) windows
 * past the scanning itself (every window's pulls go at its start).
 */
function projection(measuredImages: number, today: Measured, rematched: Measured): string {
  const N = 1000;
  const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;
  const row = (label: string, run: Measured) => {
    const pulls = Math.round((run.pulls / measuredImages) * N);
    const scanMs = (run.wallMs / measuredImages) * N;
    const withQuota = (perWindow: number) => hours(scanMs + Math.max(0, Math.ceil(pulls / perWindow) - 1) * 6 * 3_600_000);
    return [label, pulls, hours(scanMs), withQuota(100), withQuota(200)];
  };
  return `### Projection: a weekly run of ${N} images (from ${measuredImages} measured)\n\n${table(
    ['weekly run', 'counted pulls', 'scanning alone', 'no account (100 / 6 h)', 'free account (200 / 6 h)'],
    [row('today: every image pulled (c)', today), row('with re-matching, images unchanged (d)', rematched)],
  )}`;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(1);
  },
);
