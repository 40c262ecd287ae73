import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { isExecutable, onPath } from '../host/executables.js';

/**
 * PostgreSQL for the cluster, run from the machine's server binaries (`initdb`, `pg_ctl`,
 * `postgres`): its own data folder, loopback only, passwords for every role. `initdb` refuses
 * to run as root, so as root every PostgreSQL command runs as the `postgres` user.
 */
export class PostgresError extends Error {
  override name = 'PostgresError';
}

export interface PostgresInstance {
  dataDir: string;
  port: number;
  /** The superuser's password, kept in the cluster's state (0600). */
  superPassword: string;
}

const asRoot = process.getuid?.() === 0;

async function pgBinary(name: string): Promise<string> {
  const found = (await onPath(name)) ?? [15, 16, 17, 14].map((v) => `/usr/lib/postgresql/${v}/bin/${name}`).find((p) => existsSync(p));
  if (found && (await isExecutable(found))) return found;
  throw new PostgresError(`${name} is not installed: install PostgreSQL's server binaries (Debian: apt-get install postgresql) or put them on PATH`);
}

/** Runs a PostgreSQL tool, as the `postgres` user when this process is root. */
async function runPg(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const bin = await pgBinary(name);
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    const { stdout } = await promisify(execFile)(file, argv, { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new PostgresError(`${name} ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

let postgresIds: { uid: number; gid: number } | undefined;

function postgresUser(): { uid: number; gid: number } {
  if (postgresIds) return postgresIds;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new PostgresError('running as root needs a `postgres` user to run PostgreSQL as (initdb refuses root)');
  postgresIds = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  return postgresIds;
}

/** Makes a folder the postgres user owns (when root), so initdb and the server may write it. */
function ownedFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (asRoot) chownSync(dir, postgresUser().uid, postgresUser().gid);
}

/** Creates the data folder once (scram-sha-256 for every connection, the superuser's password set). */
export async function initPostgres(instance: PostgresInstance): Promise<boolean> {
  if (existsSync(join(instance.dataDir, 'PG_VERSION'))) return false;
  const parent = dirname(instance.dataDir);
  mkdirSync(parent, { recursive: true });
  // The postgres user must reach its folders: let it pass through (not list) each folder above.
  if (asRoot) {
    for (let dir = parent; dir !== dirname(dir); dir = dirname(dir)) {
      const mode = statSync(dir).mode;
      if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o011);
    }
  }
  ownedFolder(instance.dataDir);
  // The password goes to initdb in a file of the postgres user's own, removed right after.
  const secrets = join(parent, `.initdb-${process.pid}`);
  ownedFolder(secrets);
  const pwfile = join(secrets, 'pwfile');
  writeFileSync(pwfile, `${instance.superPassword}\n`, { mode: 0o600 });
  try {
    if (asRoot) chownSync(pwfile, postgresUser().uid, postgresUser().gid);
    await runPg('initdb', ['-D', instance.dataDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C.UTF-8']);
  } finally {
    rmSync(secrets, { recursive: true, force: true });
  }
  return true;
}

export async function postgresRunning(instance: PostgresInstance): Promise<boolean> {
  if (!existsSync(join(instance.dataDir, 'PG_VERSION'))) return false;
  try {
    await runPg('pg_ctl', ['status', '-D', instance.dataDir]);
    return true;
  } catch {
    return false;
  }
}

/** Starts the server on 127.0.0.1 only (its socket in the data folder) and waits until it accepts connections. */
export async function startPostgres(instance: PostgresInstance): Promise<void> {
  if (await postgresRunning(instance)) return;
  const options = `-c listen_addresses=127.0.0.1 -p ${instance.port} -k ${instance.dataDir} -c max_connections=200 -c fsync=on`;
  await runPg('pg_ctl', ['start', '-w', '-t', '60', '-D', instance.dataDir, '-l', join(instance.dataDir, 'server.log'), '-o', options]);
}

/** `fast`: what a crash-free operator stop does (sessions are cut, nothing committed is lost). */
export async function stopPostgres(instance: PostgresInstance, mode: 'fast' | 'smart' | 'immediate' = 'fast'): Promise<void> {
  if (!(await postgresRunning(instance))) return;
  await runPg('pg_ctl', ['stop', '-w', '-t', '60', '-m', mode, '-D', instance.dataDir]);
}

export function superuserUrl(instance: PostgresInstance, database = 'postgres'): string {
  return `postgres://postgres:${encodeURIComponent(instance.superPassword)}@127.0.0.1:${instance.port}/${database}`;
}

/** Creates a login role and the databases it owns, when missing; sets its password every time. */
export async function ensureRole(instance: PostgresInstance, role: string, password: string, databases: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl(instance) });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    // Identifiers cannot be bound parameters; these are the project's own constant names.
    if (!/^[a-z_][a-z0-9_]*$/.test(role)) throw new PostgresError(`bad role name ${role}`);
    const quotedPassword = `'${password.replace(/'/g, "''")}'`;
    await client.query(exists.rowCount ? `ALTER ROLE ${role} WITH LOGIN PASSWORD ${quotedPassword}` : `CREATE ROLE ${role} WITH LOGIN PASSWORD ${quotedPassword}`);
    for (const database of databases) {
      if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new PostgresError(`bad database name ${database}`);
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (!found.rowCount) await client.query(`CREATE DATABASE ${database} OWNER ${role}`);
    }
  } finally {
    await client.end();
  }
}
