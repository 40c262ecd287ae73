/** The result store's PostgreSQL twin, for a cluster of workers that share no disk. */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import pg from 'pg';
import { AGED_ONE_BY_ONE, type ResultStore } from './result-store.js';

/** Values past this are gzipped: scan results of images with hundreds of findings compress about 10x. */
const COMPRESS_FROM = 4096;

/** A stored file is cut into parts of this size, each its own row, so neither side holds the whole file. */
const FILE_PART = 1024 * 1024;

/** The row under a file's key says how many parts it has; the parts sit one level below it. */
const partKey = (key: string, part: number) => `${key}/${String(part).padStart(6, '0')}`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS scan_store (
  key text PRIMARY KEY,
  run text NOT NULL,
  value bytea NOT NULL,
  compressed boolean NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS scan_store_run ON scan_store (run, written_at);
`;

export class ResultStoreUnavailableError extends Error {
  override name = 'ResultStoreUnavailableError';
}

/** postgres://user:****@host:port/db: the location without the password. */
export function maskPostgresUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1:****@');
}

/** `runs/<run>/...` belongs to that run (pruned with it); everything else to none. */
function runOf(key: string): string {
  const match = /^runs\/([^/]+)\//.exec(key);
  return match ? match[1]! : '';
}

/**
 * The result store in PostgreSQL, which workers on any host share: one row per key (results
 * are keyed by (run, image) through the key scheme), written with an upsert, so a retried scan
 * replaces its result instead of adding one; large values gzipped; runs past the retention
 * window deleted by `prune`. Connections come from a pool that replaces broken ones, so a
 * database restart costs the operations in flight (retried as activities), nothing more.
 */
export class PostgresResultStore implements ResultStore {
  private readonly pool: pg.Pool;
  private schema?: Promise<void>;

  constructor(private readonly url: string, options: { max?: number } = {}) {
    this.pool = new pg.Pool({ connectionString: url, max: options.max ?? 8, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 10_000 });
    // An idle connection cut by a restart: the pool drops it; the next query gets a new one.
    this.pool.on('error', () => undefined);
  }

  path(key: string): string {
    return `${maskPostgresUrl(this.url)}#${key}`;
  }

  /** The table, created once per store; a failed attempt is tried again by the next caller. */
  private ensureSchema(): Promise<void> {
    this.schema ??= this.pool.query(SCHEMA).then(
      () => undefined,
      (error: unknown) => {
        this.schema = undefined;
        throw error;
      },
    );
    return this.schema;
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      await this.ensureSchema();
      return await this.pool.query<R>(text, values);
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { code?: string };
      throw new ResultStoreUnavailableError(`the result store at ${maskPostgresUrl(this.url)} failed (${e.code ?? 'error'}): ${e.message}`);
    }
  }

  async writeJson(key: string, value: unknown): Promise<void> {
    const text = Buffer.from(JSON.stringify(value));
    const compressed = text.length >= COMPRESS_FROM;
    const stored = compressed ? await promisify(gzip)(text) : text;
    await this.query(
      `INSERT INTO scan_store (key, run, value, compressed) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, compressed = EXCLUDED.compressed, written_at = now()`,
      [key, runOf(key), stored, compressed],
    );
  }

  async readJson<T>(key: string): Promise<T | undefined> {
    const result = await this.query<{ value: Buffer; compressed: boolean }>('SELECT value, compressed FROM scan_store WHERE key = $1', [key]);
    const row = result.rows[0];
    if (!row) return undefined;
    const text = row.compressed ? await promisify(gunzip)(row.value) : row.value;
    return JSON.parse(text.toString('utf8')) as T;
  }

  /** The parts, then the row that names them, in one transaction: a reader sees the old file or the new one. */
  async writeFile(key: string, sourcePath: string): Promise<void> {
    const client = await this.pool.connect().catch((error: unknown) => {
      throw new ResultStoreUnavailableError(`the result store at ${maskPostgresUrl(this.url)} failed: ${(error as Error).message}`);
    });
    const file = await open(sourcePath, 'r');
    try {
      await this.ensureSchema();
      await client.query('BEGIN');
      await client.query('DELETE FROM scan_store WHERE starts_with(key, $1)', [`${key}/`]);
      const buffer = Buffer.alloc(FILE_PART);
      let parts = 0;
      let bytes = 0;
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, FILE_PART, null);
        if (bytesRead === 0) break;
        const stored = await promisify(gzip)(buffer.subarray(0, bytesRead));
        await client.query(
          `INSERT INTO scan_store (key, run, value, compressed) VALUES ($1, $2, $3, true)
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, compressed = true, written_at = now()`,
          [partKey(key, parts), runOf(key), stored],
        );
        parts++;
        bytes += bytesRead;
      }
      const head = Buffer.from(JSON.stringify({ parts, bytes }));
      await client.query(
        `INSERT INTO scan_store (key, run, value, compressed) VALUES ($1, $2, $3, false)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, compressed = false, written_at = now()`,
        [key, runOf(key), head],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof ResultStoreUnavailableError) throw error;
      const e = error as NodeJS.ErrnoException;
      throw new ResultStoreUnavailableError(`the result store at ${maskPostgresUrl(this.url)} failed (${e.code ?? 'error'}) storing ${key}: ${e.message}`);
    } finally {
      client.release();
      await file.close();
    }
  }

  async openFile(key: string): Promise<Readable | undefined> {
    const head = await this.readJson<{ parts: number }>(key);
    if (!head) return undefined;
    const read = async (part: number): Promise<Buffer> => {
      const result = await this.query<{ value: Buffer }>('SELECT value FROM scan_store WHERE key = $1', [partKey(key, part)]);
      const row = result.rows[0];
      // A part that is gone was replaced by a newer write after this read began.
      if (!row) throw new ResultStoreUnavailableError(`${this.path(key)} changed while it was read (part ${part} of ${head.parts} is gone); read it again`);
      return promisify(gunzip)(row.value);
    };
    return Readable.from(
      (async function* parts() {
        for (let part = 0; part < head.parts; part++) yield await read(part);
      })(),
      { objectMode: false },
    );
  }

  async list(prefix: string): Promise<string[]> {
    const start = `${prefix.replace(/\/$/, '')}/`;
    const result = await this.query<{ name: string }>(
      `SELECT DISTINCT split_part(substr(key, $2), '/', 1) AS name FROM scan_store WHERE starts_with(key, $1) ORDER BY name`,
      [start, start.length + 1],
    );
    return result.rows.map((r) => r.name).filter((name) => name !== '');
  }

  /** Deletes every entry of the runs whose newest entry is older than `days`, and each SBOM-like entry (AGED_ONE_BY_ONE) older than that. */
  async prune(days: number, now = Date.now()): Promise<number> {
    const cutoff = new Date(now - days * 24 * 3600 * 1000);
    const result = await this.query(
      `DELETE FROM scan_store WHERE run <> '' AND run IN (SELECT run FROM scan_store WHERE run <> '' GROUP BY run HAVING max(written_at) < $1)`,
      [cutoff],
    );
    let removed = result.rowCount ?? 0;
    for (const prefix of AGED_ONE_BY_ONE) {
      const aged = await this.query(`DELETE FROM scan_store WHERE run = '' AND starts_with(key, $1) AND written_at < $2`, [prefix, cutoff]);
      removed += aged.rowCount ?? 0;
    }
    return removed;
  }

  async touch(key: string): Promise<void> {
    await this.query('UPDATE scan_store SET written_at = now() WHERE key = $1', [key]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
