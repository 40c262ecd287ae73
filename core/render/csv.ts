import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { severityRank, toSeverity } from '../finding.js';
import type { PreviousReport } from '../previous-report.js';
import type { PreviousRow, ReleaseReport, TriagedFinding } from '../triage.js';
import { writtenRowTriage } from '../triage-state.js';

/** The columns of the system this replaces, first and in this order: people's notes live in them. */
export const LEGACY_COLUMNS = [
  'image',
  'package_name',
  'type',
  'vulnerability_id',
  'severity',
  'url',
  'patched_version',
  'mirrored',
  'state',
  'notes',
] as const;

export const REPORT_COLUMNS = [
  ...LEGACY_COLUMNS,
  'installed_version',
  'title',
  'target',
  'class',
  'status',
  'windows',
  'projects',
  'first_seen',
  'package_path',
  'published_date',
  /** A person's end date for an ignore, YYYY-MM-DD: from that day on the finding counts again (core/triage-state.ts). */
  'ignore_expires',
] as const;

export type ReportColumn = (typeof REPORT_COLUMNS)[number];

export class InvalidReportCsvError extends Error {
  override name = 'InvalidReportCsvError';
}

// A spreadsheet would run these as formulas. The guard is a leading apostrophe,
// which spreadsheets hide and which `readCell` removes, so a round trip never grows a cell.
const FORMULA_START = /^[=+\-@\t\r]/;
const GUARDED = /^'[=+\-@\t\r]/;

export function neutralizeCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function readCell(value: string): string {
  return GUARDED.test(value) ? value.slice(1) : value;
}

/** A row's cells in REPORT_COLUMNS order. */
export function findingCells(row: TriagedFinding): string[] {
  return [
    row.image,
    row.packageName,
    row.type,
    row.vulnerabilityId,
    row.severity,
    row.url,
    row.fixedVersion,
    String(row.mirrored),
    row.state,
    row.notes,
    row.installedVersion,
    row.title,
    row.target,
    row.class,
    row.status,
    String(row.windows),
    row.projects.join(' '),
    row.firstSeen,
    row.packagePath,
    row.publishedDate,
    row.ignoreExpires ?? '',
  ];
}

export function carriedCells(row: PreviousRow): string[] {
  const cells = row.cells;
  // Writing the row without its cells would blank what a person wrote in it.
  if (!cells) throw new Error(`the previous row ${row.image} ${row.packageName} ${row.vulnerabilityId} was read without its cells and cannot be carried over`);
  return REPORT_COLUMNS.map((column) => cells[column] ?? '');
}

const column = (name: ReportColumn) => REPORT_COLUMNS.indexOf(name);
const SORT_COLUMNS = (['image', 'severity', 'vulnerability_id', 'package_name', 'installed_version', 'target', 'package_path'] as const).map(column);
const SEVERITY_COLUMN = column('severity');

/** The one order of core/finding.ts, on cells, so rows carried over verbatim sort among the others. */
export function compareCells(a: string[], b: string[]): number {
  for (const i of SORT_COLUMNS) {
    if (i === SEVERITY_COLUMN) {
      const d = severityRank(toSeverity(a[i])) - severityRank(toSeverity(b[i]));
      if (d !== 0) return d;
    } else if (a[i]! !== b[i]!) {
      return a[i]! < b[i]! ? -1 : 1;
    }
  }
  return 0;
}

/** Records handed to csv-stringify at a time: the cells of one batch are garbage before the next is built. */
const RENDER_BATCH = 2_000;

/**
 * The release CSV, written a batch of records at a time: `add` and `end` give the text to
 * append, so the file can be streamed to disk (or joined in memory) without ever holding
 * its cells. Same records, same bytes, so the weekly commit shows only what changed.
 */
export class ReportCsvWriter {
  private batch: string[][] = [];
  private written = false;

  /** A record in REPORT_COLUMNS order; the writer neutralizes its cells in place. */
  add(record: string[]): string | undefined {
    for (let i = 0; i < record.length; i++) record[i] = neutralizeCell(record[i]!);
    this.batch.push(record);
    return this.batch.length === RENDER_BATCH ? this.flush() : undefined;
  }

  /** The rest; the header alone for a report without rows. */
  end(): string {
    return this.batch.length > 0 || !this.written ? this.flush() : '';
  }

  private flush(): string {
    // quote_record_delimiter: a cell holding a lone CR must be quoted too, or other readers split the record there.
    const text = stringify(this.batch, { header: !this.written, columns: [...REPORT_COLUMNS], record_delimiter: '\n', quote_record_delimiter: true });
    this.written = true;
    this.batch = [];
    return text;
  }
}

/** Rows (sorted by mergeTriage) and carried rows, in the one order, as cell arrays. */
function* recordsInOrder(report: Pick<ReleaseReport, 'rows' | 'carriedRows'>): Generator<string[]> {
  // Carried rows are few (images whose scan failed): sort them and merge them into the sorted rows.
  const carried = report.carriedRows.map(carriedCells).sort(compareCells);
  let c = 0;
  for (const row of report.rows) {
    const cells = findingCells(row);
    while (c < carried.length && compareCells(carried[c]!, cells) < 0) yield carried[c++]!;
    yield cells;
  }
  while (c < carried.length) yield carried[c++]!;
}

/** Writes the release CSV in memory (tests, `render`); the report activity streams the same writer to a file. */
export function renderReportCsv(report: Pick<ReleaseReport, 'rows' | 'carriedRows'>): string {
  const writer = new ReportCsvWriter();
  const parts: string[] = [];
  for (const record of recordsInOrder(report)) {
    const text = writer.add(record);
    if (text) parts.push(text);
  }
  parts.push(writer.end());
  return parts.join('');
}

/** Options csv-parse is given for every report, ours or a person's, streamed or not. */
export const CSV_PARSE_OPTIONS = { bom: true, skip_empty_lines: true, relax_column_count: false } as const;

/** The fields of a row the merge reads, from any report: ours, or the legacy ten columns. */
interface ReportLayout {
  header: string[];
  image: number;
  packageName: number;
  vulnerabilityId: number;
  state: number;
  notes: number;
  firstSeen: number;
  ignoreExpires: number;
}

/**
 * Reads a report's records one at a time, the header first: what the sync parser and the
 * streaming one share. Names the file in every error.
 */
export class ReportRecordReader {
  private layout?: ReportLayout;

  constructor(readonly source: string) {}

  /** Takes the header; false when the record was it. */
  private takeHeader(values: string[]): boolean {
    if (this.layout) return false;
    const missing = ['image', 'package_name', 'vulnerability_id'].filter((c) => !values.includes(c));
    if (missing.length > 0) throw new InvalidReportCsvError(`${this.source} is missing the column(s) ${missing.join(', ')}`);
    const index = (name: string) => values.indexOf(name);
    this.layout = { header: values, image: index('image'), packageName: index('package_name'), vulnerabilityId: index('vulnerability_id'), state: index('state'), notes: index('notes'), firstSeen: index('first_seen'), ignoreExpires: index('ignore_expires') };
    return true;
  }

  /** The previous-row fields of a record, or undefined for the header. */
  previous(values: string[]): PreviousRow | undefined {
    if (this.takeHeader(values)) return undefined;
    const layout = this.layout!;
    const cell = (i: number) => (i < 0 ? '' : readCell(values[i] ?? ''));
    const row: PreviousRow = {
      image: cell(layout.image),
      packageName: cell(layout.packageName),
      vulnerabilityId: cell(layout.vulnerabilityId),
      state: cell(layout.state),
      notes: cell(layout.notes),
      firstSeen: cell(layout.firstSeen),
    };
    // Only where the column is: legacy rows stay exactly as they were read.
    if (layout.ignoreExpires >= 0) row.ignoreExpires = cell(layout.ignoreExpires);
    return row;
  }

  /**
   * Adds a record's previous-row fields to the merge's index, without building a row
   * object on the way (the first pass reads every row of the report); false for the header.
   */
  addTo(values: string[], index: PreviousReport): boolean {
    if (this.takeHeader(values)) return false;
    const l = this.layout!;
    const cell = (i: number) => (i < 0 ? '' : readCell(values[i] ?? ''));
    index.add(cell(l.image), cell(l.packageName), cell(l.vulnerabilityId), cell(l.state), cell(l.notes), cell(l.firstSeen), cell(l.ignoreExpires));
    return true;
  }

  /** Every cell of a record by column name (for rows carried over verbatim). */
  cells(values: string[]): Record<string, string> {
    const cells: Record<string, string> = {};
    this.layout!.header.forEach((name, i) => (cells[name] = readCell(values[i] ?? '')));
    return cells;
  }
}

/** Wraps csv-parse's own errors so that every one names the file and says what it is. */
export function invalidReport(error: unknown, source: string): Error {
  if (error instanceof InvalidReportCsvError) return error;
  return new InvalidReportCsvError(`${source} is not a valid CSV report: ${(error as Error).message}`);
}

export interface ParseReportOptions {
  /**
   * Which rows keep their full cells (default: all). Only rows that may be carried over verbatim
   * (images not scanned this run) need them; at 200,000 rows the cells are most of the memory.
   */
  keepCells?: (image: string) => boolean;
}

/** A row read with all its cells. */
export type FullReportRow = PreviousRow & { cells: Record<string, string> };

/** Reads a previous report, ours or the legacy ten-column one. Names the file in every error. */
export function parseReportCsv(text: string, source: string): FullReportRow[];
export function parseReportCsv(text: string, source: string, options: ParseReportOptions): PreviousRow[];
export function parseReportCsv(text: string, source: string, options: ParseReportOptions = {}): PreviousRow[] {
  const reader = new ReportRecordReader(source);
  // Each record becomes a row as it is read, so the whole table of cells never exists at once.
  const toRow = (values: string[]): PreviousRow | undefined => {
    const row = reader.previous(values);
    if (row && (!options.keepCells || options.keepCells(row.image))) row.cells = reader.cells(values);
    return row;
  };
  try {
    // csv-parse's types expect on_record to return a record of cells; any value is kept as returned.
    const onRecord = toRow as unknown as (values: string[]) => string[] | undefined;
    return parse(text, { ...CSV_PARSE_OPTIONS, on_record: onRecord }) as unknown as PreviousRow[];
  } catch (error) {
    throw invalidReport(error, source);
  }
}

const COLUMN_INDEX = Object.fromEntries(REPORT_COLUMNS.map((name, i) => [name, i])) as Record<ReportColumn, number>;

/**
 * A row of a CSV this project wrote (every column, in REPORT_COLUMNS order) as the finding it
 * was written from: how the issue and site activities read a release's rows back, one at a
 * time. What the merge decided but did not write (ignored, expired, VEX) is decided again by
 * the same rule on the run's `date`; VEX disagreements come from the summary, which lists them.
 */
export function triagedFindingOf(values: string[], date: string, disagreements?: ReadonlyMap<string, string>): TriagedFinding {
  const cell = (name: ReportColumn) => readCell(values[COLUMN_INDEX[name]] ?? '');
  const state = cell('state');
  const notes = cell('notes');
  const ignoreExpires = cell('ignore_expires');
  const projects = cell('projects');
  const triage = writtenRowTriage({ state, notes, ignoreExpires }, date);
  const row: TriagedFinding = {
    image: cell('image'),
    target: cell('target'),
    class: cell('class'),
    type: cell('type'),
    packageName: cell('package_name'),
    packagePath: cell('package_path'),
    installedVersion: cell('installed_version'),
    fixedVersion: cell('patched_version'),
    vulnerabilityId: cell('vulnerability_id'),
    severity: toSeverity(cell('severity')),
    status: cell('status'),
    title: cell('title'),
    url: cell('url'),
    publishedDate: cell('published_date'),
    state,
    notes,
    firstSeen: cell('first_seen'),
    mirrored: cell('mirrored') === 'true',
    windows: cell('windows') === 'true',
    projects: projects === '' ? [] : projects.split(' '),
    ignored: triage.ignored,
    ignoreExpires,
    ignoreExpired: triage.expired,
    vexApplied: triage.vexApplied,
  };
  // Set (if undefined) as the merge sets it, so a row read back equals the row written.
  row.vexDisagreement = disagreements?.get(triageListKey(row));
  return row;
}

/** How the summary's lists name a row: (image, package, vulnerability). */
export const triageListKey = (row: { image: string; packageName: string; vulnerabilityId: string }) => `${row.image}\u0000${row.packageName}\u0000${row.vulnerabilityId}`;

/** Whether a header is this project's own, column for column: only such a file can be read back as findings. */
export function isOwnHeader(values: string[]): boolean {
  return values.length === REPORT_COLUMNS.length && REPORT_COLUMNS.every((name, i) => values[i] === name);
}
