/**
 * Starts the worker as its own process (`node lib/client/cli.js worker`, as deployed) with only
 * the benchmark's settings, logs what it prints, and waits until it polls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../host/paths.js';
import { GcLog } from './gc-log.js';

const CLI = join(PROJECT_ROOT, 'lib', 'client', 'cli.js');

/** How node runs the worker, besides `--trace-gc`. */
export interface WorkerProcessOptions {
  /** Write V8 CPU profiles of the worker into this folder. */
  profile?: string;
  /** Extra node flags, e.g. --max-old-space-size=256. */
  nodeArgs: string[];
}

export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  gc: GcLog;
}

/** Starts the worker with `env` (and nothing of this shell's configuration) and waits until it polls. */
export async function spawnWorker(env: Record<string, string>, options: WorkerProcessOptions): Promise<WorkerProcess> {
  // Only our settings: nothing of this shell's Temporal, GitHub or Trivy configuration leaks in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|GITHUB_|TRIVY_|IMAGE_SCANNING_|REPORTS_GITHUB_|MAX_CONCURRENT_|WORKFLOW_BUNDLE)/.test(k)));
  // --trace-gc: one stdout line per V8 collection, to tell live memory from garbage not yet collected (GcLog).
  const nodeArgs = ['--trace-gc', ...(options.profile ? ['--cpu-prof', '--cpu-prof-dir', options.profile] : []), ...options.nodeArgs];
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
