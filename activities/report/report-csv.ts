/** Reads a report CSV a record at a time and writes one in batches with its digest. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { CSV_PARSE_OPTIONS, invalidReport, isOwnHeader, ReportCsvWriter, triagedFindingOf } from '../../core/render/csv.js';
import type { TriagedFinding } from '../../core/triage.js';

/**
 * The release CSV as streams: parsed a record at a time from a file or the store, and
 * written a batch at a time to a file. The merge, the issues and the site all hold one
 * record (or one image) at a time this way, whatever the size of the release.
 */

/** The records of a CSV stream, in order, as cell arrays; every error names `source`. */
export async function* csvRecords(input: Readable, source: string): AsyncGenerator<string[]> {
  const parser = parse(CSV_PARSE_OPTIONS);
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  try {
    for await (const record of parser) yield record as string[];
  } catch (error) {
    // A read error is the store's or the disk's, not the file's content: it stays itself, and is retried.
    throw error instanceof CsvError ? invalidReport(error, source) : error;
  } finally {
    input.destroy();
  }
}

/**
 * Runs `each` over every record and gives the SHA-256 of the bytes read, to tell whether the
 * file changed. Records arrive as events, not through an async iterator: at 200,000 records
 * the iterator's promise per record was a tenth of the merge's time.
 */
export function eachCsvRecord(input: Readable, source: string, each: (values: string[]) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const parser = parse(CSV_PARSE_OPTIONS);
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      parser.destroy();
      // A read error is the store's or the disk's, not the file's content: it stays itself, and is retried.
      reject(error instanceof CsvError ? invalidReport(error, source) : error);
    };
    input.on('data', (chunk: Buffer | string) => hash.update(chunk));
    input.on('error', fail);
    parser.on('error', fail);
    parser.on('data', (values: string[]) => {
      if (failed) return;
      try {
        each(values);
      } catch (error) {
        fail(error);
      }
    });
    parser.on('end', () => {
      if (!failed) resolve(hash.digest('hex'));
    });
    input.pipe(parser);
  });
}

/** What a reader needs to give rows back as the merge made them: the run's date, and the summary's VEX disagreements. */
export interface RowContext {
  date: string;
  /** `triageListKey` → the disagreement, from the summary's `vexDisagreements`. */
  disagreements?: ReadonlyMap<string, string>;
  /** Images whose rows were carried over, not scanned: left out. */
  skipImages?: ReadonlySet<string>;
}

/** The rows of a CSV this project wrote, as findings, in the file's order. */
export async function* readTriagedFindings(input: Readable, source: string, context: RowContext): AsyncGenerator<TriagedFinding> {
  let header = true;
  for await (const values of csvRecords(input, source)) {
    if (header) {
      // Only our own columns in our own order map back to findings; anything else is not a file we wrote.
      if (!isOwnHeader(values)) throw invalidReport(new Error(`its header is not this version's (${values.slice(0, 4).join(',')}, ...)`), source);
      header = false;
      continue;
    }
    const row = triagedFindingOf(values, context.date, context.disagreements);
    if (!context.skipImages?.has(row.image)) yield row;
  }
}

/** The new CSV written to a file as it is merged, with its digest computed on the way. */
export class ReportFileWriter {
  private readonly csv = new ReportCsvWriter();
  private readonly hash = createHash('sha256');
  private readonly out;
  private failure?: Error;

  constructor(readonly path: string) {
    this.out = createWriteStream(path);
    this.out.on('error', (error) => (this.failure = error));
  }

  private async write(text: string | undefined): Promise<void> {
    if (this.failure) throw this.failure;
    if (!text) return;
    this.hash.update(text);
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  /** A record in REPORT_COLUMNS order; a promise only when a batch went to the file (the caller awaits it then). */
  add(record: string[]): Promise<void> | undefined {
    const text = this.csv.add(record);
    return text ? this.write(text) : undefined;
  }

  /** Ends the file; the SHA-256 of what was written. */
  async end(): Promise<string> {
    await this.write(this.csv.end());
    this.out.end();
    await once(this.out, 'finish');
    if (this.failure) throw this.failure;
    return this.hash.digest('hex');
  }

  /** Closes the file after a failure; the caller removes it. */
  destroy(): void {
    this.out.destroy();
  }
}

/** A text held in memory as a stream of it: the GitHub store's file, or `render --previous`. */
export function textStream(text: string): Readable {
  return Readable.from([Buffer.from(text, 'utf8')], { objectMode: false });
}
