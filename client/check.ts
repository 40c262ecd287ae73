/** `check IMAGE`: scans one image now as a run would (DB, layer cache, VEX, re-match) and sets it against the newest reports: still present, fixed, new. */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { storedReport } from '../activities/report/stored-report.js';
import { prepareScannerFiles, type ScannerContext } from '../activities/scan/prepare-scanner.js';
import { runDatabaseDir } from '../activities/scan/run-database.js';
import { scanRecord } from '../activities/scan/scan-record.js';
import type { ResultStore } from '../activities/store/result-store.js';
import { buildImageRecords, formatListProblems, parseImageList } from '../core/image-list.js';
import { checkExitCode, checkImage, type ImageCheck } from '../core/image-check.js';
import { renderImageCheck } from '../core/render/check.js';
import type { ImageScan } from '../core/scan.js';
import type { TriagedFinding } from '../core/triage.js';
import { ConfigError, loadEnvConfig } from '../worker/config.js';
import { depsFromConfig } from '../worker/worker.js';
import { scanCache } from './commands.js';
import { findCrane } from './crane-cli.js';
import { EXIT_RUN_FAILED } from './scan.js';
import { findTrivy } from './trivy-cli.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Each release's newest rows of `image`, from the latest report of every release in the store. */
export async function reportedRows(store: ResultStore, image: string): Promise<{ release: string; rows: TriagedFinding[] }[]> {
  const reported: { release: string; rows: TriagedFinding[] }[] = [];
  for (const folder of await store.list('releases')) {
    const report = await storedReport(store, `releases/${folder}/latest-report.json`, `releases/${folder}/latest-report.csv`);
    if (!report?.head.images.records.some((r) => r.image === image)) continue;
    const rows: TriagedFinding[] = [];
    for await (const row of report.rows()) if (row.image === image) rows.push(row);
    reported.push({ release: report.head.release, rows });
  }
  return reported.sort((a, b) => (a.release < b.release ? -1 : a.release > b.release ? 1 : 0));
}

export async function checkImageCommand(image: string, flags: { json?: boolean }): Promise<number> {
  const parsed = parseImageList(image, 'IMAGE');
  if (parsed.problems.length > 0 || parsed.entries.length !== 1) throw new ConfigError(`not an image reference: ${formatListProblems(parsed.problems) || JSON.stringify(image)}`);
  const [record] = buildImageRecords({ images: parsed });
  const env = loadEnvConfig();
  const trivy = await findTrivy({ install: true, log });
  const cache = await scanCache(env);
  const crane = env.IMAGE_SCANNING_REMATCH ? await findCrane({ install: true, log }) : undefined;
  const deps = depsFromConfig({ ...env, TRIVY_BIN: trivy, CRANE_BIN: crane, TRIVY_CACHE_BACKEND: cache, TRIVY_CACHE_PASSWORD_FILE: undefined });
  // No registry quota across a run: a check is one image, and a 429 is its answer.
  const settings = { ...deps.trivy, rateLimitDeadlineSeconds: undefined };
  const ctx: ScannerContext & { sleep: (ms: number) => Promise<void> } = {
    heartbeat: () => undefined,
    warn: log,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  // The check's own copy of the DB (as a run has), updated first as a run's prepareScanner does.
  const runKey = `check-${randomUUID()}`;
  let check: ImageCheck;
  try {
    await prepareScannerFiles(settings, runKey, ctx);
    const result = await scanRecord({ store: deps.store, trivy: settings }, record!, runKey, ctx);
    const scan: ImageScan = result.scan ?? { image: record!.image, outcome: 'failed', osScanned: false, findings: [], failure: result.failure };
    check = checkImage(scan, await reportedRows(deps.store, record!.image));
  } finally {
    await rm(runDatabaseDir(settings.cacheDir, runKey), { recursive: true, force: true });
    await deps.store.close?.();
  }
  process.stdout.write(flags.json ? `${JSON.stringify({ ...check, exitCode: check.failure ? EXIT_RUN_FAILED : checkExitCode(check) }, null, 2)}\n` : renderImageCheck(check));
  return check.failure ? EXIT_RUN_FAILED : checkExitCode(check);
}
