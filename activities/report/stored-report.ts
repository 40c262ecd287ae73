/** A stored release report read back: its head at once, its rows one at a time (claim check). */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { renderReportCsv, triageListKey } from '../../core/render/csv.js';
import { imagesOfReleases, summarizeReport, type ReleaseReport, type ReleaseReportHead, type ReleaseReportSummary, type TriagedFinding } from '../../core/triage.js';
import { readTriagedFindings, type RowContext } from './report-csv.js';
import { READ_CHUNK, storeKeys, temporaryPath, writeFileAtomic, type ResultStore } from '../store/result-store.js';

/**
 * A release's report as the issue and site activities read it: its head (small) at once,
 * its rows one at a time, from the CSV the report activity stored (claim check), so no
 * activity ever holds a release's rows whole.
 */
export interface ReportSource {
  head: ReleaseReportHead;
  summary: ReleaseReportSummary;
  /** The rows of the images scanned this run, in the CSV's order (image first); read again on each call. */
  rows(): AsyncIterable<TriagedFinding>;
  /** Writes the release CSV as stored, carried rows included, to `path`. */
  writeCsv(path: string): Promise<void>;
}

/** What the report activity stores beside the rows: the head and the summary. */
export interface StoredReportHead extends ReleaseReportHead {
  summary: ReleaseReportSummary;
}

/** A report held in memory (tests, benchmarks, a report stored before the rows moved to a CSV). */
export function inMemoryReport(report: ReleaseReport): ReportSource {
  return {
    head: report,
    summary: summarizeReport(report),
    rows: async function* rows() {
      yield* report.rows;
    },
    writeCsv: (path) => writeFileAtomic(path, renderReportCsv(report)),
  };
}

export function isReportSource(report: ReleaseReport | ReportSource): report is ReportSource {
  return typeof (report as ReportSource).rows === 'function';
}

export const asReportSource = (report: ReleaseReport | ReportSource): ReportSource => (isReportSource(report) ? report : inMemoryReport(report));

/**
 * The report stored under `headKey` with its rows under `rowsKey`; undefined when there is
 * none. A head that still holds its rows (written by an earlier version) is read as it is.
 */
export async function storedReport(store: ResultStore, headKey: string, rowsKey: string): Promise<ReportSource | undefined> {
  const stored = await store.readJson<StoredReportHead | ReleaseReport>(headKey);
  if (!stored) return undefined;
  if (Array.isArray((stored as ReleaseReport).rows)) return inMemoryReport({ ...(stored as ReleaseReport), carriedRows: (stored as ReleaseReport).carriedRows ?? [] });
  const { summary, ...head } = stored as StoredReportHead;
  return csvReport(head, summary, store.path(rowsKey), async () => {
    const stream = await store.openFile(rowsKey);
    if (!stream) throw new Error(`the rows of the ${head.release} report are missing from ${store.path(rowsKey)} although its summary is at ${store.path(headKey)}`);
    return stream;
  });
}

/** A report whose rows are the CSV at `path` that this project wrote (`render`). */
export function csvFileReport(head: ReleaseReportHead, summary: ReleaseReportSummary, path: string): ReportSource {
  return csvReport(head, summary, path, () => Promise.resolve(createReadStream(path, { highWaterMark: READ_CHUNK })));
}

function csvReport(head: ReleaseReportHead, summary: ReleaseReportSummary, source: string, open: () => Promise<Readable>): ReportSource {
  const context: RowContext = {
    date: head.date,
    disagreements: new Map((summary.vexDisagreements ?? []).map((e) => [triageListKey(e), e.detail])),
    // Rows of images whose scan failed were carried over from last week, not found this run.
    skipImages: new Set(head.images.failed.map((f) => f.image)),
  };
  return {
    head,
    summary,
    rows: async function* rows() {
      yield* readTriagedFindings(await open(), source, context);
    },
    writeCsv: async (path) => {
      const tmp = temporaryPath(path);
      await pipeline(await open(), createWriteStream(tmp));
      await rename(tmp, path);
    },
  };
}

/** An async iterator that can look at its next row without taking it. */
class RowCursor {
  private next?: IteratorResult<TriagedFinding>;
  constructor(private readonly rows: AsyncIterator<TriagedFinding>) {}

  async peek(): Promise<TriagedFinding | undefined> {
    this.next ??= await this.rows.next();
    return this.next.done ? undefined : this.next.value;
  }

  take(): void {
    this.next = undefined;
  }
}

/**
 * Each image's rows in every report, one image at a time, for `images` in sorted order: every
 * report's rows are sorted by image, so merging the reports' row streams gives an image its
 * rows of every release while only that image's are held. `rows[i]` are the image's rows in
 * `reports[i]`.
 */
export async function* rowsByImage(reports: ReportSource[], images: string[]): AsyncGenerator<{ image: string; rows: TriagedFinding[][] }> {
  const cursors = reports.map((r) => new RowCursor(r.rows()[Symbol.asyncIterator]()));
  for (const image of images) {
    const rows: TriagedFinding[][] = [];
    for (const cursor of cursors) {
      const ofImage: TriagedFinding[] = [];
      for (let row = await cursor.peek(); row && row.image <= image; row = await cursor.peek()) {
        // A row of an image no release lists (cannot happen in a CSV we wrote) is passed over.
        if (row.image === image) ofImage.push(row);
        cursor.take();
      }
      rows.push(ofImage);
    }
    yield { image, rows };
  }
}

/** Every image of the reports, sorted as their CSVs sort them: the order `rowsByImage` walks. */
export const imagesOf = (reports: ReportSource[]): string[] => imagesOfReleases(reports.map((r) => r.head));


/** The reports the release activities of a run left in the store; a release without one is skipped. */
export async function loadReports(deps: { store: ResultStore }, runKey: string, releases: string[]): Promise<ReportSource[]> {
  const reports: ReportSource[] = [];
  for (const release of releases) {
    const report = await storedReport(deps.store, storeKeys.report(runKey, release), storeKeys.reportRows(runKey, release));
    if (report) reports.push(report);
  }
  return reports;
}

/** The newest stored report of a release, whichever run wrote it (`issues plan|apply`, the site). */
export function latestReport(deps: { store: ResultStore }, release: string): Promise<ReportSource | undefined> {
  return storedReport(deps.store, storeKeys.latestReport(release), storeKeys.latestReportRows(release));
}
