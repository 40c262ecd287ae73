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
type Record_ = Record<ReportColumn, string>;

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

function toRecord(row: TriagedFinding): Record_ {
  return {
    image: row.image,
    package_name: row.packageName,
    type: row.type,
    vulnerability_id: row.vulnerabilityId,
    severity: row.severity,
    url: row.url,
    patched_version: row.fixedVersion,
    mirrored: String(row.mirrored),
    state: row.state,
    notes: row.notes,
    installed_version: row.installedVersion,
    title: row.title,
    target: row.target,
    class: row.class,
    status: row.status,
    windows: String(row.windows),
    projects: row.projects.join(' '),
    first_seen: row.firstSeen,
    package_path: row.packagePath,
    published_date: row.publishedDate,
  };
}

function carriedRecord(row: PreviousRow): Record_ {
  const out = {} as Record_;
  for (const column of REPORT_COLUMNS) out[column] = row.cells[column] ?? '';
  return out;
}

function compareRecords(a: Record_, b: Record_): number {
  const keys: ReportColumn[] = ['image', 'severity', 'vulnerability_id', 'package_name', 'installed_version', 'target', 'package_path'];
  for (const key of keys) {
    if (key === 'severity') {
      const d = severityRank(toSeverity(a.severity)) - severityRank(toSeverity(b.severity));
      if (d !== 0) return d;
      continue;
    }
    if (a[key] < b[key]) return -1;
    if (a[key] > b[key]) return 1;
  }
  return 0;
}

/** Writes the release CSV: same input, same bytes, so the weekly commit shows only what changed. */
export function renderReportCsv(report: Pick<ReleaseReport, 'rows' | 'carriedRows'>): string {
  const records = [...report.rows.map(toRecord), ...report.carriedRows.map(carriedRecord)].sort(compareRecords);
  const cells = records.map((r) => REPORT_COLUMNS.map((c) => neutralizeCell(r[c])));
  // quote_record_delimiter: a cell holding a lone CR must be quoted too, or other readers split the record there.
  return stringify(cells, { header: true, columns: [...REPORT_COLUMNS], record_delimiter: '\n', quote_record_delimiter: true });
}

/** Reads a previous report, ours or the legacy ten-column one. Names the file in every error. */
export function parseReportCsv(text: string, source: string): PreviousRow[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, bom: true, skip_empty_lines: true, relax_column_count: false }) as Record<string, string>[];
  } catch (error) {
    throw new InvalidReportCsvError(`${source} is not a valid CSV report: ${(error as Error).message}`);
  }
  const header = records.length > 0 ? Object.keys(records[0]!) : ((parse(text, { bom: true, to_line: 1 }) as string[][])[0] ?? []);
  if (header.length === 0) return [];
  const missing = ['image', 'package_name', 'vulnerability_id'].filter((c) => !header.includes(c));
  if (missing.length > 0) throw new InvalidReportCsvError(`${source} is missing the column(s) ${missing.join(', ')}`);
  return records.map((raw) => {
    const cells: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) cells[k] = readCell(v ?? '');
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
