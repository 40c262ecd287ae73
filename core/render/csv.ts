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
  ];
}

function carriedCells(row: PreviousRow): string[] {
  return REPORT_COLUMNS.map((column) => row.cells[column] ?? '');
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

/** Writes the release CSV: same input, same bytes, so the weekly commit shows only what changed. */
export function renderReportCsv(report: Pick<ReleaseReport, 'rows' | 'carriedRows'>): string {
  // Rows arrive sorted from mergeTriage, and the sort is linear on sorted input; it only
  // does real work to place rows carried over from a failed scan.
  const records = [...report.rows.map(findingCells), ...report.carriedRows.map(carriedCells)].sort(compareCells);
  for (const record of records) for (let i = 0; i < record.length; i++) record[i] = neutralizeCell(record[i]!);
  // quote_record_delimiter: a cell holding a lone CR must be quoted too, or other readers split the record there.
  return stringify(records, { header: true, columns: [...REPORT_COLUMNS], record_delimiter: '\n', quote_record_delimiter: true });
}

/** Reads a previous report, ours or the legacy ten-column one. Names the file in every error. */
export function parseReportCsv(text: string, source: string): PreviousRow[] {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (error) {
    throw new InvalidReportCsvError(`${source} is not a valid CSV report: ${(error as Error).message}`);
  }
  const header = records[0] ?? [];
  if (header.length === 0) return [];
  const missing = ['image', 'package_name', 'vulnerability_id'].filter((c) => !header.includes(c));
  if (missing.length > 0) throw new InvalidReportCsvError(`${source} is missing the column(s) ${missing.join(', ')}`);
  return records.slice(1).map((values) => {
    const cells: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) cells[header[i]!] = readCell(values[i] ?? '');
    return {
      image: cells.image ?? '',
      packageName: cells.package_name ?? '',
      vulnerabilityId: cells.vulnerability_id ?? '',
      state: cells.state ?? '',
      notes: cells.notes ?? '',
      firstSeen: cells.first_seen ?? '',
      cells,
    };
  });
}
