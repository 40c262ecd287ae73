import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { DefaultLogger, NativeConnection, Worker, type LogEntry, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { createGenerateGitLists } from '../activities/sources/index.js';
import { FolderResultStore } from '../activities/store/result-store.js';
import { paths } from '../host/paths.js';
import { trivyVersion } from '../client/trivy-cli.js';
import { createGitHub } from '../activities/github/github.js';
import { parseRepository } from '../activities/github/repository.js';
import { PostgresResultStore } from '../activities/store/postgres-result-store.js';
import { GitHubReportStore } from '../activities/store/github-report-store.js';
import { publishSiteToGitHub } from '../activities/site/publish-site-to-github.js';
import { checkVexSources, ConfigError, configuredCacheBackend, readGitHubToken, type EnvConfig } from './config.js';

/** Activity dependencies from validated configuration; the only place activities' settings are read. */
export function depsFromConfig(config: EnvConfig, log: { warn(message: string): void } = { warn: (m) => console.warn(m) }): ActivityDeps {
  const token = readGitHubToken(config);
  const github = createGitHub({
    token,
    baseUrl: config.GITHUB_API_URL,
    log,
    pacing: { writeMs: config.GITHUB_WRITE_INTERVAL_MS, notificationMs: config.GITHUB_CONTENT_WRITE_INTERVAL_MS },
  });
  if (config.REPORTS_GITHUB_REPOSITORY && !token) throw new ConfigError('REPORTS_GITHUB_REPOSITORY needs GITHUB_TOKEN (or GITHUB_TOKEN_FILE) to commit reports');
  if (config.SITE_GITHUB_REPOSITORY && !token) throw new ConfigError('SITE_GITHUB_REPOSITORY needs GITHUB_TOKEN (or GITHUB_TOKEN_FILE) to publish the site');
  const siteTarget = config.SITE_GITHUB_REPOSITORY
    ? { ...parseRepository(config.SITE_GITHUB_REPOSITORY), branch: config.SITE_GITHUB_BRANCH, folder: config.SITE_GITHUB_PATH }
    : undefined;
  return {
    github,
    githubCanWrite: token !== undefined,
    sitePublisher: siteTarget ? (siteDir, message) => publishSiteToGitHub(github, siteTarget, siteDir, message) : undefined,
    reportStore: config.REPORTS_GITHUB_REPOSITORY
      ? new GitHubReportStore(github, parseRepository(config.REPORTS_GITHUB_REPOSITORY), config.REPORTS_GITHUB_BRANCH, config.REPORTS_GITHUB_PATH)
      : undefined,
    store: config.IMAGE_SCANNING_STORE ? new PostgresResultStore(config.IMAGE_SCANNING_STORE) : new FolderResultStore(resolve(config.IMAGE_SCANNING_DATA_DIR)),
    retentionDays: config.IMAGE_SCANNING_RETENTION_DAYS,
    gitCacheDir: config.IMAGE_SCANNING_GIT_CACHE_DIR ? resolve(config.IMAGE_SCANNING_GIT_CACHE_DIR) : undefined,
    reportsDir: resolve(config.IMAGE_SCANNING_REPORTS_DIR),
    issueRepository: config.GITHUB_REPOSITORY,
    triageTeam: config.TRIAGE_TEAM,
    siteUrl: config.SITE_URL,
    trivy: {
      bin: config.TRIVY_BIN,
      cacheDir: resolve(config.TRIVY_CACHE_DIR),
      // `run` and `worker` resolve an unset backend to the embedded cache before they get here;
      // anything else that scans without one is refused by the scan (requireCacheService).
      cacheBackend: configuredCacheBackend(config) ?? 'unset',
      timeoutSeconds: config.TRIVY_TIMEOUT,
      severities: config.TRIVY_SEVERITIES,
      server: config.TRIVY_SERVER,
      rateLimitBackoffSeconds: config.TRIVY_RATE_LIMIT_BACKOFF,
      heartbeatSeconds: config.TRIVY_HEARTBEAT_SECONDS,
      vex: config.IMAGE_SCANNING_VEX.length > 0 ? checkVexSources(config.IMAGE_SCANNING_VEX) : undefined,
      // Re-matching needs both: crane for the HEAD, and Trivy's version to key the SBOMs by.
      ...(config.IMAGE_SCANNING_REMATCH && config.CRANE_BIN && !config.TRIVY_SERVER ? { crane: config.CRANE_BIN, version: trivyVersion(config.TRIVY_BIN) } : {}),
      fullScan: config.IMAGE_SCANNING_FULL_SCAN,
      rateLimitDeadlineSeconds: config.IMAGE_SCANNING_RATE_LIMIT_DEADLINE,
    },
  };
}

/**
 * For a person at a terminal (`run`): one line an entry, `[WARN] message`; the entry's fields
 * (task tokens, ids, stacks) only at DEBUG and below, where they are what is asked for.
 */
export function consoleLogger(level: LogLevel): DefaultLogger {
  const detailed = level === 'DEBUG' || level === 'TRACE';
  return new DefaultLogger(level, (entry: LogEntry) => {
    const meta = detailed && entry.meta ? ` ${JSON.stringify(entry.meta, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v))}` : '';
    process.stderr.write(`[${entry.level}] ${entry.message}${meta}\n`);
  });
}

/** One JSON object per line: what log collectors in a deployment expect. */
export function jsonLogger(level: LogLevel): DefaultLogger {
  return new DefaultLogger(level, (entry: LogEntry) => {
    const { sdkComponent, ...meta } = entry.meta ?? {};
    process.stdout.write(
      `${JSON.stringify({ time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(), level: entry.level, component: sdkComponent, message: entry.message, ...meta })}\n`,
    );
  });
}

/** Prebuilt bundle when present (containers), else the compiled workflows bundled at start. */
export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = process.env.WORKFLOW_BUNDLE ?? paths.workflowBundle;
  return existsSync(bundle) ? { workflowBundle: { codePath: bundle } } : { workflowsPath: paths.workflows };
}

/**
 * V8's heap sizing for a small footprint, in the worker only: scans leave garbage that lives
 * as long as a scan, which V8 otherwise lets grow to 150 MB of heap between full collections
 * (worker peak RSS 300 to 480 MB over the same run, BENCHMARKS.md); with this, about 230 MB.
 * Set before the worker creates its workflow threads, so their isolates get it too.
 */
function preferSmallHeap(): void {
  setFlagsFromString('--optimize-for-size');
}

/**
 * A worker for the git sources' queue alone (`worker --git-lists`): no workflows, only
 * generateGitLists, on a machine with Go, jq and yq; it needs the run's result store, nothing else.
 */
export async function createGitListsWorker(options: { connection: NativeConnection; namespace: string; taskQueue: string; deps: Pick<ActivityDeps, 'store' | 'gitCacheDir'>; maxConcurrentActivities?: number }): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: { generateGitLists: createGenerateGitLists(options.deps) },
    // Each generation is a Go build and a script using every core: a few at once are plenty.
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 2,
  });
}

export async function createWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  maxConcurrentActivities: number;
  /** On SIGTERM, how long in-flight scans may finish before they are cancelled and handed back. */
  shutdownGraceSeconds?: number;
  extra?: Partial<WorkerOptions>;
}): Promise<Worker> {
  preferSmallHeap();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities,
    shutdownGraceTime: `${options.shutdownGraceSeconds ?? 60} seconds`,
    ...workflowSource(),
    ...options.extra,
  });
}
