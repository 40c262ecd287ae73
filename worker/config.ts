import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SEVERITIES } from '../core/finding.js';
import { checkOpenVexDocument, InvalidVexSourceError, parseVexSourceEntry, type VexSource } from '../core/vex-source.js';
import type { ScanReleasesInput } from '../core/run.js';

/** A configuration problem: reported with the field's name, exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function formatIssues(where: string, error: z.ZodError): string {
  return error.issues.map((issue) => `${where}: ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
}

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('image-scanning'),
  TEMPORAL_UI_URL: z.string().url().optional(),
  IMAGE_SCANNING_DATA_DIR: z.string().min(1).default('data'),
  /** postgres://user:password@host:port/db: the result store workers on any host share; unset, the folder IMAGE_SCANNING_DATA_DIR. */
  IMAGE_SCANNING_STORE: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be postgres://user:password@host:port/database (or unset for the folder IMAGE_SCANNING_DATA_DIR)').optional(),
  /** Runs older than this many days are removed from the result store when a run starts. */
  IMAGE_SCANNING_RETENTION_DAYS: positiveInt(90),
  IMAGE_SCANNING_REPORTS_DIR: z.string().min(1).default('reports'),
  /** A path or a name on PATH; `run` and `worker` find or build Trivy (client/trivy-cli.ts) from it. */
  TRIVY_BIN: z.string().min(1).default('trivy'),
  TRIVY_CACHE_DIR: z.string().min(1).default('.data/trivy-cache'),
  /**
   * The layer cache every scan shares: redis://[:password@]host:port, or `memory` for none.
   * Unset: `run` and `worker` start the embedded one (cache/embedded-redis.ts).
   */
  TRIVY_CACHE_BACKEND: z
    .string()
    .refine((v) => v === 'memory' || /^redis:\/\/[^\s]+$/.test(v), {
      message: 'must be redis://[:password@]host:port (a Redis server the scans share) or memory (no layer cache); fs is refused: its file lock makes concurrent scans fail',
    })
    .optional(),
  /** A file holding the cache's password (a Docker secret), put into TRIVY_CACHE_BACKEND's URL. */
  TRIVY_CACHE_PASSWORD_FILE: z.string().min(1).optional(),
  TRIVY_TIMEOUT: positiveInt(600),
  TRIVY_SEVERITIES: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== ''))
    .refine((list) => list.every((s) => (SEVERITIES as readonly string[]).includes(s)), { message: `each severity must be one of ${SEVERITIES.join(', ')}` }),
  TRIVY_SERVER: z.string().url().optional(),
  /**
   * VEX sources passed to every scan, separated by commas or new lines: OpenVEX files, http(s)
   * URLs of OpenVEX documents (fetched once per run), and `repo` (Trivy's VEX repositories).
   */
  IMAGE_SCANNING_VEX: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const sources: VexSource[] = [];
      for (const entry of value.split(/[,\n]/).filter((e) => e.trim() !== '')) {
        try {
          sources.push(parseVexSourceEntry(entry));
        } catch (error) {
          if (!(error instanceof InvalidVexSourceError)) throw error;
          ctx.addIssue({ code: 'custom', message: `entry ${JSON.stringify(entry.trim())}: ${error.message}` });
        }
      }
      return sources;
    }),
  TRIVY_RATE_LIMIT_BACKOFF: positiveInt(300),
  TRIVY_HEARTBEAT_SECONDS: positiveInt(5),
  /**
   * Re-matching: each tag's digest from a free HEAD (crane), and an unchanged image matched from its
   * stored, verified SBOM with no pull. `false` makes every scan a full scan, as before.
   */
  IMAGE_SCANNING_REMATCH: z.enum(['true', 'false'], { message: 'must be true or false' }).default('true').transform((v) => v === 'true'),
  /** Pull and scan every image in full (and make its SBOM again), e.g. after changing analyzers; `run --full` sets it for one run. */
  IMAGE_SCANNING_FULL_SCAN: z.enum(['true', 'false'], { message: 'must be true or false' }).default('false').transform((v) => v === 'true'),
  /** go-containerregistry's crane for the HEAD; `run` and `worker` find or build it (client/crane-cli.ts). */
  CRANE_BIN: z.string().min(1).optional(),
  /** Seconds a run waits on a registry's pull quota (429 toomanyrequests) before its still-waiting images fail as RegistryRateLimited. */
  IMAGE_SCANNING_RATE_LIMIT_DEADLINE: positiveInt(24 * 3600),
  GITHUB_REPOSITORY: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name').optional(),
  /** `org/team-slug` whose members may triage with `/cve` comments besides people with write access to GITHUB_REPOSITORY. */
  TRIAGE_TEAM: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be org/team-slug').optional(),
  GITHUB_API_URL: z.string().url().default('https://api.github.com'),
  GITHUB_TOKEN: z.string().min(1).optional(),
  GITHUB_TOKEN_FILE: z.string().min(1).optional(),
  GITHUB_WRITE_INTERVAL_MS: z.coerce.number().int().min(0).default(1000),
  GITHUB_CONTENT_WRITE_INTERVAL_MS: z.coerce.number().int().min(0).default(7200),
  REPORTS_GITHUB_REPOSITORY: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name').optional(),
  REPORTS_GITHUB_BRANCH: z.string().min(1).default('main'),
  REPORTS_GITHUB_PATH: z.string().default('docs/_data'),
  /** Also publish the site, in one commit per run, to this repository (owner/name). */
  SITE_GITHUB_REPOSITORY: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name').optional(),
  SITE_GITHUB_BRANCH: z.string().min(1).default('gh-pages'),
  /** Folder on the branch; '' is its root. */
  SITE_GITHUB_PATH: z.string().default(''),
  /** The published site's address (e.g. the GitHub Pages URL): issues link an image's page where they cut notes short. */
  SITE_URL: z.string().url().optional(),
  /**
   * Task queue of the git sources' activity (generateGitLists: a Go build and Rancher's export
   * script), polled by a worker that has Go, jq and yq (`worker --git-lists`); unset, the run's queue.
   */
  IMAGE_SCANNING_GIT_TASK_QUEUE: z.string().min(1).optional(),
  /** Where git sources keep their checkouts and generated lists between runs (default ~/.cache/image-scanning/git). */
  IMAGE_SCANNING_GIT_CACHE_DIR: z.string().min(1).optional(),
  MAX_CONCURRENT_ACTIVITIES: positiveInt(16),
  /** host:port of the worker's Prometheus endpoint (/metrics): the SDK's metrics and the product's counters. Off when unset. */
  IMAGE_SCANNING_METRICS_ADDRESS: z.string().regex(/^[\w.:[\]-]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:9464').optional(),
  WORKER_SHUTDOWN_GRACE_SECONDS: positiveInt(60),
  LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});

export type EnvConfig = z.infer<typeof EnvSchema>;

/** Every environment variable the worker reads (besides Temporal's own connection settings). */
export const ENV_VARIABLES = Object.keys(EnvSchema.shape) as (keyof EnvConfig)[];

/**
 * The GitHub token from GITHUB_TOKEN or the file GITHUB_TOKEN_FILE names (a Docker secret).
 * A file others can read is refused: the token would be one `cat` away for every user.
 */
export function readGitHubToken(config: EnvConfig): string | undefined {
  if (config.GITHUB_TOKEN) return config.GITHUB_TOKEN;
  if (!config.GITHUB_TOKEN_FILE) return undefined;
  return readSecretFile('GITHUB_TOKEN_FILE', config.GITHUB_TOKEN_FILE);
}

/** A secret from a file that only its owner may read (a Docker secret), named by `variable` in errors. */
function readSecretFile(variable: string, file: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    throw new ConfigError(`${variable}: ${file} cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
  if (mode & 0o004) throw new ConfigError(`${variable}: ${file} is readable by every user; chmod o-r it`);
  const secret = readFileSync(file, 'utf8').trim();
  return secret === '' ? undefined : secret;
}

/**
 * The configured layer cache with its password, or undefined when none is configured (then the
 * embedded one is used). The password comes from the URL or from TRIVY_CACHE_PASSWORD_FILE.
 */
export function configuredCacheBackend(config: EnvConfig): string | undefined {
  const backend = config.TRIVY_CACHE_BACKEND;
  if (!config.TRIVY_CACHE_PASSWORD_FILE) return backend;
  if (!backend?.startsWith('redis://')) throw new ConfigError('TRIVY_CACHE_PASSWORD_FILE needs TRIVY_CACHE_BACKEND=redis://host:port');
  const url = new URL(backend);
  if (url.password) throw new ConfigError('TRIVY_CACHE_BACKEND carries a password and TRIVY_CACHE_PASSWORD_FILE gives another: keep one');
  const password = readSecretFile('TRIVY_CACHE_PASSWORD_FILE', config.TRIVY_CACHE_PASSWORD_FILE);
  if (password) url.password = encodeURIComponent(password);
  return url.toString().replace(/\/$/, '');
}

/**
 * The configured VEX sources with their files resolved and checked: a file that is missing or is
 * not OpenVEX is refused here, by name, before any scan (Trivy would fail every scan with it).
 */
export function checkVexSources(sources: VexSource[], cwd = process.cwd()): VexSource[] {
  return sources.map((source) => {
    if (source.kind !== 'file') return source;
    const path = resolve(cwd, source.name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`IMAGE_SCANNING_VEX: ${source.name} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    try {
      checkOpenVexDocument(text, source.name);
    } catch (error) {
      if (error instanceof InvalidVexSourceError) throw new ConfigError(`IMAGE_SCANNING_VEX: ${error.message}`);
      throw error;
    }
    return { ...source, path };
  });
}

/** Reads and validates the environment; an empty string counts as unset. */
export function loadEnvConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const parsed = EnvSchema.safeParse(relevant);
  if (!parsed.success) throw new ConfigError(formatIssues('environment', parsed.error));
  return parsed.data;
}

const ReleaseSchema = z.strictObject({
  name: z.string().regex(/^[\w.+-]+$/, 'letters, digits, ".", "_", "+" and "-" only'),
  images: z.string().min(1).optional(),
  sources: z.string().min(1).optional(),
  windowsImages: z.string().min(1).optional(),
  repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name').optional(),
  tag: z.string().min(1).optional(),
  git: z
    .strictObject({
      repository: z.string().min(1),
      ref: z.string().min(1),
      kdm: z.string().min(1).optional(),
      mirror: z.string().min(1).optional(),
    })
    .optional(),
  issues: z.boolean().optional(),
});

const FileSchema = z.strictObject({
  releases: z.array(ReleaseSchema).min(1),
  mirrorList: z.string().min(1).optional(),
  issueRepository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name').optional(),
  maxConcurrentScans: z.number().int().min(1).max(500).optional(),
  schedule: z
    .strictObject({
      id: z.string().min(1).default('image-scanning-weekly'),
      /** `day`: every day at `hour` (re-matching makes a run cheap); `week` (default): on `dayOfWeek`. */
      every: z.enum(['week', 'day'], { message: 'must be "week" or "day"' }).default('week'),
      dayOfWeek: z.enum(['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY']).default('MONDAY'),
      hour: z.number().int().min(0).max(23).default(3),
      catchupWindow: z.string().min(1).default('1 day'),
    })
    .optional(),
});

export type FileConfig = z.infer<typeof FileSchema>;

/** Reads a JSON config file; paths of release lists are resolved against the file's folder. */
export async function loadFileConfig(path: string): Promise<FileConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`config file ${path} cannot be read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(path, parsed.error));
  const base = resolve(path, '..');
  const local = (p: string | undefined) => (p === undefined || /^https?:\/\//i.test(p) ? p : resolve(base, p));
  return {
    ...parsed.data,
    mirrorList: local(parsed.data.mirrorList),
    releases: parsed.data.releases.map((r) => ({
      ...r,
      images: local(r.images),
      sources: local(r.sources),
      windowsImages: local(r.windowsImages),
      ...(r.git ? { git: { ...r.git, kdm: local(r.git.kdm) } } : {}),
    })),
  };
}

export interface ReleaseFlags {
  release?: string;
  images?: string;
  sources?: string;
  windowsImages?: string;
  mirrorList?: string;
  repository?: string;
  config?: string;
}

/** The run's input from either command-line flags (one release) or a config file (several). */
export async function runInputFrom(flags: ReleaseFlags, extra: Partial<ScanReleasesInput> = {}, defaults: { release?: string } = {}): Promise<ScanReleasesInput> {
  const local = (p: string | undefined) => (p === undefined || /^https?:\/\//i.test(p) ? p : resolve(p));
  if (!flags.config) {
    const name = flags.release ?? defaults.release;
    if (!name) throw new ConfigError('give --release NAME [--images FILE], or --config FILE');
    const release = ReleaseSchema.safeParse({
      name,
      images: local(flags.images),
      sources: local(flags.sources),
      windowsImages: local(flags.windowsImages),
      repository: flags.repository,
    });
    if (!release.success) throw new ConfigError(formatIssues('--release', release.error));
    return { releases: [release.data], mirrorList: local(flags.mirrorList), ...gitQueue(), ...extra };
  }
  const file = await loadFileConfig(flags.config);
  let releases = file.releases;
  if (flags.release) {
    releases = releases.filter((r) => r.name === flags.release);
    if (releases.length === 0) throw new ConfigError(`release ${flags.release} is not in ${flags.config}`);
  }
  return { releases, mirrorList: local(flags.mirrorList) ?? file.mirrorList, issueRepository: file.issueRepository, maxConcurrentScans: file.maxConcurrentScans, ...gitQueue(), ...extra };
}

/** The git sources' own task queue (IMAGE_SCANNING_GIT_TASK_QUEUE), carried in the run's input so the workflow can route to it. */
function gitQueue(): Pick<ScanReleasesInput, 'gitTaskQueue'> {
  const queue = loadEnvConfig().IMAGE_SCANNING_GIT_TASK_QUEUE;
  return queue ? { gitTaskQueue: queue } : {};
}
