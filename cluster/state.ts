import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { paths, PROJECT_ROOT } from '../host/paths.js';
import { localCacheUrl } from '../cache/embedded-redis.js';
import type { ManagedProcess } from './processes.js';

/**
 * Where `image-scanning cluster` keeps everything: `.data/cluster/` (or
 * IMAGE_SCANNING_CLUSTER_DIR), with the ports and passwords chosen at the first `up`, so every
 * later `up`, `env` and `status` finds the same cluster.
 */
export interface ClusterState {
  /** The frontend's gRPC port; the other ports are fixed offsets from it (see `ports`). */
  frontendPort: number;
  workers: number;
  passwords: { postgres: string; temporal: string; store: string; cache: string };
}

export const DEFAULT_FRONTEND_PORT = 17233;

export function clusterDir(): string {
  return resolve(process.env.IMAGE_SCANNING_CLUSTER_DIR ?? join(paths.data, 'cluster'));
}

/** Every port of the cluster, all on 127.0.0.1. Offsets keep one number to choose. */
export function ports(state: Pick<ClusterState, 'frontendPort'>) {
  const f = state.frontendPort;
  return {
    frontend: f,
    ui: f + 1000,
    postgres: f + 300,
    cache: f + 301,
    serverMetrics: f + 200,
    /** Worker i (1-based) serves Prometheus metrics here. */
    workerMetrics: (i: number) => f + 400 + i,
  };
}

/**
 * The highest frontend port a cluster can have: the server records each service's membership
 * port (frontend + 100..103) in cluster_membership.rpc_port, a PostgreSQL smallint, and exits
 * at start for one above 32767.
 */
export const MAX_FRONTEND_PORT = 32767 - 103;

const secret = () => randomBytes(18).toString('hex');

export function loadState(dir: string, defaults: { frontendPort?: number; workers?: number } = {}): ClusterState {
  const file = join(dir, 'state.json');
  if (existsSync(file)) {
    const state = JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
    if (defaults.workers !== undefined && defaults.workers !== state.workers) {
      state.workers = defaults.workers;
      saveState(dir, state);
    }
    return state;
  }
  const state: ClusterState = {
    frontendPort: defaults.frontendPort ?? DEFAULT_FRONTEND_PORT,
    workers: defaults.workers ?? 3,
    passwords: { postgres: secret(), temporal: secret(), store: secret(), cache: secret() },
  };
  saveState(dir, state);
  return state;
}

export function saveState(dir: string, state: ClusterState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The passwords are in it: owner only.
  writeFileSync(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function processOf(dir: string, name: string): ManagedProcess {
  return { name, pidFile: join(dir, 'run', `${name}.pid`), logFile: join(dir, 'logs', `${name}.log`) };
}

export const layout = (dir: string) => ({
  postgres: join(dir, 'postgres', 'data'),
  cache: join(dir, 'redis'),
  secrets: join(dir, 'secrets'),
  worker: (i: number) => join(dir, 'workers', String(i)),
  reports: join(dir, 'reports'),
  trivyCache: join(dir, 'trivy-cache'),
  ui: join(dir, 'ui'),
});

export const STORE_DATABASE = 'image_scanning';

export function storeUrl(state: ClusterState): string {
  return `postgres://image_scanning:${state.passwords.store}@127.0.0.1:${ports(state).postgres}/${STORE_DATABASE}`;
}

/** The cache's URL without the password, which workers read from their secret file (as in compose). */
export function cacheAddress(state: ClusterState): string {
  return `redis://127.0.0.1:${ports(state).cache}`;
}

/** The shell lines `eval "$(image-scanning cluster env)"` runs to point run, scan and worker at the cluster. */
export function exportLines(state: ClusterState): string {
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const p = ports(state);
  const vars: [string, string][] = [
    ['TEMPORAL_ADDRESS', `127.0.0.1:${p.frontend}`],
    ['TEMPORAL_NAMESPACE', 'default'],
    ['TEMPORAL_UI_URL', `http://127.0.0.1:${p.ui}`],
    ['IMAGE_SCANNING_STORE', storeUrl(state)],
    ['TRIVY_CACHE_BACKEND', localCacheUrl(state.passwords.cache, p.cache)],
  ];
  return vars.map(([k, v]) => `export ${k}=${quote(v)}`).join('\n');
}

/** The dynamic config compose mounts into its server: the cluster's server reads the same file. */
export const DYNAMIC_CONFIG = join(PROJECT_ROOT, 'deploy', 'dynamicconfig', 'production-sql.yaml');
export const SERVER_CONFIG_DIR = join(PROJECT_ROOT, 'deploy', 'temporal', 'config');
