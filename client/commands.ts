import { NativeConnection, Runtime } from '@temporalio/worker';
import { ensureEmbeddedCache } from '../cache/embedded-redis.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findClusterBinaries } from '../cluster/binaries.js';
import { clusterDown, clusterStatus, clusterUp } from '../cluster/cluster.js';
import { clusterDir, exportLines, loadState, MAX_FRONTEND_PORT } from '../cluster/state.js';
import { CacheServiceError, checkCacheService, maskCacheUrl } from '../cache/redis-protocol.js';
import { configuredCacheBackend, loadEnvConfig, runInputFrom, type EnvConfig, type ReleaseFlags } from '../worker/config.js';
import { readReleaseLists, ImageListNotFoundError } from '../activities/lists/release-lists.js';
import { storeKeys } from '../activities/store/result-store.js';
import { formatListProblems } from '../core/image-list.js';
import { ConfigError } from '../worker/config.js';
import { consoleLogger, createGitListsWorker, createWorker, depsFromConfig, jsonLogger } from '../worker/worker.js';
import { connectClient, connectConfig, ensureSearchAttributes, webUiUrl } from './connection.js';
import { serverAnswers, startDevServer, waitForServer } from './dev-server.js';
import { paths } from '../host/paths.js';
import { followRun, formatRunSummary, newRunId, runExitStatus, runTaskQueue, startRun } from './scan.js';
import { findTemporalCli } from './temporal-cli.js';
import { findTrivy } from './trivy-cli.js';
import { findCrane } from './crane-cli.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

function isLocal(address: string): boolean {
  return /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(address);
}

/** Makes sure a Temporal server answers; starts the embedded dev server (SQLite under .data/) when a local one does not. */
export async function ensureServer(address: string): Promise<void> {
  if (await serverAnswers(address)) return;
  if (!isLocal(address)) throw new Error(`no Temporal server answers at ${address} (TEMPORAL_ADDRESS)`);
  const cli = await findTemporalCli({ install: true, log });
  const port = Number(address.split(':').pop());
  log(`starting the Temporal dev server on ${address} (database ${paths.devServerDb}, log ${paths.devServerLog})`);
  const child = startDevServer({ cli, dbFile: paths.devServerDb, port, uiPort: port + 1000, detached: true });
  await waitForServer(address, 90_000, child);
  log(`the dev server keeps running for the Web UI; stop it with: kill ${child.pid}`);
}

/**
 * The layer cache scans will share: TRIVY_CACHE_BACKEND when set (checked now, so a cache that
 * is down stops the command with one clear line, not every scan), else the embedded one, started
 * when it does not answer. Never falls back to scanning without a cache.
 */
export async function scanCache(env: EnvConfig, logLine: (line: string) => void = log): Promise<string> {
  // With a Trivy server the server holds the cache; the worker needs none.
  if (env.TRIVY_SERVER) return 'memory';
  const configured = configuredCacheBackend(env);
  if (configured === undefined) return ensureEmbeddedCache({ install: true, log: logLine });
  if (configured.startsWith('redis://')) await checkCacheService(configured);
  else logLine('TRIVY_CACHE_BACKEND=memory: no layer cache, every scan downloads every layer again');
  return configured;
}

/** `cluster up|down|status|env`. */
export async function clusterCommand(verb: 'build' | 'up' | 'down' | 'status' | 'env', options: { workers?: number; port?: number } = {}): Promise<number> {
  if (verb === 'build') {
    const started = Date.now();
    const binaries = await findClusterBinaries({ install: true, log });
    for (const [name, path] of Object.entries(binaries)) console.log(`${name}: ${path}`);
    log(`cluster binaries ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  }
  if (verb !== 'up' && !existsSync(join(clusterDir(), 'state.json'))) throw new ConfigError(`no cluster in ${clusterDir()}: run \`image-scanning cluster up\` first`);
  if (verb === 'up') {
    if (options.port !== undefined && options.port > MAX_FRONTEND_PORT) {
      throw new ConfigError(`--port ${options.port}: the Temporal server keeps its membership ports (the port + 100 to 103) in a PostgreSQL smallint; give a port up to ${MAX_FRONTEND_PORT}`);
    }
    const trivy = await findTrivy({ install: true, log });
    const crane = loadEnvConfig().IMAGE_SCANNING_REMATCH ? await findCrane({ install: true, log }) : undefined;
    await clusterUp({ workers: options.workers, frontendPort: options.port, trivy, crane, log });
    console.log(exportLines(loadState(clusterDir())));
    return 0;
  }
  if (verb === 'down') {
    await clusterDown(log);
    return 0;
  }
  if (verb === 'env') {
    console.log(exportLines(loadState(clusterDir())));
    return 0;
  }
  const parts = await clusterStatus();
  for (const p of parts) console.log(`${p.running ? 'up  ' : 'DOWN'} ${p.name.padEnd(16)} ${p.address ?? ''}${p.pid ? ` (pid ${p.pid})` : ''}`);
  return parts.every((p) => p.running) ? 0 : 1;
}

/** `cache`: start the embedded scan cache if needed and say where it is. */
export async function runCache(): Promise<number> {
  const env = loadEnvConfig();
  const url = await scanCache(env);
  console.log(`scan cache: ${maskCacheUrl(url)}`);
  return 0;
}

export { CacheServiceError };

/** `run`: the embedded one-shot. Server if needed, an in-process worker, the run, a progress bar, the outputs. */
export async function runEmbedded(flags: ReleaseFlags & { out?: string; concurrency?: number; full?: boolean }): Promise<number> {
  const env = loadEnvConfig();
  const input = await runInputFrom(flags, flags.concurrency ? { maxConcurrentScans: flags.concurrency } : {});
  // The progress bar is the interface here; the SDK's INFO lines would scroll it away.
  Runtime.install({ logger: consoleLogger(env.LOG_LEVEL === 'DEBUG' || env.LOG_LEVEL === 'TRACE' ? env.LOG_LEVEL : 'WARN') });
  const { address, namespace, options } = connectConfig();
  await ensureServer(address);
  const trivy = await findTrivy({ install: true, log });
  const cache = await scanCache(env);
  const crane = env.IMAGE_SCANNING_REMATCH ? await findCrane({ install: true, log }) : undefined;
  const deps = depsFromConfig({
    ...env,
    TRIVY_BIN: trivy,
    CRANE_BIN: crane,
    TRIVY_CACHE_BACKEND: cache,
    TRIVY_CACHE_PASSWORD_FILE: undefined,
    ...(flags.out ? { IMAGE_SCANNING_REPORTS_DIR: flags.out } : {}),
    ...(flags.full ? { IMAGE_SCANNING_FULL_SCAN: true } : {}),
  });
  const nativeConnection = await NativeConnection.connect(options);
  const { client, connection } = await connectClient();
  try {
    await ensureSearchAttributes(connection, namespace);
    // The run's own queue, polled by this worker alone; `scan`, the Schedule and `worker` share env.TEMPORAL_TASK_QUEUE.
    const workflowId = newRunId(input);
    const taskQueue = runTaskQueue(env.TEMPORAL_TASK_QUEUE, workflowId);
    const worker = await createWorker({ connection: nativeConnection, namespace, taskQueue, deps, maxConcurrentActivities: env.MAX_CONCURRENT_ACTIVITIES });
    const summary = await worker.runUntil(async () => {
      const handle = await startRun(client, input, { taskQueue, workflowId });
      log(`run ${handle.workflowId} on task queue ${taskQueue}: ${webUiUrl(namespace, handle.workflowId)}`);
      return followRun(handle);
    });
    console.log(formatRunSummary(summary));
    console.log(`scan results (for \`render --results\`): ${deps.store.path(storeKeys.run(summary.runKey))}`);
    console.log(`Web UI: ${webUiUrl(namespace)}`);
    return await runExitStatus(summary);
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

/** `worker`: a long-running worker on the task queue; SIGINT/SIGTERM shut it down gracefully. */
export async function runWorker(flags: { gitLists?: boolean } = {}): Promise<number> {
  const env = loadEnvConfig();
  Runtime.install({
    logger: jsonLogger(env.LOG_LEVEL),
    ...(env.IMAGE_SCANNING_METRICS_ADDRESS ? { telemetryOptions: { metrics: { prometheus: { bindAddress: env.IMAGE_SCANNING_METRICS_ADDRESS } } } } : {}),
  });
  const { namespace, options } = connectConfig();
  if (flags.gitLists) {
    if (!env.IMAGE_SCANNING_GIT_TASK_QUEUE) throw new ConfigError('worker --git-lists needs IMAGE_SCANNING_GIT_TASK_QUEUE (the queue runs send git sources to)');
    const { store, gitCacheDir } = depsFromConfig(env);
    const worker = await createGitListsWorker({ connection: await NativeConnection.connect(options), namespace, taskQueue: env.IMAGE_SCANNING_GIT_TASK_QUEUE, deps: { store, gitCacheDir } });
    Runtime.instance().logger.info('git lists worker polling', { taskQueue: env.IMAGE_SCANNING_GIT_TASK_QUEUE, namespace });
    await worker.run();
    return 0;
  }
  const nativeConnection = await NativeConnection.connect(options);
  const { connection } = await connectClient();
  await ensureSearchAttributes(connection, namespace);
  await connection.close();
  const trivy = await findTrivy({ install: true, log: (line) => Runtime.instance().logger.info(line) });
  const cache = await scanCache(env, (line) => Runtime.instance().logger.info(line));
  const crane = env.IMAGE_SCANNING_REMATCH ? await findCrane({ install: true, log: (line) => Runtime.instance().logger.info(line) }) : undefined;
  const worker = await createWorker({
    connection: nativeConnection,
    namespace,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    deps: depsFromConfig({ ...env, TRIVY_BIN: trivy, CRANE_BIN: crane, TRIVY_CACHE_BACKEND: cache, TRIVY_CACHE_PASSWORD_FILE: undefined }, { warn: (message) => Runtime.instance().logger.warn(message) }),
    maxConcurrentActivities: env.MAX_CONCURRENT_ACTIVITIES,
    shutdownGraceSeconds: env.WORKER_SHUTDOWN_GRACE_SECONDS,
  });
  Runtime.instance().logger.info('worker polling', { taskQueue: env.TEMPORAL_TASK_QUEUE, namespace });
  await worker.run();
  await nativeConnection.close();
  return 0;
}

/** `scan`: start a run on a running cluster (workers elsewhere) and optionally follow it. */
export async function startScan(flags: ReleaseFlags & { follow?: boolean }): Promise<number> {
  const env = loadEnvConfig();
  const input = await runInputFrom(flags);
  const { client, connection, namespace } = await connectClient();
  try {
    const handle = await startRun(client, input, { taskQueue: env.TEMPORAL_TASK_QUEUE });
    console.log(`started ${handle.workflowId}: ${webUiUrl(namespace, handle.workflowId)}`);
    if (!flags.follow) return 0;
    const summary = await followRun(handle);
    console.log(formatRunSummary(summary));
    return await runExitStatus(summary);
  } finally {
    await connection.close();
  }
}

/** `images`: what a run would scan, as JSON lines; malformed lines go to stderr with file and line. */
export async function printImages(flags: ReleaseFlags): Promise<number> {
  const env = loadEnvConfig();
  const input = await runInputFrom(flags, {}, { release: flags.images ? 'local' : undefined });
  const deps = depsFromConfig(env);
  let problems = 0;
  for (const release of input.releases) {
    let lists;
    try {
      lists = await readReleaseLists(release, { github: deps.github, mirrorList: input.mirrorList });
    } catch (error) {
      if (error instanceof ImageListNotFoundError) throw new ConfigError(error.message);
      throw error;
    }
    for (const r of lists.records) {
      const line = { image: r.image, registry: r.registry, repository: r.repository, tag: r.tag ?? null, digest: r.digest ?? null, windows: r.windows, mirrored: r.mirrored, projects: r.projects };
      console.log(JSON.stringify(input.releases.length > 1 ? { release: release.name, ...line } : line));
    }
    if (lists.problems.length) console.error(formatListProblems(lists.problems));
    problems += lists.problems.length;
  }
  return problems > 0 ? 1 : 0;
}

export { ensureSearchAttributes };
