import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { severityRank, toSeverity } from '../finding.js';
import type { PreviousRow, ReleaseReport, TriagedFinding } from '../triage.js';

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
function findingCells(row: TriagedFinding): string[] {
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

function carriedCells(row: PreviousRow): string[] {
  const cells = row.cells;
  // Writing the row without its cells would blank what a person wrote in it.
  if (!cells) throw new Error(`the previous row ${row.image} ${row.packageName} ${row.vulnerabilityId} was read without its cells and cannot be carried over`);
  return REPORT_COLUMNS.map((column) => cells[column] ?? '');
}

const column = (name: ReportColumn) => REPORT_COLUMNS.indexOf(name);
const SORT_COLUMNS = (['image', 'severity', 'vulnerability_id', 'package_name', 'installed_version', 'target', 'package_path'] as const).map(column);
const SEVERITY_COLUMN = column('severity');

/** The one order of core/finding.ts, on cells, so rows carried over verbatim sort among the others. */
function compareCells(a: string[], b: string[]): number {
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

/** Writes the release CSV: same input, same bytes, so the weekly commit shows only what changed. */
export function renderReportCsv(report: Pick<ReleaseReport, 'rows' | 'carriedRows'>): string {
  const parts: string[] = [];
  let batch: string[][] = [];
  const flush = () => {
    // quote_record_delimiter: a cell holding a lone CR must be quoted too, or other readers split the record there.
    parts.push(stringify(batch, { header: parts.length === 0, columns: [...REPORT_COLUMNS], record_delimiter: '\n', quote_record_delimiter: true }));
    batch = [];
  };
  for (const record of recordsInOrder(report)) {
    for (let i = 0; i < record.length; i++) record[i] = neutralizeCell(record[i]!);
    batch.push(record);
    if (batch.length === RENDER_BATCH) flush();
  }
  if (batch.length > 0 || parts.length === 0) flush();
  return parts.join('');
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
  // The header, and where each field the merge reads sits in it; set by the first record.
  let layout: { header: string[]; image: number; packageName: number; vulnerabilityId: number; state: number; notes: number; firstSeen: number; ignoreExpires: number } | undefined;
  const cell = (values: string[], i: number) => (i < 0 ? '' : readCell(values[i] ?? ''));
  // Each record becomes a row as it is read, so the whole table of cells never exists at once.
  const toRow = (values: string[]): PreviousRow | undefined => {
    if (!layout) {
      const missing = ['image', 'package_name', 'vulnerability_id'].filter((c) => !values.includes(c));
      if (missing.length > 0) throw new InvalidReportCsvError(`${source} is missing the column(s) ${missing.join(', ')}`);
      const index = (name: string) => values.indexOf(name);
      layout = { header: values, image: index('image'), packageName: index('package_name'), vulnerabilityId: index('vulnerability_id'), state: index('state'), notes: index('notes'), firstSeen: index('first_seen'), ignoreExpires: index('ignore_expires') };
      return undefined;
    }
    const image = cell(values, layout.image);
    const row: PreviousRow = {
      image,
      packageName: cell(values, layout.packageName),
      vulnerabilityId: cell(values, layout.vulnerabilityId),
      state: cell(values, layout.state),
      notes: cell(values, layout.notes),
      firstSeen: cell(values, layout.firstSeen),
    };
    // Only where the column is: legacy rows stay exactly as they were read.
    if (layout.ignoreExpires >= 0) row.ignoreExpires = cell(values, layout.ignoreExpires);
    if (!options.keepCells || options.keepCells(image)) {
      const cells: Record<string, string> = {};
      layout.header.forEach((name, i) => (cells[name] = readCell(values[i] ?? '')));
      row.cells = cells;
    }
    return row;
  };
  try {
    // csv-parse's types expect on_record to return a record of cells; any value is kept as returned.
    const onRecord = toRow as unknown as (values: string[]) => string[] | undefined;
    return parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false, on_record: onRecord }) as unknown as PreviousRow[];
  } catch (error) {
    if (error instanceof InvalidReportCsvError) throw error;
    throw new InvalidReportCsvError(`${source} is not a valid CSV report: ${(error as Error).message}`);
  }
}
