/**
 * Prints the orchestration benchmark's figures as Markdown tables (the tables of BENCHMARKS.md,
 * sections 1-4): overhead against the plain loop, throughput, where the time goes, history
 * footprint and worker memory, for the parts that ran.
 */
import { cpus } from 'node:os';
import type { ReleaseResult } from '../../core/run.js';
import { kib, load, machine, mean, mib, MiB, pass, percentile, seconds, table } from '../support.js';
import type { PlainRun } from './plain-loop.js';
import type { RunHistory } from './run-history.js';
import type { TemporalRun } from './temporal-run.js';

/** What the parts that ran measured; a part left out with --only is absent. */
export interface OrchestrationResults {
  /** (1a) and (1b), with the lists they scanned. */
  overhead?: { a: TemporalRun; b: PlainRun; lists: { name: string }[] };
  /** (1c): the same comparison with longer scans. */
  long?: { a: TemporalRun; b: PlainRun };
  /** (2a) and (2b): a 0 ms stub. */
  raw?: { a: TemporalRun; b: PlainRun; lists: { name: string }[] };
  /** (3): one big release through Temporal. */
  big?: { run: TemporalRun; lists: { name: string }[] };
}

/** The benchmark's settings, as the tables state them. */
export interface ReportSettings {
  releases: number;
  images: number;
  delayMs: number;
  window: number;
  slots: number;
  big: number;
  longDelayMs: number;
  longImages: number;
  /** Scans in flight at once on either side: releases x window. */
  inFlight: number;
  /** Load average (1/5/15 min) before the first run. */
  loadAtStart: string;
  /** Settings tried other than the defaults, one phrase each. */
  settingsChanged: string[];
}

const print = (text = '') => console.log(text);

const ms = (values: number[], p?: number) => (values.length === 0 ? '-' : `${(p === undefined ? mean(values) : percentile(values, p)).toFixed(0)} ms`);

function resultOf(run: TemporalRun, release: string): ReleaseResult | undefined {
  return run.summary.releases.find((r) => r.release === release)?.result;
}

/** Prints the tables to stdout. */
export function printReport({ overhead, long, raw, big }: OrchestrationResults, settings: ReportSettings): void {
  const { releases: RELEASES, images: IMAGES, delayMs: DELAY_MS, window: WINDOW, slots: SLOTS, big: BIG, longDelayMs: LONG_DELAY_MS, longImages: LONG_IMAGES, inFlight: IN_FLIGHT, loadAtStart, settingsChanged } = settings;
  const total = RELEASES * IMAGES;
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
}
