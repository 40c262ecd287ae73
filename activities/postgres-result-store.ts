import { gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import pg from 'pg';
import type { ResultStore } from './result-store.js';

/** Values past this are gzipped: scan results of images with hundreds of findings compress about 10x. */
const COMPRESS_FROM = 4096;

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

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      this.schema ??= this.pool.query(SCHEMA).then(
        () => undefined,
        (error: unknown) => {
          this.schema = undefined;
          throw error;
        },
      );
      await this.schema;
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

  async list(prefix: string): Promise<string[]> {
    const start = `${prefix.replace(/\/$/, '')}/`;
    const result = await this.query<{ name: string }>(
      `SELECT DISTINCT split_part(substr(key, $2), '/', 1) AS name FROM scan_store WHERE starts_with(key, $1) ORDER BY name`,
      [start, start.length + 1],
    );
    return result.rows.map((r) => r.name).filter((name) => name !== '');
  }

  /** Deletes every entry of the runs whose newest entry is older than `days`. */
  async prune(days: number, now = Date.now()): Promise<number> {
    const cutoff = new Date(now - days * 24 * 3600 * 1000);
    const result = await this.query(
      `DELETE FROM scan_store WHERE run <> '' AND run IN (SELECT run FROM scan_store WHERE run <> '' GROUP BY run HAVING max(written_at) < $1)`,
      [cutoff],
    );
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
