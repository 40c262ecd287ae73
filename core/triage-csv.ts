/** A release CSV opened for triage edits: rows found by image, three cells changed, every other byte of meaning kept. */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { CSV_PARSE_OPTIONS, InvalidReportCsvError, invalidReport, neutralizeCell, readCell } from './render/csv.js';
import type { RowTriage } from './triage-decision.js';

/** One row of an image as a command sees it. */
export interface ImageRow {
  packageName: string;
  vulnerabilityId: string;
  triage: RowTriage;
}

export const rowKey = (image: string, packageName: string, vulnerabilityId: string) => `${image}\u0000${packageName}\u0000${vulnerabilityId}`;

/**
 * The CSV's records held as read (guarded cells stay guarded), so a write changes only the
 * cells a command set. A legacy CSV without `ignore_expires` gains the column when an
 * `until` needs it. Errors name the file.
 */
export class TriageCsv {
  private readonly header: string[];
  private readonly records: string[][];
  private readonly byImage = new Map<string, number[]>();
  private changed = false;

  constructor(text: string, readonly source: string) {
    let records: string[][];
    try {
      records = parse(text, CSV_PARSE_OPTIONS) as string[][];
    } catch (error) {
      throw invalidReport(error, source);
    }
    this.header = records.shift() ?? [];
    this.records = records;
    for (const column of ['image', 'package_name', 'vulnerability_id', 'state', 'notes']) {
      if (!this.header.includes(column)) throw new InvalidReportCsvError(`${source} is missing the column ${column}`);
    }
    const image = this.header.indexOf('image');
    records.forEach((r, i) => {
      const name = readCell(r[image] ?? '');
      const rows = this.byImage.get(name);
      if (rows) rows.push(i);
      else this.byImage.set(name, [i]);
    });
  }

  private cell(record: string[], column: string): string {
    const i = this.header.indexOf(column);
    return i < 0 ? '' : readCell(record[i] ?? '');
  }

  /** The rows of an image, in file order. */
  rowsOf(image: string): ImageRow[] {
    return (this.byImage.get(image) ?? []).map((i) => {
      const r = this.records[i]!;
      return {
        packageName: this.cell(r, 'package_name'),
        vulnerabilityId: this.cell(r, 'vulnerability_id'),
        triage: { state: this.cell(r, 'state'), notes: this.cell(r, 'notes'), ignoreExpires: this.cell(r, 'ignore_expires') },
      };
    });
  }

  /** Every row someone wrote on (state other than the default, notes, or an end date): the next pass's baseline. */
  writtenRows(): Record<string, [string, string, string]> {
    const out: Record<string, [string, string, string]> = {};
    for (const [image, indexes] of this.byImage) {
      for (const i of indexes) {
        const r = this.records[i]!;
        const t = [this.cell(r, 'state'), this.cell(r, 'notes'), this.cell(r, 'ignore_expires')] as [string, string, string];
        if ((t[0] !== '' && t[0] !== 'triaged') || t[1] !== '' || t[2] !== '') out[rowKey(image, this.cell(r, 'package_name'), this.cell(r, 'vulnerability_id'))] = t;
      }
    }
    return out;
  }

  /** Sets the three cells of the image's row of (package, id). */
  set(image: string, packageName: string, vulnerabilityId: string, triage: RowTriage): void {
    if (triage.ignoreExpires !== '' && !this.header.includes('ignore_expires')) {
      this.header.push('ignore_expires');
      for (const r of this.records) r.push('');
    }
    for (const i of this.byImage.get(image) ?? []) {
      const r = this.records[i]!;
      if (this.cell(r, 'package_name') !== packageName || this.cell(r, 'vulnerability_id') !== vulnerabilityId) continue;
      const put = (column: string, value: string) => {
        const at = this.header.indexOf(column);
        if (at >= 0) r[at] = neutralizeCell(value);
      };
      put('state', triage.state);
      put('notes', triage.notes);
      put('ignore_expires', triage.ignoreExpires);
      this.changed = true;
    }
  }

  get isChanged(): boolean {
    return this.changed;
  }

  text(): string {
    return stringify([this.header, ...this.records], { record_delimiter: '\n', quote_record_delimiter: true });
  }
}
