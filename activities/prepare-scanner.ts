import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { mkdir } from 'node:fs/promises';
import { classifyTrivyFailure } from '../core/failures.js';
import type { ActivityDeps } from './deps.js';
import { runTrivy, ScannerNotInstalledError } from './trivy.js';

/** Downloads the vulnerability DB once per run into the shared cache, so each scan can skip it. */
export function createPrepareScanner(deps: ActivityDeps) {
  return async function prepareScanner(): Promise<{ downloaded: boolean }> {
    if (deps.trivy.server) return { downloaded: false };
    const ctx = Context.current();
    await mkdir(deps.trivy.cacheDir, { recursive: true });
    try {
      // Both databases: scans skip updating either, so concurrent scans never race to download the Java DB.
      for (const flag of ['--download-db-only', '--download-java-db-only']) {
        const run = await runTrivy(deps.trivy.bin, ['image', flag, '--quiet', '--cache-dir', deps.trivy.cacheDir], {
          timeoutMs: deps.trivy.timeoutSeconds * 1000,
          signal: ctx.cancellationSignal,
          onTick: () => ctx.heartbeat(),
          tickMs: deps.trivy.heartbeatSeconds * 1000,
        });
        if (run.exitCode !== 0 || run.timedOut) {
          const failure = classifyTrivyFailure(run.stderr);
          throw ApplicationFailure.create({ type: 'DatabaseError', message: `trivy ${flag} into ${deps.trivy.cacheDir} failed: ${failure.summary}` });
        }
      }
      return { downloaded: true };
    } catch (error) {
      if (error instanceof ScannerNotInstalledError) {
        throw ApplicationFailure.create({ type: 'ScannerNotInstalled', message: error.message, nonRetryable: true });
      }
      throw error;
    }
  };
}
