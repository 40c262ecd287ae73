import { ApplicationFailure } from '@temporalio/common';
import { readFile } from 'node:fs/promises';
import type { ImageRecord } from '../core/image-list.js';
import { InvalidReportCsvError, parseReportCsv, renderReportCsv } from '../core/render/csv.js';
import type { ReleaseReportResult } from '../core/run.js';
import type { ImageScan } from '../core/scan.js';
import { mergeTriage, summarizeReport, type PreviousRow, type ReleaseReport } from '../core/triage.js';
import type { ActivityDeps } from './deps.js';
import { reportPaths } from './reports.js';
import { storeKeys, writeFileAtomic } from './result-store.js';

async function readPrevious(path: string): Promise<PreviousRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    return parseReportCsv(text, path);
  } catch (error) {
    if (error instanceof InvalidReportCsvError) {
      // Overwriting a file we cannot read would destroy people's notes: stop here.
      throw ApplicationFailure.create({ type: 'InvalidPreviousReport', message: `${error.message}; it was left untouched`, nonRetryable: true });
    }
    throw error;
  }
}

export function createWriteReleaseReport(deps: ActivityDeps) {
  return async function writeReleaseReport(input: { runKey: string; release: string }): Promise<ReleaseReportResult> {
    const images = (await deps.store.readJson<ImageRecord[]>(storeKeys.images(input.runKey, input.release))) ?? [];
    const scans = new Map<string, ImageScan>();
    for (const record of images) {
      const scan = await deps.store.readJson<ImageScan>(storeKeys.result(input.runKey, record.canonical));
      if (scan) scans.set(record.image, scan);
    }
    const csvPath = reportPaths.csv(deps.reportsDir, input.release);
    const summaryPath = reportPaths.summary(deps.reportsDir, input.release);
    const previous = await readPrevious(csvPath);
    const report: ReleaseReport = mergeTriage({ release: input.release, images, scans, previous, today: new Date().toISOString().slice(0, 10) });
    const summary = summarizeReport(report);
    await deps.store.writeJson(storeKeys.report(input.runKey, input.release), report);
    await deps.store.writeJson(storeKeys.latestReport(input.release), report);
    await writeFileAtomic(csvPath, renderReportCsv(report));
    await writeFileAtomic(summaryPath, `${JSON.stringify({ ...summary, generatedAt: new Date().toISOString() }, null, 2)}\n`);
    return {
      release: input.release,
      csvPath,
      summaryPath,
      findings: summary.findings,
      bySeverity: summary.bySeverity,
      images: summary.images.total,
      failedScans: summary.images.failed,
      osNotScanned: summary.images.osNotScanned,
      invalidIgnores: summary.invalidIgnores,
      newFindings: summary.changes.new,
      fixedFindings: summary.changes.fixed,
    };
  };
}
