import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { GitHubClient } from './github.js';
import type { Repository } from './issue-tracker.js';
import { REPORT_READ_CHUNK } from './report-rows.js';
import { copyFileAtomic, writeFileAtomic } from './result-store.js';

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
    return { open: () => createReadStream(path, { highWaterMark: REPORT_READ_CHUNK }) };
  }

  async writeFile(name: string, sourcePath: string): Promise<'written'> {
    await copyFileAtomic(sourcePath, join(this.dir, name));
    return 'written';
  }
}

/**
 * A folder on a branch of a GitHub repository, through the contents API. The
 * blob sha read is sent with the write, so GitHub refuses it (409) when someone
 * committed in between; the caller then re-reads and re-merges.
 */
export class GitHubReportStore implements ReportStore {
  constructor(
    private readonly github: GitHubClient,
    private readonly repository: Repository,
    private readonly branch: string,
    private readonly folder: string,
  ) {}

  get description(): string {
    return `${this.repository.owner}/${this.repository.repo}@${this.branch}:${this.folder}`;
  }

  private path(name: string): string {
    return this.folder ? `${this.folder.replace(/\/+$/, '')}/${name}` : name;
  }

  async read(name: string): Promise<StoredReport | undefined> {
    try {
      const { data } = await this.github.rest.repos.getContent({ ...this.repository, path: this.path(name), ref: this.branch });
      if (Array.isArray(data) || data.type !== 'file') throw new Error(`${this.description}/${name} is not a file`);
      if (data.encoding === 'base64') return { text: Buffer.from(data.content, 'base64').toString('utf8'), version: data.sha };
      // Over 1 MB the contents API sends no content (encoding "none"); reading it as empty would
      // drop every note on the next write. The blob of the same sha holds it, up to 100 MB.
      const { data: blob } = await this.github.rest.git.getBlob({ ...this.repository, file_sha: data.sha });
      if (blob.encoding !== 'base64') throw new Error(`${this.description}/${name}: GitHub sent the blob ${data.sha} as "${blob.encoding}", not base64`);
      return { text: Buffer.from(blob.content, 'base64').toString('utf8'), version: data.sha };
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    }
  }

  async write(name: string, text: string, readVersion: string | undefined, message: string): Promise<'written' | 'conflict'> {
    try {
      await this.github.rest.repos.createOrUpdateFileContents({
        ...this.repository,
        path: this.path(name),
        branch: this.branch,
        message,
        content: Buffer.from(text, 'utf8').toString('base64'),
        ...(readVersion ? { sha: readVersion } : {}),
      });
      return 'written';
    } catch (error) {
      const status = (error as { status?: number }).status;
      // 409: the sha is stale; 422: the file appeared although we read none.
      if (status === 409 || status === 422) return 'conflict';
      throw error;
    }
  }
}
