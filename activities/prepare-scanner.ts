import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { mkdir } from 'node:fs/promises';
import { CacheServiceError, checkCacheService } from '../cache/redis-protocol.js';
import { classifyTrivyFailure } from '../core/failures.js';
import type { ActivityDeps } from './deps.js';
import { databaseVersion, removeOldRunDatabases, runDatabase, type DatabaseVersion } from './scanner-db.js';
import { QUIET_TRIVY } from './trivy-args.js';
import { runTrivy, ScannerNotInstalledError } from './trivy.js';

export interface PrepareScannerInput {
  /** The run whose copy of the DB to make; runs started before copies existed pass none. */
  runKey?: string;
}

/** A cache service that is down is the run's problem, not one image's: said once, clearly, before any scan. */
export async function requireCacheService(cacheBackend: string): Promise<void> {
  if (cacheBackend === 'memory') return;
  if (!cacheBackend.startsWith('redis://')) {
    throw ApplicationFailure.create({
      type: 'CacheUnavailable',
      message: 'no scan cache is configured: set TRIVY_CACHE_BACKEND=redis://... (or memory, for none), or start the worker with `image-scanning worker`, which starts the embedded one',
      nonRetryable: true,
    });
  }
  try {
    await checkCacheService(cacheBackend);
  } catch (error) {
    if (!(error instanceof CacheServiceError)) throw error;
    throw ApplicationFailure.create({ type: 'CacheUnavailable', message: error.message });
  }
}

/**
 * Downloads the vulnerability DB once per run into the shared cache, so each scan can skip it,
 * and copies it for the run (scanner-db.ts), so every image of the run meets the same DB.
 */
export function createPrepareScanner(deps: ActivityDeps) {
  return async function prepareScanner(input?: PrepareScannerInput): Promise<{ downloaded: boolean; db?: DatabaseVersion }> {
    if (deps.trivy.server) return { downloaded: false };
    const ctx = Context.current();
    await requireCacheService(deps.trivy.cacheBackend);
    await mkdir(deps.trivy.cacheDir, { recursive: true });
    try {
      // Both databases: scans skip updating either, so concurrent scans never race to download the Java DB.
      for (const flag of ['--download-db-only', '--download-java-db-only']) {
        const run = await runTrivy(deps.trivy.bin, ['image', flag, '--quiet', ...QUIET_TRIVY, '--cache-dir', deps.trivy.cacheDir], {
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
    } catch (error) {
      if (error instanceof ScannerNotInstalledError) {
        throw ApplicationFailure.create({ type: 'ScannerNotInstalled', message: error.message, nonRetryable: true });
      }
      throw error;
    }
    if (!input?.runKey) return { downloaded: true, db: await databaseVersion(deps.trivy.cacheDir) };
    await removeOldRunDatabases(deps.trivy.cacheDir);
    const dir = await runDatabase(deps.trivy.cacheDir, input.runKey);
    return { downloaded: true, db: await databaseVersion(dir) };
  };
}
