/** One image record scanned as a run scans it (run DB, layer cache, VEX, quota, re-match path), with an explicit context: the scan activity's core, and `check`'s. */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { ImageRecord } from '../../core/image-list.js';
import { registryQuota } from '../registry/registry-quota.js';
import type { ResultStore } from '../store/result-store.js';
import { requireCacheService, type ScannerContext } from './prepare-scanner.js';
import { runDatabase } from './run-database.js';
import { scanByPath, type ScanResult } from './scan-by-path.js';
import { scanVex, VexSourceError } from './scan-vex.js';
import type { TrivySettings } from './trivy-settings.js';

// One scratch folder for Trivy's reports per process, rather than a folder a scan; removed when the process exits.
let scratch: Promise<string> | undefined;
function scratchDir(): Promise<string> {
  scratch ??= mkdtemp(join(tmpdir(), 'image-scanning-')).then((dir) => {
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  });
  return scratch;
}

/** A VEX URL that cannot be fetched is the run's problem: retried, never scanned without it. */
async function scanVexOf(trivy: TrivySettings, runKey: string) {
  try {
    return await scanVex(trivy, runKey);
  } catch (error) {
    if (error instanceof VexSourceError) throw ApplicationFailure.create({ type: 'VexSourceUnavailable', message: error.message });
    throw error;
  }
}

export async function scanRecord(
  deps: { store: ResultStore; trivy: TrivySettings },
  record: ImageRecord,
  runKey: string,
  ctx: ScannerContext & { sleep: (ms: number) => Promise<void> },
  options: { defer?: boolean } = {},
): Promise<ScanResult> {
  let databaseDir = deps.trivy.cacheDir;
  if (!deps.trivy.server) {
    // Before Trivy runs: with the cache down it would download every layer, then fail to store them.
    await requireCacheService(deps.trivy.cacheBackend);
    databaseDir = await runDatabase(deps.trivy.cacheDir, runKey);
  }
  const dir = await scratchDir();
  // Again each time: a temp cleaner may have removed it while the worker ran for weeks.
  await mkdir(dir, { recursive: true });
  const vex = deps.trivy.vex?.length ? await scanVexOf(deps.trivy, runKey) : undefined;
  const quota =
    deps.trivy.rateLimitDeadlineSeconds !== undefined
      ? registryQuota(
          deps.store,
          runKey,
          { pauseSeconds: deps.trivy.rateLimitBackoffSeconds, deadlineSeconds: deps.trivy.rateLimitDeadlineSeconds },
          { heartbeat: (details) => ctx.heartbeat(details), sleep: ctx.sleep },
        )
      : undefined;
  const pass = { signal: ctx.signal, heartbeat: () => ctx.heartbeat({ image: record.image }) };
  return scanByPath({ trivy: deps.trivy, store: deps.store, record, databaseDir, vex, scratch: dir, pass, quota, defer: options.defer, warn: ctx.warn });
}
