/** Where the CSVs people edit live (the reports directory by default), read and written with the version a write must still find. */
import { createReadStream } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { copyFileAtomic, READ_CHUNK, writeFileAtomic } from './result-store.js';

/** A file as read, with the version a write must still find for it to succeed. */
export interface StoredReport {
  text: string;
  version?: string;
}

/** Where the CSV people edit lives. A write that finds another version than it read reports a conflict. */
export interface ReportStore {
  readonly description: string;
  read(name: string): Promise<StoredReport | undefined>;
  write(name: string, text: string, readVersion: string | undefined, message: string): Promise<'written' | 'conflict'>;
  /**
   * Where the store can stream (a file on disk), the report is read and written without its
   * text ever being held: `open` gives a fresh stream of the file each call. Stores without
   * these are read and written through `read` and `write`.
   */
  openStream?(name: string): Promise<{ open: () => Readable; version?: string } | undefined>;
  writeFile?(name: string, sourcePath: string, readVersion: string | undefined, message: string): Promise<'written' | 'conflict'>;
  /**
   * When the file last changed (ISO time), or undefined when it does not exist. Triage compares it
   * with a comment's time to tell whether a person's edit of the CSV came after the command.
   */
  changedAt?(name: string): Promise<string | undefined>;
}

/** Where a worker's reports live: a report store when configured, else the reports directory. */
export interface ReportLocation {
  reportsDir: string;
  reportStore?: ReportStore;
}

export function reportStoreOf(location: ReportLocation): ReportStore {
  return location.reportStore ?? new LocalReportStore(location.reportsDir);
}

/** The reports directory on disk: one writer per release at a time, so no versioning needed. */
export class LocalReportStore implements ReportStore {
  constructor(readonly dir: string) {}

  get description(): string {
    return this.dir;
  }

  async read(name: string): Promise<StoredReport | undefined> {
    try {
      return { text: await readFile(join(this.dir, name), 'utf8') };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** The file's mtime: every writer of a local folder (an editor, git checkout, this store) sets it. */
  async changedAt(name: string): Promise<string | undefined> {
    try {
      return (await stat(join(this.dir, name))).mtime.toISOString();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async write(name: string, text: string): Promise<'written'> {
    await writeFileAtomic(join(this.dir, name), text);
    return 'written';
  }

  async openStream(name: string): Promise<{ open: () => Readable } | undefined> {
    const path = join(this.dir, name);
    // Checked here, so that a missing report means "no previous report", not a stream error later.
    try {
      await access(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return { open: () => createReadStream(path, { highWaterMark: READ_CHUNK }) };
  }

  async writeFile(name: string, sourcePath: string): Promise<'written'> {
    await copyFileAtomic(sourcePath, join(this.dir, name));
    return 'written';
  }
}
