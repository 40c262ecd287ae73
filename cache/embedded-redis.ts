import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isExecutable, onPath } from '../host/executables.js';
import { paths } from '../host/paths.js';
import { CacheServiceError, checkCacheService } from './redis-protocol.js';

/**
 * The embedded default's scan cache: Debian's `redis-server`, started by the project on loopback
 * the way the Temporal dev server is, with a password and its data under `.data/redis/` (append-only
 * file on, so the layer cache outlives restarts and a week between runs).
 */
export const EMBEDDED_CACHE = {
  dir: join(paths.data, 'redis'),
  /** Off Redis's own 6379, so a Redis the user already runs is left alone. */
  port: 6389,
  /** Layer analyses are small (package lists); least recently used ones go first past this. */
  maxMemory: '2gb',
};

export interface CacheServerOptions {
  /** redis-server executable. */
  server: string;
  dir: string;
  port: number;
  /** Its password; else the one kept in `dir`, made at the first start. */
  password?: string;
  maxMemory?: string;
  /** Keep running after this process exits (the embedded default, like the dev server). */
  detached?: boolean;
}

export interface CacheServer {
  /** redis://:password@127.0.0.1:port, for TRIVY_CACHE_BACKEND; never log it unmasked. */
  url: string;
  pid?: number;
  logFile: string;
  /** Stops it (SIGTERM, then SIGKILL after 10 s); the data stays in `dir`. */
  stop(): Promise<void>;
}

/**
 * Finds `redis-server`: REDIS_SERVER (path or name on PATH), then PATH, then Debian's place.
 * With `install`, running as root on Debian, installs Debian's package, as CI does for Chromium.
 */
export async function findRedisServer(options: { install: boolean; log?: (line: string) => void }): Promise<string> {
  const fromEnv = process.env.REDIS_SERVER;
  if (fromEnv) {
    const found = fromEnv.includes('/') ? ((await isExecutable(fromEnv)) ? fromEnv : undefined) : await onPath(fromEnv);
    if (found) return found;
    throw new CacheServiceError(`REDIS_SERVER is set to ${fromEnv}, which is not an executable`);
  }
  const found = (await onPath('redis-server')) ?? ((await isExecutable('/usr/bin/redis-server')) ? '/usr/bin/redis-server' : undefined);
  if (found) return found;
  const howTo = 'install Debian\'s redis-server (`apt-get install redis-server`) or set REDIS_SERVER, or point TRIVY_CACHE_BACKEND at a Redis server';
  if (!options.install || process.getuid?.() !== 0 || !(await onPath('apt-get'))) throw new CacheServiceError(`the scan cache needs redis-server, which is not installed: ${howTo}`);
  options.log?.('installing Debian\'s redis-server for the scan cache (apt-get install redis-server)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await promisify(execFile)('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], { env }).catch(async () => {
      await promisify(execFile)('apt-get', ['update'], { env });
      await promisify(execFile)('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], { env });
    });
  } catch (error) {
    throw new CacheServiceError(`apt-get install redis-server failed (${(error as Error).message.split('\n')[0]}): ${howTo}`);
  }
  if (await isExecutable('/usr/bin/redis-server')) return '/usr/bin/redis-server';
  throw new CacheServiceError(`apt-get installed redis-server but /usr/bin/redis-server is missing: ${howTo}`);
}

/** The password of the cache in `dir`, made once and kept beside its data (mode 0600). */
function cachePassword(dir: string): string {
  const file = join(dir, 'password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('hex');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** The URL of a cache this project runs on loopback; never log it unmasked. */
export function localCacheUrl(password: string, port: number): string {
  return `redis://:${password}@127.0.0.1:${port}`;
}

/** redis.conf for the cache: loopback only, a password, persistence on, a memory bound. */
export function cacheServerConfig(options: { dir: string; port: number; password: string; maxMemory?: string }): string {
  return [
    '# Written by image-scanning (cache/embedded-redis.ts); rewritten at every start.',
    'bind 127.0.0.1',
    'protected-mode yes',
    `port ${options.port}`,
    `requirepass ${options.password}`,
    `dir ${options.dir}`,
    'daemonize no',
    `pidfile ${join(options.dir, 'redis.pid')}`,
    // Layers analysed last week are what this week's run reuses: keep them across restarts.
    'appendonly yes',
    'appendfsync everysec',
    'save 3600 1 300 100 60 10000',
    `maxmemory ${options.maxMemory ?? EMBEDDED_CACHE.maxMemory}`,
    'maxmemory-policy allkeys-lru',
    '',
  ].join('\n');
}

/** Starts redis-server on loopback with its data in `dir` and returns once it answers. */
export async function startCacheServer(options: CacheServerOptions): Promise<CacheServer> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const password = options.password ?? cachePassword(options.dir);
  const configFile = join(options.dir, 'redis.conf');
  // The password lives in the file (0600), not on the command line where `ps` shows it.
  writeFileSync(configFile, cacheServerConfig({ ...options, password }), { mode: 0o600 });
  const logFile = join(options.dir, 'redis.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(options.server, [configFile], { stdio: ['ignore', log, log], detached: options.detached ?? false });
  if (options.detached) child.unref();
  const url = localCacheUrl(password, options.port);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new CacheServiceError(`redis-server exited with code ${child.exitCode} at start; see ${logFile}`);
    try {
      await checkCacheService(url, 500);
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new CacheServiceError(`redis-server did not answer on 127.0.0.1:${options.port} within 20 s (${(error as Error).message}); see ${logFile}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: child.pid,
    logFile,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * The embedded default: the cache in `.data/redis/` on port 6389, started (and left running,
 * like the dev server) when it does not answer. Returns its URL.
 */
export async function ensureEmbeddedCache(options: { install: boolean; log?: (line: string) => void }): Promise<string> {
  mkdirSync(EMBEDDED_CACHE.dir, { recursive: true, mode: 0o700 });
  const url = localCacheUrl(cachePassword(EMBEDDED_CACHE.dir), EMBEDDED_CACHE.port);
  try {
    await checkCacheService(url, 1000);
    return url;
  } catch (error) {
    // Something answers on the port but refuses our password: not ours, do not start a second one.
    if (/refused the credentials|not a Redis server/.test((error as Error).message)) {
      throw new CacheServiceError(`${(error as Error).message}; port ${EMBEDDED_CACHE.port} belongs to another Redis: stop it or set TRIVY_CACHE_BACKEND`);
    }
  }
  const server = await findRedisServer(options);
  options.log?.(`starting the scan cache (redis-server on 127.0.0.1:${EMBEDDED_CACHE.port}, data in ${EMBEDDED_CACHE.dir})`);
  const started = await startCacheServer({ server, dir: EMBEDDED_CACHE.dir, port: EMBEDDED_CACHE.port, detached: true });
  options.log?.(`the scan cache keeps running for the next run; stop it with: kill ${started.pid}`);
  return started.url;
}
