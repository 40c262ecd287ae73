/** The change check: a tag's digest from one HEAD of its manifest (`crane digest`), with the credentials and registry rules Trivy uses. */
import { execFile, type ExecFileException } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryOf } from '../../core/rematch.js';

/** Docker Hub's `ratelimit-remaining` / `ratelimit-limit` headers as the registry sent them on the HEAD (`7;w=21600`). */
export interface RateLimitFigures {
  remaining?: string;
  limit?: string;
}

/** How crane is run: by default from this process; the scan passes its process launcher (no start copies the worker's memory). */
export type RunCrane = (file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) => Promise<CraneRun>;

export interface CraneRun {
  stdout: string;
  stderr: string;
  /** Non-zero, or null when killed. */
  exitCode: number | null;
  notFound?: boolean;
  timedOut?: boolean;
}

/** RunCrane from this process (child_process.execFile). */
export const execCrane: RunCrane = (file, args, env, timeoutMs) =>
  new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, encoding: 'utf8' }, (err: ExecFileException | null, stdout, stderr) =>
      resolve({ stdout, stderr, exitCode: err ? (typeof err.code === 'number' ? err.code : null) : 0, notFound: err?.code === 'ENOENT', timedOut: Boolean(err?.killed) }),
    );
  });

export type DigestCheck = ({ digest: string } | { unavailable: string }) & { rateLimit?: RateLimitFigures };

/**
 * crane's `digest` falls back to a GET of the manifest when the HEAD fails (pkg/crane/digest.go at
 * v0.21.9), and a GET is a counted pull. Its warning says so on stderr: such an answer is not used,
 * the image takes a full scan, as for a registry that cannot be asked with HEAD.
 */
const FELL_BACK_TO_GET = 'HEAD request failed, falling back on GET';
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The key Docker's config (and go-containerregistry's keychain) uses for a registry. */
function dockerConfigKey(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'https://index.docker.io/v1/' : registry;
}

/**
 * Resolves `image`'s digest with `crane digest`, never failing: whatever goes wrong (unreachable,
 * no HEAD, no digest, refused) comes back as `unavailable` with crane's words, and the image then
 * takes today's path (a full scan) whose own error, if any, is the one reported.
 *
 * Credentials: Docker's config and credential helpers (crane reads them like Trivy does), unless
 * TRIVY_USERNAME/TRIVY_PASSWORD are set, which win as they do in Trivy: they are given to crane
 * as a Docker config of their own for the image's registry (first pair when several are listed).
 * Loopback registries are spoken to over plain HTTP by both (go-containerregistry's rule); TRIVY_INSECURE
 * adds `--insecure`.
 */
export async function resolveDigest(crane: string, image: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; run?: RunCrane } = {}): Promise<DigestCheck> {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  // --verbose: the HEAD's response headers are logged, and with them the registry's ratelimit-* figures,
  // shown while images wait on its quota. Only those headers and crane's own error are read from it.
  const args = ['digest', '--verbose', image];
  if (/^(1|true)$/i.test(env.TRIVY_INSECURE ?? '')) args.push('--insecure');
  let configDir: string | undefined;
  try {
    const username = env.TRIVY_USERNAME?.split(',')[0];
    const password = env.TRIVY_PASSWORD?.split(',')[0];
    if (username && password !== undefined) {
      configDir = await mkdtemp(join(tmpdir(), 'image-scanning-crane-'));
      const auth = Buffer.from(`${username}:${password}`).toString('base64');
      await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { [dockerConfigKey(registryOf(image))]: { auth } } }), { mode: 0o600 });
      env.DOCKER_CONFIG = configDir;
    }
    const { stdout, stderr, exitCode, notFound, timedOut } = await (options.run ?? execCrane)(crane, args, env, options.timeoutMs ?? 30_000);
    const rateLimit = rateLimitOf(stderr);
    const found = (check: DigestCheck): DigestCheck => (rateLimit ? { ...check, rateLimit } : check);
    if (notFound) return { unavailable: `crane executable "${crane}" was not found` };
    if (timedOut) return { unavailable: `crane digest ${image} did not answer within ${(options.timeoutMs ?? 30_000) / 1000}s` };
    if (stderr.includes(FELL_BACK_TO_GET)) return found({ unavailable: `the registry did not answer the HEAD of ${image}: ${craneMessage(stderr, FELL_BACK_TO_GET)}` });
    if (exitCode !== 0) return found({ unavailable: `crane digest ${image} failed: ${craneMessage(stderr, 'Error:') || `exit code ${exitCode}`}` });
    const digest = stdout.trim();
    if (!DIGEST.test(digest)) return found({ unavailable: `crane digest ${image} printed no sha256 digest (${JSON.stringify(digest.slice(0, 80))})` });
    return found({ digest });
  } finally {
    if (configDir) await rm(configDir, { recursive: true, force: true });
  }
}

/** crane's own words among its verbose log: the line holding `marker`, without the log's timestamp. */
function craneMessage(stderr: string, marker: string): string {
  const line = stderr.split('\n').find((l) => l.includes(marker)) ?? '';
  return line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '').trim();
}

/** The last ratelimit-* headers among the logged responses (the manifest HEAD's), when the registry sent them. */
export function rateLimitOf(stderr: string): RateLimitFigures | undefined {
  const last = (name: string) => [...stderr.matchAll(new RegExp(`^${name}:[ \\t]*([^\\r\\n]{1,40})`, 'gim'))].at(-1)?.[1]?.trim();
  const remaining = last('ratelimit-remaining');
  const limit = last('ratelimit-limit');
  if (remaining === undefined && limit === undefined) return undefined;
  return { ...(remaining !== undefined ? { remaining } : {}), ...(limit !== undefined ? { limit } : {}) };
}
