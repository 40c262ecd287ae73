/**
 * The scanner launcher: a small process the worker forks once, which starts every scanner
 * process on the worker's behalf.
 *
 * Why: starting a process copies the page tables of the process that starts it, so the cost
 * grows with its resident memory: from a process of the worker's size (300 MB with the SDK
 * and the workflow threads) 8 to 18 ms of CPU a start, through this process (no imports
 * beyond Node's child_process) about 3 ms with the started shell's own (`npm run bench:spawn`).
 * And when the worker dies, even by SIGKILL, its IPC channel closes and this process kills
 * every scan it started, so no scanner outlives its worker.
 *
 * It imports nothing but node:child_process and is not meant to be run by hand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { LauncherReply, LauncherRequest } from './process-launcher.js';

/** Bounded like the worker's own capture: the tail of stderr says why a scan failed. */
const STDERR_LIMIT = 64 * 1024;

const running = new Map<number, ChildProcess>();

function send(reply: LauncherReply): void {
  if (process.connected) process.send!(reply);
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    // Negative pid: the scanner and anything it started.
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function killAllAndExit(): never {
  for (const child of running.values()) killGroup(child);
  process.exit(0);
}

function launch(request: Extract<LauncherRequest, { type: 'spawn' }>): void {
  let settled = false;
  let stdout = '';
  let stderr = '';
  const child = spawn(request.file, request.args, { detached: true, env: request.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(request.id, child);
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  child.on('error', (error: NodeJS.ErrnoException) => {
    running.delete(request.id);
    if (settled) return;
    settled = true;
    send({ type: 'error', id: request.id, code: error.code, message: error.message });
  });
  child.on('close', (exitCode, signal) => {
    running.delete(request.id);
    if (settled) return;
    settled = true;
    send({ type: 'exit', id: request.id, exitCode, signal, stdout, stderr });
  });
}

process.on('message', (request: LauncherRequest) => {
  if (request.type === 'spawn') launch(request);
  else if (request.type === 'kill') {
    const child = running.get(request.id);
    if (child) killGroup(child);
  }
});
// The worker went away (exit, crash or SIGKILL): its scans must not run on unattended.
process.on('disconnect', killAllAndExit);
process.on('SIGTERM', killAllAndExit);
// Ctrl-C reaches the whole foreground group; the worker decides what its scans do then.
process.on('SIGINT', () => undefined);
send({ type: 'ready' });
