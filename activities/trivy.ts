import { spawn } from 'node:child_process';

export interface TrivyRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export class ScannerNotInstalledError extends Error {
  override name = 'ScannerNotInstalledError';
}

const STDERR_LIMIT = 64 * 1024;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    // Negative pid: Trivy and anything it started, so nothing outlives a cancelled scan.
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs Trivy as its own process group. Resolves with what it printed; rejects
 * only when it could not start or when `signal` aborts (after killing it).
 */
export function runTrivy(
  bin: string,
  args: string[],
  options: { timeoutMs: number; signal?: AbortSignal; onTick?: () => void; tickMs?: number },
): Promise<TrivyRun> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const child = spawn(bin, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_LIMIT);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);
    const ticker = options.onTick ? setInterval(options.onTick, options.tickMs ?? 5000) : undefined;
    const onAbort = () => killGroup(child.pid);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      reject(error.code === 'ENOENT' ? new ScannerNotInstalledError(`Trivy executable "${bin}" was not found; install Trivy or set TRIVY_BIN`) : error);
    });
    child.on('close', (exitCode, signal) => {
      cleanup();
      if (options.signal?.aborted) {
        reject(options.signal.reason);
        return;
      }
      resolve({ exitCode, signal, stdout, stderr, timedOut });
    });
  });
}
