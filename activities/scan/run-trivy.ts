/** Runs the Trivy CLI through the process launcher with a timeout and heartbeats. */
import { processLauncher } from './process-launcher.js';

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

/**
 * Runs Trivy as its own process group, started by the scanner launcher. Resolves with what it
 * printed; rejects only when it could not start or when `signal` aborts (after killing it).
 */
export function runTrivy(
  bin: string,
  args: string[],
  options: { timeoutMs: number; signal?: AbortSignal; onTick?: () => void; tickMs?: number; env?: Record<string, string> },
): Promise<TrivyRun> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const launched = processLauncher().launch(bin, args, options.env);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      launched.kill();
    }, options.timeoutMs);
    const ticker = options.onTick ? setInterval(options.onTick, options.tickMs ?? 5000) : undefined;
    const onAbort = () => launched.kill();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      options.signal?.removeEventListener('abort', onAbort);
    };
    launched.exited.then(
      ({ exitCode, signal, stdout, stderr }) => {
        cleanup();
        if (options.signal?.aborted) reject(options.signal.reason);
        else resolve({ exitCode, signal, stdout, stderr, timedOut });
      },
      (error: NodeJS.ErrnoException) => {
        cleanup();
        reject(error.code === 'ENOENT' ? new ScannerNotInstalledError(`Trivy executable "${bin}" was not found; install Trivy or set TRIVY_BIN`) : error);
      },
    );
  });
}
