/**
 * Orchestration benchmarks on the embedded dev server (SQLite file, as `image-scanning run` starts it):
 *
 *  1. overhead: the same stub scanner (200 ms a scan) over 5 releases x 1,000 images,
 *     (a) through scanReleases/scanRelease with the default window (8 a release, 40 in flight),
 *     (b) through a plain in-process loop over the scanImage activity with 40 in flight, no Temporal;
 *  2. raw throughput: the same with a 0 ms stub, and where the time goes;
 *  3. history footprint of one 1,000-image child and of the parent, and a 1,600-image release;
 *  4. peak RSS of the worker during (1a).
 *  (1c) repeats (1) with longer scans (5 x 120 images, 1,000 ms), where the CPU the orchestration
 *  needs a scan fits in the machine.
 *
 *   npm run bench:orchestration [-- --releases 5 --images 1000 --delay-ms 200 --window 8 --slots 40 --big 1600]
 *   npm run bench:orchestration -- --only overhead --worker-node-arg=--optimize-for-size --worker-env=MALLOC_ARENA_MAX=2
 *
 * Diagnostics: --keep keeps the work folder (worker.log with --trace-gc lines, worker-rss.txt,
 * worker-smaps.txt per run); --profile DIR writes V8 CPU profiles of the workers; --server-arg,
 * --worker-node-arg, --worker-env and --max-scans-per-run try other settings.
 *
 * The worker is a separate process (`node lib/client/cli.js worker`, as deployed) with a prebuilt
 * workflow bundle; both sides spawn the same /bin/sh stub (bench/support.ts) and run the same
 * scanImage activity code (spawn, parse, store). Prints Markdown tables; exits by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { FolderResultStore, storeKeys } from '../activities/result-store.js';
import { startRun } from '../client/scan.js';
import { paths, PROJECT_ROOT } from '../host/paths.js';
import { findTemporalCli } from '../client/temporal-cli.js';
import { buildImageRecords, parseImageList } from '../core/image-list.js';
import type { ReleaseResult, RunSummary } from '../core/run.js';
import { byThreadName, cpuOf, kib, launcherCpuOf, threadsOf, load, machine, mean, memoryOf, mib, MiB, pass, percentile, resetPeak, sampleRss, seconds, startBenchDevServer, table, writeStubScanner, type DevServer } from './support.js';

const { temporal } = proto;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

const { values: opts } = parseArgs({
  options: {
    releases: { type: 'string', default: '5' },
    images: { type: 'string', default: '1000' },
    'delay-ms': { type: 'string', default: '200' },
    window: { type: 'string', default: '8' },
    slots: { type: 'string', default: '40' },
    big: { type: 'string', default: '1600' },
    /** (1c): the overhead comparison again with longer scans, so the CPU the orchestration needs fits the machine. */
    'long-delay-ms': { type: 'string', default: '1000' },
    'long-images': { type: 'string', default: '120' },
    keep: { type: 'boolean', default: false },
    /** Write V8 CPU profiles of the worker processes into this folder (for finding where the worker's time goes). */
    profile: { type: 'string' },
    /** Parts to run, comma-separated: overhead (1 and 4), long (1c), raw (2), big (3). */
    only: { type: 'string', default: 'overhead,long,raw,big' },
    /** Extra environment of the worker processes, e.g. --worker-env=MALLOC_ARENA_MAX=2 */
    'worker-env': { type: 'string', multiple: true, default: [] },
    /** ScanReleasesInput.maxScansPerRun of every run (default: Temporal's continue-as-new suggestion only). */
    'max-scans-per-run': { type: 'string' },
    /** Extra node flags for the worker processes, e.g. --worker-node-arg=--max-old-space-size=256 */
    'worker-node-arg': { type: 'string', multiple: true, default: [] },
    /** Extra `temporal server start-dev` arguments, e.g. --server-arg=--dynamic-config-value --server-arg=system.enableActivityEagerExecution=true */
    'server-arg': { type: 'string', multiple: true, default: [] },
  },
});
const RELEASES = Number(opts.releases);
const IMAGES = Number(opts.images);
const DELAY_MS = Number(opts['delay-ms']);
const WINDOW = Number(opts.window);
const SLOTS = Number(opts.slots);
const BIG = Number(opts.big);
const LONG_DELAY_MS = Number(opts['long-delay-ms']);
const LONG_IMAGES = Number(opts['long-images']);
const IN_FLIGHT = RELEASES * WINDOW;
const CLI = join(PROJECT_ROOT, 'lib', 'client', 'cli.js');
const quiet = new DefaultLogger('ERROR');

const log = (line: string) => process.stderr.write(`[bench:orchestration] ${line}\n`);

// ------------------------------------------------------------------------------------------
// Image lists
// ------------------------------------------------------------------------------------------

function imageNames(release: number, count: number, tag: string): string[] {
  return Array.from({ length: count }, (_, i) => `rancher/bench-${tag}-r${release}-${i}:v1.${i % 50}.${release}`);
}

async function writeLists(dir: string, tag: string, releases: number, count: number): Promise<{ name: string; images: string; list: string[] }[]> {
  await mkdir(dir, { recursive: true });
  const out = [];
  for (let r = 0; r < releases; r++) {
    const list = imageNames(r, count, tag);
    const path = join(dir, `${tag}-r${r}.txt`);
    await writeFile(path, list.join('\n') + '\n');
    out.push({ name: `${tag}-r${r}`, images: path, list });
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// Histories
// ------------------------------------------------------------------------------------------

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(String(value)));
const timeOf = (event: HistoryEvent): number => num(event.eventTime?.seconds) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;

interface RunHistory {
  runId: string;
  bytes: number;
  events: number;
  continuedAsNew?: string;
  /** Event id of the first workflow task the server started with suggestContinueAsNew set. */
  suggestedAt?: number;
  /** scanImage activities that closed in this run. */
  scans: number;
  list: HistoryEvent[];
}

async function fetchRun(client: Client, workflowId: string, runId?: string): Promise<RunHistory> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const last = events.at(-1);
  const suggested = events.find((e) => e.workflowTaskStartedEventAttributes?.suggestContinueAsNew);
  return {
    runId: runId ?? '',
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    events: events.length,
    continuedAsNew: last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined,
    suggestedAt: suggested ? num(suggested.eventId) : undefined,
    scans: timings(events).scans,
    list: events,
  };
}

/** Every run of a workflow, following its continue-as-new chain from the first run. */
async function fetchChain(client: Client, workflowId: string, firstRunId: string): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const run = await fetchRun(client, workflowId, runId);
    runs.push(run);
    runId = run.continuedAsNew;
  }
  return runs;
}

interface Timings {
  workflowTasks: number;
  /** Workflow tasks on the normal queue after the first: the worker had lost the run from its cache and replayed its history. */
  replays: number;
  /** Workflow tasks that failed or timed out. */
  failedTasks: number;
  wftQueueMs: number[];
  wftRunMs: number[];
  scans: number;
  scanQueueMs: number[];
  scanRunMs: number[];
  firstScheduled: number;
  lastClosed: number;
}

function timings(events: HistoryEvent[]): Timings {
  const byId = new Map<number, HistoryEvent>();
  const scanScheduled = new Set<number>();
  let normalQueueTasks = 0;
  const t: Timings = { workflowTasks: 0, replays: 0, failedTasks: 0, wftQueueMs: [], wftRunMs: [], scans: 0, scanQueueMs: [], scanRunMs: [], firstScheduled: Infinity, lastClosed: -Infinity };
  for (const event of events) {
    const id = num(event.eventId);
    byId.set(id, event);
    const at = timeOf(event);
    if (event.workflowTaskScheduledEventAttributes) {
      if (event.workflowTaskScheduledEventAttributes.taskQueue?.kind !== temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY) normalQueueTasks++;
    } else if (event.workflowTaskFailedEventAttributes || event.workflowTaskTimedOutEventAttributes) {
      t.failedTasks++;
    } else if (event.workflowTaskStartedEventAttributes) {
      const scheduled = byId.get(num(event.workflowTaskStartedEventAttributes.scheduledEventId));
      if (scheduled) t.wftQueueMs.push(at - timeOf(scheduled));
    } else if (event.workflowTaskCompletedEventAttributes) {
      t.workflowTasks++;
      const started = byId.get(num(event.workflowTaskCompletedEventAttributes.startedEventId));
      if (started) t.wftRunMs.push(at - timeOf(started));
    } else if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'scanImage') {
      scanScheduled.add(id);
      t.firstScheduled = Math.min(t.firstScheduled, at);
    } else if (event.activityTaskStartedEventAttributes) {
      const scheduledId = num(event.activityTaskStartedEventAttributes.scheduledEventId);
      if (scanScheduled.has(scheduledId)) t.scanQueueMs.push(at - timeOf(byId.get(scheduledId)!));
    } else {
      const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
      if (closed && scanScheduled.has(num(closed.scheduledEventId))) {
        t.scans++;
        const started = byId.get(num(closed.startedEventId));
        if (started) t.scanRunMs.push(at - timeOf(started));
        t.lastClosed = Math.max(t.lastClosed, at);
      }
    }
  }
  t.replays = Math.max(0, normalQueueTasks - 1);
  return t;
}

function mergeTimings(all: Timings[]): Timings {
  return {
    workflowTasks: all.reduce((n, t) => n + t.workflowTasks, 0),
    replays: all.reduce((n, t) => n + t.replays, 0),
    failedTasks: all.reduce((n, t) => n + t.failedTasks, 0),
    wftQueueMs: all.flatMap((t) => t.wftQueueMs),
    wftRunMs: all.flatMap((t) => t.wftRunMs),
    scans: all.reduce((n, t) => n + t.scans, 0),
    scanQueueMs: all.flatMap((t) => t.scanQueueMs),
    scanRunMs: all.flatMap((t) => t.scanRunMs),
    firstScheduled: Math.min(...all.map((t) => t.firstScheduled)),
    lastClosed: Math.max(...all.map((t) => t.lastClosed)),
  };
}

// ------------------------------------------------------------------------------------------
// (a) through Temporal, worker as its own process
// ------------------------------------------------------------------------------------------

interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  gc: GcLog;
}

async function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  // Only our settings: nothing of this shell's Temporal, GitHub or Trivy configuration leaks in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|GITHUB_|TRIVY_|IMAGE_SCANNING_|REPORTS_GITHUB_|MAX_CONCURRENT_|WORKFLOW_BUNDLE)/.test(k)));
  // --trace-gc: one stdout line per V8 collection, to tell live memory from garbage not yet collected (gcReport below).
  const nodeArgs = ['--trace-gc', ...(opts.profile ? ['--cpu-prof', '--cpu-prof-dir', opts.profile] : []), ...opts['worker-node-arg']];
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'worker'], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const gc = new GcLog();
  // Everything the worker prints goes to worker.log in the data folder's parent (kept with --keep).
  const logFile = createWriteStream(join(env.IMAGE_SCANNING_DATA_DIR, '..', 'worker.log'));
  const keep = (chunk: Buffer) => {
    logFile.write(chunk);
    gc.feed(chunk.toString());
    output = (output + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.on('close', () => logFile.end());
  logFile.on('error', () => undefined);
  const deadline = Date.now() + 120_000;
  while (!output.includes('worker polling')) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited, output: () => output, gc };
}

/**
 * The worker's `--trace-gc` lines, per V8 isolate (the first one seen is the main thread; the
 * others are workflow threads): committed heap at most, and live heap after the last full GC.
 */
class GcLog {
  private partial = '';
  readonly isolates = new Map<string, { maxCommitted: number; liveAfterFullGc?: number; fullGcs: number; lastMs: number }>();
  private since = 0;

  feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: ([A-Za-z -]+?)(?: \([a-z ]+\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
      if (!m) continue;
      const [, isolate, at, kind, , committedBefore, after, committedAfter] = m;
      const entry = this.isolates.get(isolate!) ?? { maxCommitted: 0, fullGcs: 0, lastMs: 0 };
      entry.maxCommitted = Math.max(entry.maxCommitted, Number(committedBefore), Number(committedAfter));
      entry.lastMs = Number(at);
      if ((kind === 'Mark-Compact' || kind === 'Mark-Sweep') && Number(at) >= this.since) {
        entry.liveAfterFullGc = Number(after);
        entry.fullGcs++;
      }
      this.isolates.set(isolate!, entry);
    }
  }

  /** From now on (main isolate's clock), count full GCs and committed peaks afresh. */
  reset(): void {
    const main = [...this.isolates.values()][0];
    this.since = main?.lastMs ?? 0;
    for (const entry of this.isolates.values()) {
      entry.maxCommitted = 0;
      entry.fullGcs = 0;
      entry.liveAfterFullGc = undefined;
    }
  }

  summary(): { main?: { maxCommitted: number; liveAfterFullGc?: number; fullGcs: number }; workflows: { maxCommitted: number; liveAfterFullGc?: number; fullGcs: number } } {
    const [main, ...rest] = [...this.isolates.values()];
    const collected = rest.filter((e) => e.liveAfterFullGc !== undefined);
    return {
      main,
      workflows: {
        maxCommitted: rest.reduce((n, e) => n + e.maxCommitted, 0),
        liveAfterFullGc: collected.length ? collected.reduce((n, e) => n + e.liveAfterFullGc!, 0) : undefined,
        fullGcs: rest.reduce((n, e) => n + e.fullGcs, 0),
      },
    };
  }
}

interface TemporalRun {
  wallMs: number;
  scanPhaseMs: number;
  summary: RunSummary;
  parent: RunHistory;
  children: Map<string, RunHistory[]>;
  timing: Timings;
  cpu: { server: number; worker: number; scanners: number; bench: number };
  /** CPU seconds of the worker's threads over the run, by thread name. */
  threads: Map<string, number>;
  memory: { startupPeak: number; runPeakHwm: number; runPeakSampled: number; endRss: number; gc: ReturnType<GcLog['summary']> };
  settings: string;
}

async function temporalRun(
  client: Client,
  server: DevServer,
  work: string,
  bundlePath: string,
  label: string,
  stub: string,
  releases: { name: string; images: string }[],
): Promise<TemporalRun> {
  const dir = join(work, label);
  const taskQueue = `bench-${label}-${randomUUID()}`;
  const env = {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    IMAGE_SCANNING_DATA_DIR: join(dir, 'data'),
    IMAGE_SCANNING_REPORTS_DIR: join(dir, 'reports'),
    TRIVY_BIN: stub,
    TRIVY_CACHE_DIR: join(dir, 'trivy-cache'),
    TRIVY_CACHE_BACKEND: 'memory',
    MAX_CONCURRENT_ACTIVITIES: String(SLOTS),
    WORKFLOW_BUNDLE: bundlePath,
    LOG_LEVEL: 'INFO',
    ...Object.fromEntries(opts['worker-env'].map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
  };
  await mkdir(dir, { recursive: true });
  const worker = await spawnWorker(env);
  const pid = worker.child.pid!;
  try {
    const startupPeak = (await memoryOf(pid)).hwm;
    await resetPeak(pid);
    worker.gc.reset();
    const sampler = sampleRss(pid, 100);
    const server0 = cpuOf(server.pid);
    const worker0 = cpuOf(pid);
    const launcher0 = launcherCpuOf(pid);
    const threads0 = threadsOf(pid);
    const bench0 = process.cpuUsage();

    const started = Date.now();
    const maxScansPerRun = opts['max-scans-per-run'] ? Number(opts['max-scans-per-run']) : undefined;
    const handle = await startRun(client, { releases, maxConcurrentScans: WINDOW, maxScansPerRun, skipPublish: true }, { taskQueue, workflowId: `bench-${label}-${randomUUID()}` });
    const summary = await handle.result();
    const wallMs = Date.now() - started;

    const server1 = cpuOf(server.pid);
    const worker1 = cpuOf(pid);
    const launcher1 = launcherCpuOf(pid);
    const threads = byThreadName(new Map([...threadsOf(pid)].map(([name, cpu]) => [name, cpu - (threads0.get(name) ?? 0)])));
    const bench1 = process.cpuUsage(bench0);
    const runPeakSampled = sampler.stop();
    await writeFile(join(dir, 'worker-rss.txt'), sampler.timeline.map((rss, second) => `${second} s ${(rss / MiB).toFixed(1)} MiB`).join('\n') + '\n');
    const mem = await memoryOf(pid);
    // For a person chasing memory: where the worker's resident pages are at the end of the run (kept with --keep).
    await readFile(`/proc/${pid}/smaps`, 'utf8').then((text) => writeFile(join(dir, 'worker-smaps.txt'), text)).catch(() => undefined);

    const parent = await fetchRun(client, handle.workflowId);
    const children = new Map<string, RunHistory[]>();
    for (const event of parent.list) {
      const a = event.childWorkflowExecutionStartedEventAttributes;
      if (a?.workflowExecution?.workflowId && a.workflowExecution.runId) {
        children.set(a.workflowExecution.workflowId, await fetchChain(client, a.workflowExecution.workflowId, a.workflowExecution.runId));
      }
    }
    const timing = mergeTimings([...children.values()].flat().map((run) => timings(run.list)));
    for (const runs of children.values()) for (const run of runs) run.list = [];
    parent.list = [];
    for (const r of summary.releases) {
      if (r.status !== 'completed') throw new Error(`release ${r.release} failed: ${r.error}`);
    }
    return {
      wallMs,
      scanPhaseMs: timing.lastClosed - timing.firstScheduled,
      summary,
      parent,
      children,
      timing,
      cpu: {
        server: server1.self - server0.self,
        worker: worker1.self - worker0.self,
        scanners: worker1.children - worker0.children + launcher1 - launcher0,
        bench: (bench1.user + bench1.system) / 1e6,
      },
      threads,
      memory: { startupPeak, runPeakHwm: mem.hwm, runPeakSampled, endRss: mem.rss, gc: worker.gc.summary() },
      settings: `worker process, ${SLOTS} activity slots, window ${WINDOW} per release`,
    };
  } finally {
    worker.child.kill('SIGTERM');
    const timer = setTimeout(() => worker.child.kill('SIGKILL'), 15_000);
    await worker.exited;
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------------------------------
// (b) a plain loop over the same activity code, no Temporal
// ------------------------------------------------------------------------------------------

interface PlainRun {
  wallMs: number;
  scanned: number;
  cpu: { bench: number; scanners: number };
  peakRss: number;
}

async function plainLoop(work: string, label: string, stub: string, releases: { name: string; list: string[] }[]): Promise<PlainRun> {
  const dir = join(work, label);
  const deps: ActivityDeps = {
    store: new FolderResultStore(join(dir, 'data')),
    reportsDir: join(dir, 'reports'),
    // The worker's defaults (worker/config.ts), with the stub as Trivy.
    trivy: { bin: stub, cacheDir: join(dir, 'trivy-cache'), cacheBackend: 'memory', timeoutSeconds: 600, severities: [], rateLimitBackoffSeconds: 300, heartbeatSeconds: 5 },
  };
  const runKey = `plain-${label}@${randomUUID()}`;
  const items: { runKey: string; release: string; index: number }[] = [];
  for (const release of releases) {
    const records = buildImageRecords({ images: parseImageList(release.list.join('\n'), release.name) });
    await deps.store.writeJson(storeKeys.images(runKey, release.name), records);
    await deps.store.writeJson(storeKeys.assigned(runKey, release.name), records);
    records.forEach((_, index) => items.push({ runKey, release: release.name, index }));
  }
  const { scanImage } = createActivities(deps);
  const sampler = sampleRss(process.pid, 100);
  const self0 = cpuOf(process.pid);
  const launcher0 = launcherCpuOf(process.pid);
  const cpu0 = process.cpuUsage();
  let next = 0;
  let scanned = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        // One activity context per scan, as a worker gives each activity its own.
        await new MockActivityEnvironment(undefined, { logger: quiet }).run(scanImage, item);
        scanned++;
      }
    }),
  );
  const wallMs = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const self1 = cpuOf(process.pid);
  const scanners = self1.children - self0.children + launcherCpuOf(process.pid) - launcher0;
  return { wallMs, scanned, cpu: { bench: (cpu.user + cpu.system) / 1e6, scanners }, peakRss: sampler.stop() };
}

// ------------------------------------------------------------------------------------------
// Main
// ------------------------------------------------------------------------------------------

const ms = (values: number[], p?: number) => (values.length === 0 ? '-' : `${(p === undefined ? mean(values) : percentile(values, p)).toFixed(0)} ms`);

function resultOf(run: TemporalRun, release: string): ReleaseResult | undefined {
  return run.summary.releases.find((r) => r.release === release)?.result;
}

async function main(): Promise<void> {
  const only = new Set(opts.only.split(',').map((s) => s.trim()));
  const work = await mkdtemp(join(tmpdir(), 'image-scanning-bench-'));
  let server: DevServer | undefined;
  let connection: Connection | undefined;
  try {
    log(`machine: ${machine()}; load average ${load()}`);
    const cli = await findTemporalCli({ install: true, log });
    server = await startBenchDevServer(cli, join(work, 'temporal.db'), opts['server-arg']);
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    log(`dev server at ${server.address} (pid ${server.pid})`);

    const bundlePath = join(work, 'workflow-bundle.js');
    const { code } = await bundleWorkflowCode({ workflowsPath: paths.workflows, logger: quiet });
    await writeFile(bundlePath, code);

    const stubDelay = await writeStubScanner(work, DELAY_MS);
    const stubZero = await writeStubScanner(work, 0);
    const lists = join(work, 'lists');
    const loadAtStart = load();
    const total = RELEASES * IMAGES;

    let overhead: { a: TemporalRun; b: PlainRun; lists: { name: string }[] } | undefined;
    if (only.has('overhead')) {
      const overheadLists = await writeLists(lists, 'ovh', RELEASES, IMAGES);
      log(`(1a) ${RELEASES} x ${IMAGES} images through Temporal, ${DELAY_MS} ms stub`);
      const a = await temporalRun(client, server, work, bundlePath, 'overhead-temporal', stubDelay, overheadLists);
      log(`(1a) ${seconds(a.wallMs)}`);
      log(`(1b) plain loop, ${IN_FLIGHT} in flight`);
      const b = await plainLoop(work, 'overhead-plain', stubDelay, overheadLists);
      log(`(1b) ${seconds(b.wallMs)}`);
      overhead = { a, b, lists: overheadLists };
    }
    let long: { a: TemporalRun; b: PlainRun } | undefined;
    if (only.has('long')) {
      const longLists = await writeLists(lists, 'long', RELEASES, LONG_IMAGES);
      const stubLong = await writeStubScanner(work, LONG_DELAY_MS);
      log(`(1c) ${RELEASES} x ${LONG_IMAGES} images through Temporal, ${LONG_DELAY_MS} ms stub`);
      const a = await temporalRun(client, server, work, bundlePath, 'long-temporal', stubLong, longLists);
      log(`(1c) ${seconds(a.wallMs)}`);
      log(`(1c) plain loop, ${IN_FLIGHT} in flight`);
      const b = await plainLoop(work, 'long-plain', stubLong, longLists);
      log(`(1c) ${seconds(b.wallMs)}`);
      long = { a, b };
    }
    let raw: { a: TemporalRun; b: PlainRun; lists: { name: string }[] } | undefined;
    if (only.has('raw')) {
      const rawLists = await writeLists(lists, 'raw', RELEASES, IMAGES);
      log(`(2a) ${RELEASES} x ${IMAGES} images through Temporal, 0 ms stub`);
      const a = await temporalRun(client, server, work, bundlePath, 'raw-temporal', stubZero, rawLists);
      log(`(2a) ${seconds(a.wallMs)}`);
      log('(2b) plain loop, 0 ms stub');
      const b = await plainLoop(work, 'raw-plain', stubZero, rawLists);
      log(`(2b) ${seconds(b.wallMs)}`);
      raw = { a, b, lists: rawLists };
    }
    let big: { run: TemporalRun; lists: { name: string }[] } | undefined;
    if (only.has('big')) {
      const bigLists = await writeLists(lists, 'big', 1, BIG);
      log(`(3) one release of ${BIG} images, ${DELAY_MS} ms stub`);
      const run = await temporalRun(client, server, work, bundlePath, 'big-temporal', stubDelay, bigLists);
      log(`(3) ${seconds(run.wallMs)}`);
      big = { run, lists: bigLists };
    }

    const print = (text = '') => console.log(text);
    const settingsChanged = [
      ...opts['worker-node-arg'].map((a) => `worker node flag ${a}`),
      ...opts['worker-env'].map((a) => `worker env ${a}`),
      ...(opts['server-arg'].length ? [`server args ${opts['server-arg'].join(' ')}`] : []),
      ...(opts['max-scans-per-run'] ? [`maxScansPerRun ${opts['max-scans-per-run']}`] : []),
    ];
    print('## Orchestration benchmarks (`npm run bench:orchestration`)');
    print();
    print(
      `Machine: ${machine()}. Load average (1/5/15 min) at start: ${loadAtStart}, at end: ${load()}. Temporal dev server: the project's CLI (\`temporal server start-dev\`, SQLite file in WAL mode with synchronous=normal, eager activity execution on, as \`image-scanning run\` starts it). ` +
        `One worker process (\`node lib/client/cli.js worker\`, prebuilt workflow bundle, MAX_CONCURRENT_ACTIVITIES=${SLOTS}, LOG_LEVEL=INFO, other settings default; node runs it with \`--trace-gc\` for the memory table). ` +
        `Stub scanner: a \`/bin/sh\` script that runs \`sleep\` for the delay (nothing for 0 ms) and writes a fixed 3-finding Trivy report to the \`--output\` file with the shell's builtin printf; both sides spawn it through the same \`scanImage\` activity code.` +
        (settingsChanged.length ? ` **Non-default settings: ${settingsChanged.join(' ')}.**` : ''),
    );
    print();

    const cpuRow = (name: string, r: TemporalRun, scans: number) => {
      const sum = r.cpu.server + r.cpu.worker + r.cpu.scanners + r.cpu.bench;
      return [
        name,
        seconds(r.wallMs),
        `${r.cpu.server.toFixed(1)} s (${((r.cpu.server / scans) * 1000).toFixed(1)} ms/scan)`,
        `${r.cpu.worker.toFixed(1)} s (${((r.cpu.worker / scans) * 1000).toFixed(1)} ms/scan)`,
        `${r.cpu.scanners.toFixed(1)} s (${((r.cpu.scanners / scans) * 1000).toFixed(1)} ms/scan)`,
        `${r.cpu.bench.toFixed(1)} s`,
        `${((sum / (r.wallMs / 1000) / 2) * 100).toFixed(0)} %`,
      ];
    };
    const plainCpuRow = (name: string, b: PlainRun) => [
      name,
      seconds(b.wallMs),
      '-',
      `${b.cpu.bench.toFixed(1)} s (${((b.cpu.bench / b.scanned) * 1000).toFixed(1)} ms/scan, in-process)`,
      `${b.cpu.scanners.toFixed(1)} s (${((b.cpu.scanners / b.scanned) * 1000).toFixed(1)} ms/scan)`,
      '-',
      `${(((b.cpu.bench + b.cpu.scanners) / (b.wallMs / 1000) / 2) * 100).toFixed(0)} %`,
    ];
    const latRow = (name: string, r: TemporalRun) => {
      const t = r.timing;
      const events = [...r.children.values()].flat().reduce((n, h) => n + h.events, 0);
      return [
        name,
        `${t.workflowTasks} (${(t.workflowTasks / t.scans).toFixed(2)}/scan)`,
        `${t.replays} / ${t.failedTasks}`,
        `${ms(t.wftQueueMs)} / ${ms(t.wftQueueMs, 95)}`,
        `${ms(t.wftRunMs)} / ${ms(t.wftRunMs, 95)}`,
        `${ms(t.scanQueueMs)} / ${ms(t.scanQueueMs, 95)}`,
        `${ms(t.scanRunMs)} / ${ms(t.scanRunMs, 95)}`,
        (events / t.scans).toFixed(2),
      ];
    };

    if (overhead) {
      const { a, b } = overhead;
      const ratio = a.wallMs / b.wallMs;
      const scanRatio = a.scanPhaseMs / b.wallMs;
      const ideal = Math.ceil(total / IN_FLIGHT) * DELAY_MS;
      print(`### 1. Orchestration overhead: ${RELEASES} releases x ${IMAGES} images, ${DELAY_MS} ms stub, ${IN_FLIGHT} in flight`);
      print();
      print(
        table(
          ['side', 'what it includes', 'wall time', 'scans/s'],
          [
            [`(a) Temporal, window ${WINDOW} x ${RELEASES} releases`, `start of scanReleases to its result: ${RELEASES} children, resolveImages, assignScans, prepareScanner, every scanImage activity (read assignment, spawn stub, parse, store), writeReleaseReport x ${RELEASES} (skipPublish: no issue reconciliation, no site)`, seconds(a.wallMs), (total / (a.wallMs / 1000)).toFixed(1)],
            [`(a') Temporal, scan phase only`, "first scanImage scheduled to last scanImage closed (event times in the children's histories)", seconds(a.scanPhaseMs), (total / (a.scanPhaseMs / 1000)).toFixed(1)],
            [`(b) plain loop, ${IN_FLIGHT} in flight`, 'the same scanImage activity function (read assignment, spawn stub, parse, store) under MockActivityEnvironment, in the bench process, no Temporal', seconds(b.wallMs), (b.scanned / (b.wallMs / 1000)).toFixed(1)],
            ['ideal', `ceil(${total} / ${IN_FLIGHT}) x ${DELAY_MS} ms`, seconds(ideal), (total / (ideal / 1000)).toFixed(1)],
          ],
        ),
      );
      print();
      print(
        table(
          ['ratio', 'value', 'target', ''],
          [
            ['a / b (end to end)', ratio.toFixed(2), '<= 1.3', pass(ratio <= 1.3)],
            ["a' / b (scan phase)", scanRatio.toFixed(2), '<= 1.3', pass(scanRatio <= 1.3)],
          ],
        ),
      );
      print();
    }
    if (long) {
      const { a, b } = long;
      const n = RELEASES * LONG_IMAGES;
      const ideal = Math.ceil(n / IN_FLIGHT) * LONG_DELAY_MS;
      print(`The same comparison with longer scans (${RELEASES} x ${LONG_IMAGES} images, ${LONG_DELAY_MS} ms stub, ${IN_FLIGHT} in flight), where the CPU the orchestration needs per scan fits in 2 cores:`);
      print();
      print(
        table(
          ['side', 'wall time', 'scans/s', 'ratio to (b)'],
          [
            ['(a) Temporal, end to end', seconds(a.wallMs), (n / (a.wallMs / 1000)).toFixed(1), (a.wallMs / b.wallMs).toFixed(2)],
            ["(a') Temporal, scan phase", seconds(a.scanPhaseMs), (n / (a.scanPhaseMs / 1000)).toFixed(1), (a.scanPhaseMs / b.wallMs).toFixed(2)],
            ['(b) plain loop', seconds(b.wallMs), (b.scanned / (b.wallMs / 1000)).toFixed(1), '1.00'],
            ['ideal', seconds(ideal), (n / (ideal / 1000)).toFixed(1), (ideal / b.wallMs).toFixed(2)],
          ],
        ),
      );
      print();
    }
    if (raw) {
      const { a, b } = raw;
      const rate = total / (a.wallMs / 1000);
      const scanRate = total / (a.scanPhaseMs / 1000);
      print(`### 2. Raw throughput: ${RELEASES} x ${IMAGES} images, 0 ms stub, ${IN_FLIGHT} in flight`);
      print();
      print(
        table(
          ['side', 'wall time', 'scans/s', 'target >= 100/s'],
          [
            ['(a) Temporal, end to end', seconds(a.wallMs), rate.toFixed(1), pass(rate >= 100)],
            ["(a') Temporal, scan phase", seconds(a.scanPhaseMs), scanRate.toFixed(1), pass(scanRate >= 100)],
            ['(b) plain loop (same activity code, no Temporal)', seconds(b.wallMs), (b.scanned / (b.wallMs / 1000)).toFixed(1), ''],
          ],
        ),
      );
      print();
    }
    if (overhead || raw) {
      print('Where the time goes, CPU (utime + stime from /proc over the run; 2 cores give 2 CPU-seconds a second; stub processes are counted with the scanner launcher that starts them, a child of the worker or of the bench process):');
      print();
      const rows: (string | number)[][] = [];
      if (overhead) rows.push(cpuRow(`(1a) Temporal, ${DELAY_MS} ms stub`, overhead.a, total), plainCpuRow(`(1b) plain loop, ${DELAY_MS} ms stub`, overhead.b));
      if (raw) rows.push(cpuRow('(2a) Temporal, 0 ms stub', raw.a, total), plainCpuRow('(2b) plain loop, 0 ms stub', raw.b));
      print(table(['run', 'wall', 'Temporal server', 'worker process (Node, SDK core)', 'scanner launcher + stub processes', 'bench client', 'busy, of 2 cores'], rows));
      print();
      const basis = raw ?? overhead!;
      const perScan = ((basis.a.cpu.server + basis.a.cpu.worker + basis.a.cpu.scanners) / total) * 1000;
      const plainPerScan = ((basis.b.cpu.bench + basis.b.cpu.scanners) / basis.b.scanned) * 1000;
      print(
        `CPU a scan: ${perScan.toFixed(1)} ms through Temporal (server + worker + stub) against ${plainPerScan.toFixed(1)} ms in the plain loop (activity + stub). ` +
          `With ${cpus().length} cores that caps the Temporal path at about ${((cpus().length * 1000) / perScan).toFixed(0)} scans/s however many are in flight; ` +
          `(1) asks for ${IN_FLIGHT} / ${DELAY_MS} ms = ${((IN_FLIGHT * 1000) / DELAY_MS).toFixed(0)} scans/s, (2) for 100.`,
      );
      print();
      const threadRow = (name: string, r: TemporalRun, scans: number) => [
        name,
        [...r.threads.entries()]
          .filter(([, cpu]) => cpu >= 0.05)
          .sort((x, y) => y[1] - x[1])
          .map(([thread, cpu]) => `${thread}: ${cpu.toFixed(1)} s (${((cpu / scans) * 1000).toFixed(1)} ms/scan)`)
          .join('<br>'),
      ];
      const threadRows: (string | number)[][] = [];
      if (overhead) threadRows.push(threadRow(`(1a) ${DELAY_MS} ms stub`, overhead.a, total));
      if (raw) threadRows.push(threadRow('(2a) 0 ms stub', raw.a, total));
      print('The worker process by thread (`node`: the main JS thread, where activities run and children are spawned; `tokio-runtime-w`: the SDK core; `node` worker threads run workflows; `libuv-worker`: file I/O; `V8 *`: GC and compilation):');
      print();
      print(table(['run', 'CPU by thread'], threadRows));
      print();
      print("Where the time goes, latency (event times in the children's histories, written by the server):");
      print();
      const lat: (string | number)[][] = [];
      if (overhead) lat.push(latRow(`(1a) ${DELAY_MS} ms stub`, overhead.a));
      if (raw) lat.push(latRow('(2a) 0 ms stub', raw.a));
      print(table(['run', 'workflow tasks', 'cache misses (full replays) / failed or timed-out WFTs', 'WFT schedule-to-start mean / p95', 'WFT start-to-complete mean / p95', 'scan schedule-to-start mean / p95', 'scan start-to-close mean / p95', 'history events/scan'], lat));
      print();
    }

    const childRow = (name: string, runs: RunHistory[], result: ReleaseResult | undefined) => {
      const largest = Math.max(...runs.map((r) => r.bytes));
      return [
        name,
        runs.length === 1 ? `${runs[0]!.bytes} (${mib(runs[0]!.bytes)})` : runs.map((r, i) => `run ${i + 1}: ${r.bytes} (${kib(r.bytes)})`).join('; '),
        runs.map((r) => r.events).join(' + '),
        runs.map((r) => r.scans).join(' + '),
        runs.map((r) => (r.suggestedAt === undefined ? 'never' : `at event ${r.suggestedAt}`)).join('; '),
        String(result?.continuedAsNew ?? '?'),
        `${pass(largest < 2 * MiB)}`,
      ];
    };
    if (overhead || raw || big) {
      print('### 3. History footprint');
      print();
      const rows: (string | number)[][] = [];
      if (overhead) {
        const [id, runs] = [...overhead.a.children.entries()][0]!;
        rows.push(childRow(`child \`${id.replace(/^.*\//, '<parent>/')}\`, ${IMAGES} images, ${DELAY_MS} ms stub (run 1a)`, runs, resultOf(overhead.a, overhead.lists[0]!.name)));
        rows.push([`parent \`scanReleases\`, ${RELEASES} releases (run 1a)`, `${overhead.a.parent.bytes} (${kib(overhead.a.parent.bytes)})`, String(overhead.a.parent.events), '-', overhead.a.parent.suggestedAt === undefined ? 'never' : `at event ${overhead.a.parent.suggestedAt}`, '-', '-']);
      }
      if (raw) {
        const [id, runs] = [...raw.a.children.entries()][0]!;
        rows.push(childRow(`child \`${id.replace(/^.*\//, '<parent>/')}\`, ${IMAGES} images, 0 ms stub (run 2a)`, runs, resultOf(raw.a, raw.lists[0]!.name)));
      }
      if (big) {
        const [id, runs] = [...big.run.children.entries()][0]!;
        rows.push(childRow(`child \`${id.replace(/^.*\//, '<parent>/')}\`, ${BIG} images, ${DELAY_MS} ms stub`, runs, resultOf(big.run, big.lists[0]!.name)));
      }
      print(table(['workflow', 'history bytes', 'events', 'scans', 'server suggested continue-as-new', 'continued as new', 'child < 2 MiB (every run)'], rows));
      print();
      if (big) {
        const r = resultOf(big.run, big.lists[0]!.name);
        print(`The ${BIG}-image release: ${r?.scanned} scanned, ${r?.failed} failed, continued as new ${r?.continuedAsNew} time(s), ${seconds(big.run.wallMs)} wall time.`);
        print();
      }
    }

    const v8 = (r: TemporalRun) => {
      const { main, workflows } = r.memory.gc;
      if (!main) return ['-', '-'];
      const live = (e: { liveAfterFullGc?: number; fullGcs: number }) => (e.liveAfterFullGc === undefined ? 'no full GC' : `${e.liveAfterFullGc.toFixed(0)} MB (${e.fullGcs} full GCs)`);
      return [`${main.maxCommitted.toFixed(0)} MB / ${workflows.maxCommitted.toFixed(0)} MB`, `${live(main)} / ${live(workflows)}`];
    };
    const memRow = (name: string, r: TemporalRun) => [name, mib(r.memory.runPeakHwm), mib(r.memory.runPeakSampled), mib(r.memory.startupPeak), ...v8(r), pass(Math.max(r.memory.runPeakHwm, r.memory.startupPeak) < 400 * 1e6)];
    if (overhead || raw || big) {
      print('### 4. Worker memory');
      print();
      const rows: (string | number)[][] = [];
      if (overhead) rows.push(memRow(`(1a) ${RELEASES} x ${IMAGES}, ${DELAY_MS} ms stub`, overhead.a));
      if (raw) rows.push(memRow(`(2a) ${RELEASES} x ${IMAGES}, 0 ms stub`, raw.a));
      if (big) rows.push(memRow(`(3) 1 x ${BIG}, ${DELAY_MS} ms stub`, big.run));
      print(
        table(
          ['run', 'peak RSS during the run (VmHWM, reset once the worker polls)', 'highest 100 ms RSS sample', 'peak RSS at start-up', 'V8 heap committed at most: main thread / workflow thread', 'V8 heap live after the last full GC of the run: main / workflow', 'target < 400 MB'],
          rows,
        ),
      );
      print();
      if (overhead) print(`For comparison, the bench process itself (client, plain loop) peaked at ${mib(overhead.b.peakRss)} RSS during (1b).`);
      print();
    }
  } finally {
    await connection?.close().catch(() => undefined);
    await server?.stop();
    if (!opts.keep) await rm(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
