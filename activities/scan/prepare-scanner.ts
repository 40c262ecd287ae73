/** The scanner activity run once per run: downloads the DB and VEX repositories and pins the run's DB. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { mkdir } from 'node:fs/promises';
import { CacheServiceError, checkCacheService } from '../../cache/redis-protocol.js';
import { classifyTrivyFailure } from '../../core/failures.js';
import type { TrivySettings } from './trivy-settings.js';
import { databaseVersion, removeOldRunDatabases, runDatabase, type DatabaseVersion } from './run-database.js';
import { QUIET_TRIVY } from './trivy-args.js';
import { runTrivy, ScannerNotInstalledError } from './run-trivy.js';
import { scanVex, VexSourceError } from './scan-vex.js';

/** What the scanner's steps need of an activity's context; `check` gives its own (no Temporal). */
export interface ScannerContext {
  signal?: AbortSignal;
  heartbeat: (details?: unknown) => void;
  warn: (message: string) => void;
}

/** The activity's context as a ScannerContext. */
export function activityScannerContext(ctx: Context): ScannerContext {
  return { signal: ctx.cancellationSignal, heartbeat: (details) => ctx.heartbeat(details), warn: (message) => ctx.log.warn(message) };
}

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
 * `--vex repo`: Trivy's VEX repositories (~/.trivy/vex/repository.yaml) into the shared cache,
 * once per run; scans skip the update (`--skip-vex-repo-update`) and read the run's copy. Without
 * network the download fails: that is said once, and scans go on with the copy already there
 * (Trivy skips a repository it has not downloaded, with a warning).
 */
async function prepareVex(deps: { trivy: TrivySettings }, ctx: ScannerContext, runKey: string | undefined): Promise<void> {
  // URL documents: fetched and checked now, so a bad one fails the run once, before any scan.
  if (runKey && deps.trivy.vex?.some((v) => v.kind === 'url')) {
    await scanVex(deps.trivy, runKey).catch((error: unknown) => {
      if (error instanceof VexSourceError) throw ApplicationFailure.create({ type: 'VexSourceUnavailable', message: error.message });
      throw error;
    });
  }
  if (!deps.trivy.vex?.some((v) => v.kind === 'repo')) return;
  await mkdir(deps.trivy.cacheDir, { recursive: true });
  const run = await runTrivy(deps.trivy.bin, ['vex', 'repo', 'download', '--quiet', ...QUIET_TRIVY, '--cache-dir', deps.trivy.cacheDir], {
    timeoutMs: deps.trivy.timeoutSeconds * 1000,
    signal: ctx.signal,
    onTick: () => ctx.heartbeat(),
    tickMs: deps.trivy.heartbeatSeconds * 1000,
  });
  if (run.exitCode !== 0 || run.timedOut) {
    ctx.warn(`trivy vex repo download into ${deps.trivy.cacheDir} failed, scans use the VEX repositories already downloaded, if any: ${classifyTrivyFailure(run.stderr).summary}`);
  }
}

/**
 * Downloads the vulnerability DB once per run into the shared cache, so each scan can skip it,
 * and copies it for the run (scanner-db.ts), so every image of the run meets the same DB.
 */
export function createPrepareScanner(deps: { trivy: TrivySettings }) {
  return async function prepareScanner(input?: PrepareScannerInput): Promise<{ downloaded: boolean; db?: DatabaseVersion }> {
    return prepareScannerFiles(deps.trivy, input?.runKey, activityScannerContext(Context.current()));
  };
}

/** prepareScanner's work with an explicit context: the DB and VEX sources of a run (or of one `check`). */
export async function prepareScannerFiles(trivy: TrivySettings, runKey: string | undefined, ctx: ScannerContext): Promise<{ downloaded: boolean; db?: DatabaseVersion }> {
  await prepareVex({ trivy }, ctx, runKey);
  if (trivy.server) return { downloaded: false };
  await requireCacheService(trivy.cacheBackend);
  await mkdir(trivy.cacheDir, { recursive: true });
  try {
    // Both databases: scans skip updating either, so concurrent scans never race to download the Java DB.
    for (const flag of ['--download-db-only', '--download-java-db-only']) {
      const run = await runTrivy(trivy.bin, ['image', flag, '--quiet', ...QUIET_TRIVY, '--cache-dir', trivy.cacheDir], {
        timeoutMs: trivy.timeoutSeconds * 1000,
        signal: ctx.signal,
        onTick: () => ctx.heartbeat(),
        tickMs: trivy.heartbeatSeconds * 1000,
      });
      if (run.exitCode !== 0 || run.timedOut) {
        const failure = classifyTrivyFailure(run.stderr);
        throw ApplicationFailure.create({ type: 'DatabaseError', message: `trivy ${flag} into ${trivy.cacheDir} failed: ${failure.summary}` });
      }
    }
  } catch (error) {
    if (error instanceof ScannerNotInstalledError) {
      throw ApplicationFailure.create({ type: 'ScannerNotInstalled', message: error.message, nonRetryable: true });
    }
    throw error;
  }
  if (!runKey) return { downloaded: true, db: await databaseVersion(trivy.cacheDir) };
  await removeOldRunDatabases(trivy.cacheDir);
  const dir = await runDatabase(trivy.cacheDir, runKey);
  return { downloaded: true, db: await databaseVersion(dir) };
}
