/** Merges a release's scans with its previous CSV into the new CSV, summary and OpenVEX, a row at a time. */
import type { ReleaseSource } from '../../core/release-source.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import type { ImageRecord } from '../../core/image-list.js';
import { PreviousReport } from '../../core/previous-report.js';
import { carriedCells, compareCells, findingCells, InvalidReportCsvError, ReportRecordReader } from '../../core/render/csv.js';
import { OpenVexStatements } from '../../core/render/openvex.js';
import type { ImageScan } from '../../core/scan.js';
import { imagesInReportOrder, keepsPreviousRows, ReleaseMerge, type ReleaseReportHead, type ReleaseReportSummary } from '../../core/triage.js';
import { eachCsvRecord, ReportFileWriter, textStream } from './report-csv.js';
import type { ReportStore } from '../store/report-store.js';
import { csvFileName, reportPaths } from './report-paths.js';
import { copyFileAtomic, runFolderKeys, temporaryPath, writeFileAtomic, type ResultStore } from '../store/result-store.js';

/** Scans read ahead of the merge: enough to hide the store's latency, few enough to hold at once. */
const READ_AHEAD = 8;

/** How often a write that lost a race with a person's commit re-reads and re-merges before giving up. */
const MAX_MERGE_ATTEMPTS = 5;

/** Where the merge gets an image's scan: a Map in memory, or the result store one image at a time. */
export interface ScanSource {
  get(image: string): ImageScan | undefined | Promise<ImageScan | undefined>;
}

/** A release's image list from a run folder, and its scans read from there one image at a time. */
export async function releaseScans(runFolder: ResultStore, release: string): Promise<{ images: ImageRecord[]; scans: ScanSource; source?: ReleaseSource }> {
  const images = (await runFolder.readJson<ImageRecord[]>(runFolderKeys.images(release))) ?? [];
  const source = await runFolder.readJson<ReleaseSource>(runFolderKeys.source(release));
  const canonical = new Map(images.map((r) => [r.image, r.canonical]));
  return {
    images,
    ...(source ? { source } : {}),
    scans: {
      get: (image) => {
        const key = canonical.get(image);
        return key === undefined ? undefined : runFolder.readJson<ImageScan>(runFolderKeys.result(key));
      },
    },
  };
}

/** A previous report the merge can read twice (a second pass only when images must be carried over). */
interface PreviousSource {
  source: string;
  open: () => Readable;
  version?: string;
}

async function previousSource(store: ReportStore, name: string, override: { text: string; source: string } | undefined): Promise<{ previous?: PreviousSource; version?: string }> {
  const source = `${store.description}/${name}`;
  const streamed = store.openStream ? await store.openStream(name) : undefined;
  const stored = streamed ? undefined : await store.read(name);
  const version = streamed?.version ?? stored?.version;
  if (override) return { previous: { source: override.source, open: () => textStream(override.text) }, version };
  if (streamed) return { previous: { source, open: streamed.open }, version };
  if (stored) return { previous: { source, open: () => textStream(stored.text) }, version };
  return { version };
}

/** Overwriting a file we cannot read would destroy people's notes: stop, and leave it untouched. */
function unreadablePrevious(error: unknown): never {
  if (error instanceof InvalidReportCsvError) {
    throw ApplicationFailure.create({ type: 'InvalidPreviousReport', message: `${error.message}; it was left untouched`, nonRetryable: true });
  }
  throw error;
}

/** Pass one over the previous report: what the merge keeps of each row. */
async function readPrevious(previous: PreviousSource): Promise<{ index: PreviousReport; digest: string }> {
  const index = new PreviousReport();
  const reader = new ReportRecordReader(previous.source);
  try {
    const digest = await eachCsvRecord(previous.open(), previous.source, (values) => reader.addTo(values, index));
    return { index, digest };
  } catch (error) {
    return unreadablePrevious(error);
  }
}

/** Raised when the previous report changed between the merge's two passes over it. */
class PreviousChanged extends Error {}

/**
 * Pass two, only when some images could not be scanned: the full cells of their previous
 * rows, to be written again verbatim, sorted as the CSV sorts them.
 */
async function readCarried(previous: PreviousSource, images: ReadonlySet<string>, digest: string): Promise<Map<string, string[][]>> {
  const carried = new Map<string, string[][]>();
  const reader = new ReportRecordReader(previous.source);
  let again: string;
  try {
    again = await eachCsvRecord(previous.open(), previous.source, (values) => {
      const row = reader.previous(values);
      if (!row || !images.has(row.image)) return;
      const cells = carriedCells({ ...row, cells: reader.cells(values) });
      const ofImage = carried.get(row.image);
      if (ofImage) ofImage.push(cells);
      else carried.set(row.image, [cells]);
    });
  } catch (error) {
    return unreadablePrevious(error);
  }
  if (again !== digest) throw new PreviousChanged();
  for (const rows of carried.values()) rows.sort(compareCells);
  return carried;
}

export interface ComposedReport {
  head: ReleaseReportHead;
  summary: ReleaseReportSummary;
  /** The new CSV, in a temporary folder the caller removes with `discardComposed`. */
  csvPath: string;
  openVex: OpenVexStatements;
  /** Times the merge was redone because someone committed between read and write. */
  conflicts: number;
}

interface MergeInput {
  release: string;
  images: ImageRecord[];
  scans: ScanSource;
  today: string;
  /** A git source's repository, ref and commit: kept in the head for the site and issues. */
  source?: ReleaseSource;
}

/**
 * One merge into `csvPath`: images in the CSV's order, each image's scan read, merged and
 * written before the next is read. Images whose scan failed have their previous rows
 * carried over, read in a second pass over the previous report once the first is met.
 */
async function mergeInto(input: MergeInput, previous: PreviousSource | undefined, csvPath: string) {
  const { index, digest } = previous ? await readPrevious(previous) : { index: new PreviousReport(), digest: undefined };
  const merge = new ReleaseMerge(input.release, input.images, index, input.today);
  const openVex = new OpenVexStatements();
  const writer = new ReportFileWriter(csvPath);
  const ordered = imagesInReportOrder(input.images);
  let carried: Map<string, string[][]> | undefined;
  try {
    // The next few images' scans are read while this one is merged, so the merge never waits on the store.
    const ahead: Promise<ImageScan | undefined>[] = [];
    const readAhead = (until: number) => {
      while (ahead.length < until && ahead.length < ordered.length) {
        const read = Promise.resolve(input.scans.get(ordered[ahead.length]!.image));
        // Handled when awaited in turn; until then a failed read must not count as unhandled.
        read.catch(() => undefined);
        ahead.push(read);
      }
    };
    for (const [i, record] of ordered.entries()) {
      readAhead(i + 1 + READ_AHEAD);
      const scan = await ahead[i];
      // Dropped once used: what is held is the window, not every scan read so far.
      ahead[i] = Promise.resolve(undefined);
      const rows = merge.mergeImage(record, scan);
      if (rows) {
        for (const row of rows) {
          openVex.add(row, record);
          const flushing = writer.add(findingCells(row));
          if (flushing) await flushing;
        }
        continue;
      }
      if (index.rowsOf(record.image) === 0 || !previous) continue;
      if (!carried) {
        // The first image to carry over: find every one still to come, then read their rows in one pass.
        const toCarry = new Set([record.image]);
        for (const later of ordered.slice(i + 1)) {
          if (index.rowsOf(later.image) > 0 && keepsPreviousRows(await input.scans.get(later.image))) toCarry.add(later.image);
        }
        carried = await readCarried(previous, toCarry, digest!);
      }
      for (const cells of carried.get(record.image) ?? []) await writer.add(cells);
    }
    const written = await writer.end();
    const head = merge.finish();
    return { head, summary: merge.tally.summary(head), openVex, digest, written };
  } catch (error) {
    writer.destroy();
    throw error;
  }
}

/**
 * Merges the scans with the previous CSV in `store` and writes the new CSV there,
 * compare-and-swap: on a conflict it re-reads, re-merges and writes again, so an edit made
 * during the run is kept. `previousText` overrides what the store holds as the previous
 * report (for `render --previous`). What the merge holds grows with the rows people wrote
 * on, not with the number of findings: both CSVs are streamed.
 */
export async function composeReleaseReport(input: MergeInput & {
  store: ReportStore;
  message: string;
  previousText?: { text: string; source: string };
}): Promise<ComposedReport> {
  const name = csvFileName(input.release);
  const dir = await mkdtemp(join(tmpdir(), 'release-report-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const { previous, version } = await previousSource(input.store, name, input.previousText);
      const csvPath = temporaryPath(join(dir, name));
      let merged;
      try {
        merged = await mergeInto(input, previous, csvPath);
      } catch (error) {
        if (error instanceof PreviousChanged && attempt < MAX_MERGE_ATTEMPTS) continue;
        throw error;
      }
      // An unchanged report is not written again: no empty weekly commit.
      const outcome = merged.digest === merged.written ? 'written' : await writeReport(input.store, name, csvPath, version, input.message);
      if (outcome === 'written') return { head: input.source ? { ...merged.head, source: input.source } : merged.head, summary: merged.summary, csvPath, openVex: merged.openVex, conflicts: attempt - 1 };
      if (attempt >= MAX_MERGE_ATTEMPTS) {
        throw ApplicationFailure.create({ type: 'ReportConflict', message: `${input.store.description}/${name} changed during each of ${attempt} merges; will retry` });
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function writeReport(store: ReportStore, name: string, csvPath: string, version: string | undefined, message: string) {
  if (store.writeFile) return store.writeFile(name, csvPath, version, message);
  return store.write(name, await readFile(csvPath, 'utf8'), version, message);
}

/** Removes the composed report's temporary files. */
export async function discardComposed(composed: ComposedReport): Promise<void> {
  await rm(join(composed.csvPath, '..'), { recursive: true, force: true });
}

/** The files beside the CSV in the reports directory: a copy of the CSV, the summary and the OpenVEX statements. */
export async function writeReportOutputs(reportsDir: string, composed: ComposedReport, generatedAt: string): Promise<{ csvPath: string; summaryPath: string }> {
  const release = composed.head.release;
  const csvPath = reportPaths.csv(reportsDir, release);
  const summaryPath = reportPaths.summary(reportsDir, release);
  await copyFileAtomic(composed.csvPath, csvPath);
  await writeFileAtomic(summaryPath, `${JSON.stringify({ ...composed.summary, generatedAt }, null, 2)}\n`);
  await writeFileAtomic(reportPaths.openVex(reportsDir, release), composed.openVex.render(release, { timestamp: generatedAt }));
  return { csvPath, summaryPath };
}
