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
 *
 * This file reads the arguments, starts the dev server and runs the parts; the two sides are
 * bench/orchestration/temporal-run.ts and plain-loop.ts, the tables bench/orchestration/report.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { paths } from '../host/paths.js';
import { findTemporalCli } from '../client/temporal-cli.js';
import { load, machine, seconds, startBenchDevServer, writeStubScanner, type DevServer } from './support.js';
import { writeLists } from './orchestration/image-lists.js';
import { plainLoop, type PlainRun } from './orchestration/plain-loop.js';
import { printReport } from './orchestration/report.js';
import { temporalRun, type TemporalRun, type TemporalRunSettings } from './orchestration/temporal-run.js';

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
const WORKER: TemporalRunSettings = {
  slots: SLOTS,
  window: WINDOW,
  maxScansPerRun: opts['max-scans-per-run'] ? Number(opts['max-scans-per-run']) : undefined,
  workerEnv: opts['worker-env'],
  profile: opts.profile,
  nodeArgs: opts['worker-node-arg'],
};
const quiet = new DefaultLogger('ERROR');

const log = (line: string) => process.stderr.write(`[bench:orchestration] ${line}\n`);

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

    let overhead: { a: TemporalRun; b: PlainRun; lists: { name: string }[] } | undefined;
    if (only.has('overhead')) {
      const overheadLists = await writeLists(lists, 'ovh', RELEASES, IMAGES);
      log(`(1a) ${RELEASES} x ${IMAGES} images through Temporal, ${DELAY_MS} ms stub`);
      const a = await temporalRun(client, server, work, bundlePath, 'overhead-temporal', stubDelay, overheadLists, WORKER);
      log(`(1a) ${seconds(a.wallMs)}`);
      log(`(1b) plain loop, ${IN_FLIGHT} in flight`);
      const b = await plainLoop(work, 'overhead-plain', stubDelay, overheadLists, IN_FLIGHT);
      log(`(1b) ${seconds(b.wallMs)}`);
      overhead = { a, b, lists: overheadLists };
    }
    let long: { a: TemporalRun; b: PlainRun } | undefined;
    if (only.has('long')) {
      const longLists = await writeLists(lists, 'long', RELEASES, LONG_IMAGES);
      const stubLong = await writeStubScanner(work, LONG_DELAY_MS);
      log(`(1c) ${RELEASES} x ${LONG_IMAGES} images through Temporal, ${LONG_DELAY_MS} ms stub`);
      const a = await temporalRun(client, server, work, bundlePath, 'long-temporal', stubLong, longLists, WORKER);
      log(`(1c) ${seconds(a.wallMs)}`);
      log(`(1c) plain loop, ${IN_FLIGHT} in flight`);
      const b = await plainLoop(work, 'long-plain', stubLong, longLists, IN_FLIGHT);
      log(`(1c) ${seconds(b.wallMs)}`);
      long = { a, b };
    }
    let raw: { a: TemporalRun; b: PlainRun; lists: { name: string }[] } | undefined;
    if (only.has('raw')) {
      const rawLists = await writeLists(lists, 'raw', RELEASES, IMAGES);
      log(`(2a) ${RELEASES} x ${IMAGES} images through Temporal, 0 ms stub`);
      const a = await temporalRun(client, server, work, bundlePath, 'raw-temporal', stubZero, rawLists, WORKER);
      log(`(2a) ${seconds(a.wallMs)}`);
      log('(2b) plain loop, 0 ms stub');
      const b = await plainLoop(work, 'raw-plain', stubZero, rawLists, IN_FLIGHT);
      log(`(2b) ${seconds(b.wallMs)}`);
      raw = { a, b, lists: rawLists };
    }
    let big: { run: TemporalRun; lists: { name: string }[] } | undefined;
    if (only.has('big')) {
      const bigLists = await writeLists(lists, 'big', 1, BIG);
      log(`(3) one release of ${BIG} images, ${DELAY_MS} ms stub`);
      const run = await temporalRun(client, server, work, bundlePath, 'big-temporal', stubDelay, bigLists, WORKER);
      log(`(3) ${seconds(run.wallMs)}`);
      big = { run, lists: bigLists };
    }

    printReport(
      { overhead, long, raw, big },
      {
        releases: RELEASES,
        images: IMAGES,
        delayMs: DELAY_MS,
        window: WINDOW,
        slots: SLOTS,
        big: BIG,
        longDelayMs: LONG_DELAY_MS,
        longImages: LONG_IMAGES,
        inFlight: IN_FLIGHT,
        loadAtStart,
        settingsChanged: [
          ...opts['worker-node-arg'].map((a) => `worker node flag ${a}`),
          ...opts['worker-env'].map((a) => `worker env ${a}`),
          ...(opts['server-arg'].length ? [`server args ${opts['server-arg'].join(' ')}`] : []),
          ...(opts['max-scans-per-run'] ? [`maxScansPerRun ${opts['max-scans-per-run']}`] : []),
        ],
      },
    );
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
