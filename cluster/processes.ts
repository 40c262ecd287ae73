import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A process of the cluster: started detached, so it outlives `cluster up`, and found again by its pid file. */
export interface ManagedProcess {
  name: string;
  pidFile: string;
  logFile: string;
}

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by its parent) counts as gone.
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export function pidOf(p: ManagedProcess): number | undefined {
  if (!existsSync(p.pidFile)) return undefined;
  const pid = Number(readFileSync(p.pidFile, 'utf8').trim());
  return alive(pid) ? pid : undefined;
}

export function startDetached(p: ManagedProcess, file: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): number {
  mkdirSync(dirname(p.pidFile), { recursive: true });
  mkdirSync(dirname(p.logFile), { recursive: true });
  const log = openSync(p.logFile, 'a');
  const child = spawn(file, args, { env, cwd, detached: true, stdio: ['ignore', log, log] });
  child.unref();
  if (!child.pid) throw new Error(`${p.name}: ${file} did not start`);
  writeFileSync(p.pidFile, `${child.pid}\n`);
  return child.pid;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(p: ManagedProcess, graceMs = 15_000): Promise<boolean> {
  const pid = pidOf(p);
  if (!pid) {
    rmSync(p.pidFile, { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  rmSync(p.pidFile, { force: true });
  return true;
}

export function logTail(p: ManagedProcess, lines = 20): string {
  try {
    return readFileSync(p.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
