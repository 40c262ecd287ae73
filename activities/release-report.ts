import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { ImageRecord } from '../core/image-list.js';
import { InvalidReportCsvError, parseReportCsv, renderReportCsv } from '../core/render/csv.js';
import { renderOpenVex } from '../core/render/openvex.js';
import type { ImageScan } from '../core/scan.js';
import { keepsPreviousRows, mergeTriage, summarizeReport, type ReleaseReport, type ReleaseReportSummary } from '../core/triage.js';
import type { ReportStore } from './report-store.js';
import { csvFileName, reportPaths } from './reports.js';
import { ResultStore, runFolderKeys, writeFileAtomic } from './result-store.js';

const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');

/** How often a write that lost a race with a person's commit re-reads and re-merges before giving up. */
const MAX_MERGE_ATTEMPTS = 5;

/** The scans of a release's images as one run folder holds them; an image without a result was not scanned. */
export async function loadReleaseScans(runFolder: ResultStore, release: string): Promise<{ images: ImageRecord[]; scans: Map<string, ImageScan> }> {
  const images = (await runFolder.readJson<ImageRecord[]>(runFolderKeys.images(release))) ?? [];
  const scans = new Map<string, ImageScan>();
  for (const record of images) {
    const scan = await runFolder.readJson<ImageScan>(runFolderKeys.result(record.canonical));
    if (scan) scans.set(record.image, scan);
  }
  return { images, scans };
}

function parsePrevious(text: string | undefined, source: string, scans: ReadonlyMap<string, ImageScan>) {
  if (text === undefined) return [];
  try {
    // Only rows written again verbatim need every cell.
    return parseReportCsv(text, source, { keepCells: (image) => keepsPreviousRows(scans.get(image)) });
  } catch (error) {
    if (error instanceof InvalidReportCsvError) {
      // Overwriting a file we cannot read would destroy people's notes: stop here.
      throw ApplicationFailure.create({ type: 'InvalidPreviousReport', message: `${error.message}; it was left untouched`, nonRetryable: true });
    }
    throw error;
  }
}

export interface ComposedReport {
  report: ReleaseReport;
  summary: ReleaseReportSummary;
  csv: string;
  /** Times the merge was redone because someone committed between read and write. */
  conflicts: number;
}

/**
 * Merges the scans with the previous CSV in `store` and writes the new CSV
 * there, compare-and-swap: on a conflict it re-reads, re-merges and writes
 * again, so an edit made during the run is kept. `previousText` overrides
 * what the store holds as the previous report (for `render --previous`).
 */
export async function composeReleaseReport(input: {
  release: string;
  images: ImageRecord[];
  scans: ReadonlyMap<string, ImageScan>;
  store: ReportStore;
  today: string;
  message: string;
  previousText?: { text: string; source: string };
}): Promise<ComposedReport> {
  const name = csvFileName(input.release);
  // Only the stored file's digest outlives its parse: at 200,000 rows its text is 60 MB.
  const readPrevious = async () => {
    const stored = await input.store.read(name);
    const previousSource = input.previousText ?? (stored ? { text: stored.text, source: `${input.store.description}/${name}` } : undefined);
    const previous = parsePrevious(previousSource?.text, previousSource?.source ?? name, input.scans);
    return { previous, version: stored?.version, digest: stored ? digestOf(stored.text) : undefined };
  };
  for (let attempt = 1; ; attempt++) {
    const { previous, version, digest } = await readPrevious();
    const report = mergeTriage({ release: input.release, images: input.images, scans: input.scans, previous, today: input.today });
    const csv = renderReportCsv(report);
    // An unchanged report is not written again: no empty weekly commit.
    const outcome = digest === digestOf(csv) ? 'written' : await input.store.write(name, csv, version, input.message);
    if (outcome === 'written') return { report, summary: summarizeReport(report), csv, conflicts: attempt - 1 };
    if (attempt >= MAX_MERGE_ATTEMPTS) {
      throw ApplicationFailure.create({ type: 'ReportConflict', message: `${input.store.description}/${name} changed during each of ${attempt} merges; will retry` });
    }
  }
}

/** The files beside the CSV in the reports directory: a copy of the CSV, the summary and the OpenVEX statements. */
export async function writeReportOutputs(reportsDir: string, composed: ComposedReport, generatedAt: string): Promise<{ csvPath: string; summaryPath: string }> {
  const release = composed.report.release;
  const csvPath = reportPaths.csv(reportsDir, release);
  const summaryPath = reportPaths.summary(reportsDir, release);
  await writeFileAtomic(csvPath, composed.csv);
  await writeFileAtomic(summaryPath, `${JSON.stringify({ ...composed.summary, generatedAt }, null, 2)}\n`);
  await writeFileAtomic(reportPaths.openVex(reportsDir, release), renderOpenVex(composed.report, { timestamp: generatedAt }));
  return { csvPath, summaryPath };
}
