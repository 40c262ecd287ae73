import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { findRedisServer, localCacheUrl, startCacheServer } from '../cache/embedded-redis.js';
import { checkCacheService } from '../cache/redis-protocol.js';
import { PROJECT_ROOT } from '../host/paths.js';
import { ensureNamespace, ensureSearchAttributes, serverAnswers } from '../host/temporal-server.js';
import { findClusterBinaries, type ClusterBinaries } from './binaries.js';
import { ensureRole, initPostgres, postgresRunning, startPostgres, stopPostgres, type PostgresInstance } from './postgres.js';
import { alive, logTail, pidOf, startDetached, stopProcess } from './processes.js';
import { cacheAddress, clusterDir, DYNAMIC_CONFIG, layout, loadState, ports, processOf, SERVER_CONFIG_DIR, STORE_DATABASE, storeUrl, type ClusterState } from './state.js';

/**
 * `image-scanning cluster up|down|status|env`: the deployment of docker-compose.yml as plain
 * processes on this machine (no Docker engine needed): PostgreSQL, the Temporal server on it with
 * both schemas, its Web UI, the scan cache, and N workers on the PostgreSQL result store. `up` is
 * idempotent: it starts what is not running, so after a crash it brings the missing part back.
 */
export class ClusterError extends Error {
  override name = 'ClusterError';
}

const CLI = join(PROJECT_ROOT, 'lib', 'client', 'cli.js');

function postgresOf(dir: string, state: ClusterState): PostgresInstance {
  return { dataDir: layout(dir).postgres, port: ports(state).postgres, superPassword: state.passwords.postgres };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, gone?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    const why = gone?.();
    if (why) throw new ClusterError(`${what} ${why}`);
    if (Date.now() > deadline) throw new ClusterError(`${what} was not healthy within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function setUpSchemas(binaries: ClusterBinaries, state: ClusterState): Promise<void> {
  // The password in the tool's environment (SQL_PASSWORD), not its command line.
  const env = { ...process.env, SQL_PASSWORD: state.passwords.temporal };
  const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(ports(state).postgres), '-u', 'temporal'];
  for (const [database, schema] of [
    ['temporal', 'postgresql/v12/temporal'],
    ['temporal_visibility', 'postgresql/v12/visibility'],
  ] as const) {
    const run = (args: string[]) => promisify(execFile)(binaries.sqlTool, [...base, '--db', database, ...args], { env });
    // setup-schema fails once the versioning table exists; update-schema is what must succeed.
    await run(['setup-schema', '-v', '0.0']).catch(() => undefined);
    await run(['update-schema', '-s', schema]).catch((error: { stderr?: string; message: string }) => {
      throw new ClusterError(`temporal-sql-tool update-schema -s ${schema} on ${database} failed: ${(error.stderr || error.message).trim()}`);
    });
  }
}

/** The environment of worker i: the same variables docker-compose.yml gives its workers (a test keeps them in step). */
export function workerEnvironment(dir: string, state: ClusterState, i: number, tools: ScannerTools): Record<string, string> {
  const l = layout(dir);
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: `127.0.0.1:${ports(state).frontend}`,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: process.env.TEMPORAL_TASK_QUEUE ?? 'image-scanning',
    IMAGE_SCANNING_STORE: storeUrl(state),
    IMAGE_SCANNING_DATA_DIR: join(l.worker(i), 'data'),
    IMAGE_SCANNING_REPORTS_DIR: l.reports,
    IMAGE_SCANNING_METRICS_ADDRESS: `127.0.0.1:${ports(state).workerMetrics(i)}`,
    TRIVY_BIN: tools.trivy,
    // The HEAD that lets an unchanged image be re-matched: without it every scan pulls.
    ...(tools.crane ? { CRANE_BIN: tools.crane } : {}),
    TRIVY_CACHE_DIR: l.trivyCache,
    TRIVY_CACHE_BACKEND: cacheAddress(state),
    TRIVY_CACHE_PASSWORD_FILE: join(l.secrets, 'cache-password'),
    TRIVY_TIMEOUT: process.env.TRIVY_TIMEOUT ?? '900',
    MAX_CONCURRENT_ACTIVITIES: process.env.MAX_CONCURRENT_ACTIVITIES ?? '8',
    GITHUB_REPOSITORY: process.env.GITHUB_REPOSITORY ?? '',
    IMAGE_SCANNING_VEX: process.env.IMAGE_SCANNING_VEX ?? '',
    GITHUB_TOKEN_FILE: join(l.secrets, 'github-token'),
  };
  return env;
}

/** Secrets as files the workers read (0600), as compose's secrets are. */
function writeSecrets(dir: string, state: ClusterState): void {
  const secrets = layout(dir).secrets;
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  writeFileSync(join(secrets, 'cache-password'), `${state.passwords.cache}\n`, { mode: 0o600 });
  const tokenFile = join(secrets, 'github-token');
  if (process.env.GITHUB_TOKEN_FILE) copyFileSync(process.env.GITHUB_TOKEN_FILE, tokenFile);
  else writeFileSync(tokenFile, process.env.GITHUB_TOKEN ? `${process.env.GITHUB_TOKEN}\n` : '', { mode: 0o600 });
}

/** The programs each worker runs: Trivy, and crane for re-matching's HEAD (absent: re-matching off). */
export interface ScannerTools {
  trivy: string;
  crane?: string;
}

export interface UpOptions extends ScannerTools {
  workers?: number;
  frontendPort?: number;
  log: (line: string) => void;
}

export async function clusterUp(options: UpOptions): Promise<ClusterState> {
  const dir = clusterDir();
  const state = loadState(dir, { workers: options.workers, frontendPort: options.frontendPort });
  const p = ports(state);
  const l = layout(dir);
  const binaries = await findClusterBinaries({ install: true, log: options.log });
  const started = Date.now();
  const took = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  // PostgreSQL: its own folder, loopback only, a password per role.
  const pg = postgresOf(dir, state);
  if (await initPostgres(pg)) options.log(`PostgreSQL initialised in ${pg.dataDir}`);
  if (!(await postgresRunning(pg))) {
    await startPostgres(pg);
    options.log(`PostgreSQL on 127.0.0.1:${p.postgres} (${took()})`);
  }
  await ensureRole(pg, 'temporal', state.passwords.temporal, ['temporal', 'temporal_visibility']);
  await ensureRole(pg, 'image_scanning', state.passwords.store, [STORE_DATABASE]);
  await setUpSchemas(binaries, state);

  // The Temporal server, rendering deploy/temporal/config/cluster.yaml from this environment.
  const server = processOf(dir, 'temporal-server');
  const address = `127.0.0.1:${p.frontend}`;
  if (!pidOf(server)) {
    const env = {
      ...process.env,
      CLUSTER_PG_PORT: String(p.postgres),
      CLUSTER_PG_PASSWORD: state.passwords.temporal,
      CLUSTER_FRONTEND_PORT: String(p.frontend),
      CLUSTER_SERVER_METRICS_PORT: String(p.serverMetrics),
      CLUSTER_DYNAMIC_CONFIG: DYNAMIC_CONFIG,
    };
    startDetached(server, binaries.server, ['--root', '/', '--config', SERVER_CONFIG_DIR, '--env', 'cluster', '--allow-no-auth', 'start'], env);
  }
  await waitFor('the Temporal server', () => serverAnswers(address, 1000), 90_000, () => (pidOf(server) ? undefined : `exited; see ${server.logFile}:\n${logTail(server)}`));
  const connection = await Connection.connect({ address });
  try {
    if (await ensureNamespace(connection, 'default')) options.log('namespace default registered');
    // A namespace registered a moment ago reaches every service within a few seconds.
    await waitFor('the default namespace', async () => {
      try {
        await ensureSearchAttributes(connection, 'default');
        return true;
      } catch {
        return false;
      }
    }, 60_000);
  } finally {
    await connection.close();
  }
  options.log(`Temporal server on ${address} (${took()})`);

  // The Web UI server.
  const ui = processOf(dir, 'temporal-ui');
  if (!pidOf(ui)) {
    mkdirSync(l.ui, { recursive: true });
    writeFileSync(
      join(l.ui, 'cluster.yaml'),
      [`temporalGrpcAddress: ${address}`, 'host: 127.0.0.1', `port: ${p.ui}`, 'enableUi: true', 'defaultNamespace: default', 'cors:', '  allowOrigins: []', ''].join('\n'),
    );
    startDetached(ui, binaries.uiServer, ['--root', l.ui, '--config', '.', '--env', 'cluster', 'start'], process.env);
  }
  await waitFor('the Temporal Web UI', () => fetch(`http://127.0.0.1:${p.ui}/`).then((r) => r.ok, () => false), 30_000, () => (pidOf(ui) ? undefined : `exited; see ${ui.logFile}:\n${logTail(ui)}`));

  // The scan cache.
  const cache = processOf(dir, 'scan-cache');
  if (!(await checkCacheService(localCacheUrl(state.passwords.cache, p.cache), 500).then(() => true, () => false))) {
    const started = await startCacheServer({ server: await findRedisServer({ install: true, log: options.log }), dir: l.cache, port: p.cache, password: state.passwords.cache, detached: true });
    writeFileSync(cache.pidFile, `${started.pid}\n`);
  }

  // The workers.
  writeSecrets(dir, state);
  for (let i = 1; i <= state.workers; i++) {
    const worker = processOf(dir, `worker-${i}`);
    if (pidOf(worker)) continue;
    mkdirSync(l.worker(i), { recursive: true });
    startDetached(worker, process.execPath, [CLI, 'worker'], { ...process.env, ...workerEnvironment(dir, state, i, options), TMPDIR: l.worker(i) }, l.worker(i));
  }
  for (let i = 1; i <= state.workers; i++) {
    const worker = processOf(dir, `worker-${i}`);
    await waitFor(`worker ${i}`, async () => logTail(worker, 200).includes('worker polling'), 60_000, () => (pidOf(worker) ? undefined : `exited; see ${worker.logFile}:\n${logTail(worker)}`));
  }
  options.log(`cluster up in ${took()}: ${state.workers} workers, Web UI http://127.0.0.1:${p.ui}`);
  return state;
}

export interface ComponentStatus {
  name: string;
  running: boolean;
  pid?: number;
  address?: string;
}

export async function clusterStatus(): Promise<ComponentStatus[]> {
  const dir = clusterDir();
  const state = loadState(dir);
  const p = ports(state);
  const pg = postgresOf(dir, state);
  const out: ComponentStatus[] = [{ name: 'postgresql', running: await postgresRunning(pg), address: `127.0.0.1:${p.postgres}` }];
  out.push({ name: 'temporal-server', running: await serverAnswers(`127.0.0.1:${p.frontend}`, 1000), pid: pidOf(processOf(dir, 'temporal-server')), address: `127.0.0.1:${p.frontend}` });
  out.push({ name: 'temporal-ui', running: await fetch(`http://127.0.0.1:${p.ui}/`).then((r) => r.ok, () => false), pid: pidOf(processOf(dir, 'temporal-ui')), address: `http://127.0.0.1:${p.ui}` });
  out.push({ name: 'scan-cache', running: await checkCacheService(localCacheUrl(state.passwords.cache, p.cache), 500).then(() => true, () => false), pid: pidOf(processOf(dir, 'scan-cache')), address: `127.0.0.1:${p.cache}` });
  for (let i = 1; i <= state.workers; i++) {
    const pid = pidOf(processOf(dir, `worker-${i}`));
    out.push({ name: `worker-${i}`, running: alive(pid), pid, address: `http://127.0.0.1:${p.workerMetrics(i)}/metrics` });
  }
  return out;
}

/** Stops everything `up` started, workers first (they hand back their scans), and keeps the data. */
export async function clusterDown(log: (line: string) => void): Promise<void> {
  const dir = clusterDir();
  const state = loadState(dir);
  // Every worker with a pid file, also those of an earlier `up --workers` with more of them.
  const run = join(dir, 'run');
  const workers = existsSync(run) ? readdirSync(run, { withFileTypes: true }).filter((e) => /^worker-\d+\.pid$/.test(e.name)) : [];
  for (const name of workers.map((e) => e.name.replace(/\.pid$/, ''))) {
    if (await stopProcess(processOf(dir, name), 30_000)) log(`${name} stopped`);
  }
  for (const name of ['temporal-ui', 'temporal-server', 'scan-cache']) {
    if (await stopProcess(processOf(dir, name))) log(`${name} stopped`);
  }
  const pg = postgresOf(dir, state);
  if (await postgresRunning(pg)) {
    await stopPostgres(pg, 'fast');
    log('postgresql stopped');
  }
}
