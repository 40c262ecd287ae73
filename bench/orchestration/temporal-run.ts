/**
 * Side (a) of the comparison: releases scanned through Temporal (scanReleases on the dev server,
 * the worker as its own process), with its wall time, CPU, worker memory and histories.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { startRun } from '../../client/scan.js';
import type { RunSummary } from '../../core/run.js';
import { byThreadName, cpuOf, launcherCpuOf, memoryOf, MiB, resetPeak, sampleRss, threadsOf, type DevServer } from '../support.js';
import type { GcLog } from './gc-log.js';
import { fetchChain, fetchRun, type RunHistory } from './run-history.js';
import { mergeTimings, timings, type Timings } from './timings.js';
import { spawnWorker, type WorkerProcessOptions } from './worker-process.js';

/** The settings of every run through Temporal. */
export interface TemporalRunSettings extends WorkerProcessOptions {
  /** MAX_CONCURRENT_ACTIVITIES of the worker. */
  slots: number;
  /** maxConcurrentScans: scans in flight a release. */
  window: number;
  /** ScanReleasesInput.maxScansPerRun (unset: Temporal's continue-as-new suggestion only). */
  maxScansPerRun?: number;
  /** Extra environment of the worker, NAME=value each. */
  workerEnv: string[];
}

export interface TemporalRun {
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

/** Scans `releases` through scanReleases (skipPublish) with a fresh worker process, and measures it. */
export async function temporalRun(
  client: Client,
  server: DevServer,
  work: string,
  bundlePath: string,
  label: string,
  stub: string,
  releases: { name: string; images: string }[],
  settings: TemporalRunSettings,
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
    MAX_CONCURRENT_ACTIVITIES: String(settings.slots),
    WORKFLOW_BUNDLE: bundlePath,
    LOG_LEVEL: 'INFO',
    ...Object.fromEntries(settings.workerEnv.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
  };
  await mkdir(dir, { recursive: true });
  const worker = await spawnWorker(env, settings);
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
    const handle = await startRun(client, { releases, maxConcurrentScans: settings.window, maxScansPerRun: settings.maxScansPerRun, skipPublish: true }, { taskQueue, workflowId: `bench-${label}-${randomUUID()}` });
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
      settings: `worker process, ${settings.slots} activity slots, window ${settings.window} per release`,
    };
  } finally {
    worker.child.kill('SIGTERM');
    const timer = setTimeout(() => worker.child.kill('SIGKILL'), 15_000);
    await worker.exited;
    clearTimeout(timer);
  }
}
