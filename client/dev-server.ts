import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { serverAnswers } from '../host/temporal-server.js';
import { RELEASE_SEARCH_ATTRIBUTES } from '../host/temporal-server.js';
import { paths } from '../host/paths.js';

export interface DevServerOptions {
  cli: string;
  /** SQLite file; the embedded default keeps history across restarts. */
  dbFile?: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  /** Keep running after this process exits (so the Web UI link stays valid). */
  detached?: boolean;
  stdio?: 'inherit' | 'log';
}

/**
 * Off by default in the server: a scan then starts in the worker whose workflow task scheduled
 * it, skipping a trip through matching (deploy/dynamicconfig does the same for compose).
 */
export const EAGER_ACTIVITIES = ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];

export function devServerArgs(options: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', options.ip ?? '127.0.0.1', '--port', String(options.port ?? 7233), '--ui-port', String(options.uiPort ?? 8233)];
  if (options.dbFile) {
    // WAL with synchronous=NORMAL: a commit survives the server or the machine's processes
    // being killed (the restart drill), only a power cut may drop the last few; in exchange the
    // server spends about a third less CPU a scan (BENCHMARKS.md, "Dev server persistence").
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  for (const name of RELEASE_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${name}=KeywordList`);
  args.push('--log-level', 'warn');
  args.push(...EAGER_ACTIVITIES);
  return args;
}

export function startDevServer(options: DevServerOptions): ChildProcess {
  mkdirSync(paths.data, { recursive: true });
  const stdio = options.stdio === 'inherit' ? 'inherit' : ['ignore', openSync(paths.devServerLog, 'a'), openSync(paths.devServerLog, 'a')];
  const child = spawn(options.cli, devServerArgs(options), { stdio: stdio as never, detached: options.detached ?? false });
  if (options.detached) child.unref();
  return child;
}

export { serverAnswers };

export async function waitForServer(address: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the Temporal dev server exited with code ${child.exitCode}; see ${paths.devServerLog}`);
    if (await serverAnswers(address, 1000)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the Temporal server at ${address} did not answer within ${timeoutMs / 1000}s; see ${paths.devServerLog}`);
}
