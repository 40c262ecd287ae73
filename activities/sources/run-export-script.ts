/** Generates a release's image lists by running Rancher's own export script in a cached shallow checkout of a git ref. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitSource } from '../../core/run.js';
import { readSource } from '../lists/read-source.js';

export const EXPORT_SCRIPT = 'scripts/create-components-images-files.sh';
export const KDM_URL = (branch: string) => `https://releases.rancher.com/kontainer-driver-metadata/${branch}/data.json`;
const LIST_FILES = ['rancher-images.txt', 'rancher-images-sources.txt', 'rancher-windows-images.txt', 'rancher-images-origins.txt', 'rancher-windows-images-origins.txt'];

/** A head could not be generated; the message names the repository, the ref and the step. */
export class GitListsError extends Error {
  override name = 'GitListsError';
}

export interface GeneratedLists {
  commit: string;
  /** Whether the script ran (false: the previous lists were reused). */
  ran: boolean;
  images: string;
  sources?: string;
  windowsImages?: string;
}

interface Options {
  release: string;
  git: GitSource;
  cacheDir: string;
  heartbeat?: (step: string) => void;
  /** Kills the script after this long (default 60 minutes). */
  timeoutMs?: number;
  /** The environment tools are looked up in (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Aborts (kills) whatever runs: the activity's cancellation. */
  signal?: AbortSignal;
}

interface Ran {
  code: number | null;
  output: string;
}

function runProcess(command: string, args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv; timeoutMs?: number; heartbeat?: () => void; signal?: AbortSignal }): Promise<Ran> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-64_000);
      opts.heartbeat?.();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // A Go build prints nothing for minutes: beat on a clock too, so the activity's heartbeat timeout holds.
    const beat = opts.heartbeat ? setInterval(opts.heartbeat, 10_000) : undefined;
    // The whole process group: bash, go and the exporter it runs.
    const kill = (why: string) => {
      output += `\n(${why})`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = opts.timeoutMs ? setTimeout(() => kill(`killed after ${Math.round(opts.timeoutMs! / 1000)} s`), opts.timeoutMs) : undefined;
    const onAbort = () => kill('cancelled');
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort);
    child.on('error', (error) => {
      output += `\n${error.message}`;
    });
    child.on('close', (code) => {
      opts.signal?.removeEventListener('abort', onAbort);
      clearInterval(beat);
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

/**
 * The last `n` lines as a terminal would show them: git's progress rewrites a line with `\r`
 * (the real v2.9.0 run's charts clone made one 3,000-character line of it), so only the text
 * after a line's last `\r` is kept, and a line is cut at 400 characters.
 */
export function lastLines(text: string, n = 15): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => line.replace(/\r+$/, '').split('\r').pop()!)
    .map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line))
    .slice(-n)
    .join('\n');
}

/** git's url.<base>.insteadOf through the environment, so every clone (the script's too) goes to the mirror. */
export function mirrorEnv(mirror: string | undefined): Record<string, string> {
  if (!mirror) return {};
  return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${mirror}.insteadOf`, GIT_CONFIG_VALUE_0: 'https://github.com/' };
}

/** The branch a shell default names: `NAME=${NAME:-"value"}` or `NAME=value`. */
function shellDefault(text: string, name: string): string | undefined {
  const m = new RegExp(`^\\s*(?:export\\s+)?${name}=(?:\\$\\{${name}:-)?["']?([^"'}\\s]+)`, 'm').exec(text);
  return m?.[1];
}

/** The go.mod's toolchain (`toolchain goX.Y.Z`, else `go X.Y[.Z]`). */
export function goToolchain(goMod: string): string | undefined {
  const toolchain = /^toolchain\s+(go\S+)/m.exec(goMod)?.[1];
  if (toolchain) return toolchain;
  const go = /^go\s+(\d+\.\d+(?:\.\d+)?)/m.exec(goMod)?.[1];
  if (!go) return undefined;
  return `go${go.split('.').length === 2 ? `${go}.0` : go}`;
}

/** The charts repositories the script clones: URL and branch of each `git clone --branch B URL` line. */
export function scriptClones(script: string, packageEnv: string): { url: string; branch: string }[] {
  const clones: { url: string; branch: string }[] = [];
  for (const m of script.matchAll(/git clone\b[^\n]*?--branch[= ](\S+)\s+(\S+)/g)) {
    let branch = m[1]!;
    const variable = /^\$\{?(\w+)\}?$/.exec(branch)?.[1];
    if (variable) {
      const value = shellDefault(packageEnv, variable);
      if (!value) continue;
      branch = value;
    }
    clones.push({ url: m[2]!.replace(/\.git$/, ''), branch });
  }
  return clones;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Checks out the ref, decides whether the previous lists still stand, and runs the script when they do not. */
export async function runExportScript(options: Options): Promise<GeneratedLists> {
  const { git, release } = options;
  const where = `${git.repository} at ${git.ref}`;
  const fail = (step: string, detail: string): never => {
    throw new GitListsError(`release ${release}: ${where}: ${step}: ${detail}`);
  };
  const baseEnv: NodeJS.ProcessEnv = { ...(options.env ?? process.env), ...mirrorEnv(git.mirror), GIT_TERMINAL_PROMPT: "0" };
  const slug = createHash('sha256').update(`${git.repository}\n${git.ref}`).digest('hex').slice(0, 16);
  const checkout = join(options.cacheDir, 'checkouts', slug);
  const listsDir = join(options.cacheDir, 'lists', release);
  const gitIn = (args: string[]) => runProcess('git', args, { cwd: checkout, env: baseEnv, heartbeat: () => options.heartbeat?.('git'), signal: options.signal });

  options.heartbeat?.('checkout');
  await mkdir(checkout, { recursive: true });
  if (!(await exists(join(checkout, '.git')))) {
    const init = await gitIn(['init', '--quiet']);
    if (init.code !== 0) fail('git init', lastLines(init.output));
  }
  const fetched = await gitIn(['fetch', '--quiet', '--depth', '1', '--no-tags', git.repository, git.ref]);
  if (fetched.code !== 0) {
    const unknown = /couldn't find remote ref|not our ref|invalid refspec/i.test(fetched.output);
    fail(unknown ? 'unknown ref' : 'git fetch', lastLines(fetched.output, 5));
  }
  const checkedOut = await gitIn(['checkout', '--quiet', '--force', '--detach', 'FETCH_HEAD']);
  if (checkedOut.code !== 0) fail('git checkout', lastLines(checkedOut.output, 5));
  await gitIn(['clean', '--quiet', '-ffdx']);
  const commit = (await gitIn(['rev-parse', 'HEAD'])).output.trim();
  // Rancher's scripts/version takes TAG from `git tag -l --contains HEAD` (a tag ref: the tag itself,
  // e.g. v2.9.0) and else from the short commit. The fetch brings no tags, so the checkout holds
  // exactly the fetched tag when the ref is one, and none left over from an earlier ref.
  const stale = (await gitIn(['tag', '--list'])).output.split('\n').filter((t) => t !== '');
  if (stale.length > 0) await gitIn(['tag', '--delete', ...stale]);
  const fetchedTag = fetchHeadTag(await readFile(join(checkout, '.git', 'FETCH_HEAD'), 'utf8').catch(() => ''));
  if (fetchedTag) {
    const tagged = await gitIn(['tag', fetchedTag, 'HEAD']);
    if (tagged.code !== 0) fail('git tag', lastLines(tagged.output, 3));
  }

  const read = (path: string) => readFile(join(checkout, path), 'utf8').catch(() => '');
  const script = await read(EXPORT_SCRIPT);
  if (!script) fail('export script', `${EXPORT_SCRIPT} is not in the checkout`);
  const packageEnv = await read('scripts/package-env');

  // The charts branches the script will clone: their heads go in the reuse key; a missing branch fails here.
  const chartHeads: string[] = [];
  for (const clone of scriptClones(script, packageEnv)) {
    options.heartbeat?.('charts');
    const remote = await runProcess('git', ['ls-remote', '--heads', clone.url, clone.branch], { env: baseEnv, heartbeat: () => options.heartbeat?.('charts'), signal: options.signal });
    const head = remote.output.split('\n').find((l) => l.endsWith(`refs/heads/${clone.branch}`));
    if (remote.code !== 0 || !head) fail('charts branch', `branch ${clone.branch} of ${clone.url} does not exist${remote.code !== 0 ? `: ${lastLines(remote.output, 3)}` : ''}`);
    chartHeads.push(`${clone.url} ${head!.split(/\s/)[0]}`);
  }

  // KDM: the configured URL or path, else Rancher's URL for the branch its Dockerfile names.
  let kdm = git.kdm;
  if (!kdm) {
    const dockerfile = (await read('Dockerfile')) + (await read('package/Dockerfile'));
    const branch = /CATTLE_KDM_BRANCH[= ]+["']?([^"'\s]+)/.exec(dockerfile)?.[1];
    if (!branch) fail('KDM', 'no CATTLE_KDM_BRANCH in Dockerfile; give git.kdm');
    kdm = KDM_URL(branch!);
  }
  options.heartbeat?.('kdm');
  let kdmData = '';
  try {
    kdmData = await readSource(kdm);
  } catch (error) {
    fail('KDM', `${kdm} could not be read: ${(error as Error).message}${(error as Error).cause ? ` (${String((error as { cause?: { message?: string } }).cause?.message ?? '')})` : ''}`);
  }
  const key = createHash('sha256').update([commit, ...chartHeads, createHash('sha256').update(kdmData).digest('hex')].join('\n')).digest('hex');

  const previous = await readFile(join(listsDir, 'generated.json'), 'utf8').then((t) => JSON.parse(t) as { key: string; commit: string }, () => undefined);
  if (previous?.key === key && (await exists(join(listsDir, LIST_FILES[0]!)))) return listsIn(listsDir, commit, false);

  // Tools the script needs.
  for (const [tool, args, check] of [
    ['jq', ['--version'], (o: string) => o.includes('jq')],
    ['yq', ['--version'], (o: string) => o.includes('mikefarah') || /version v4/.test(o)],
    ['go', ['version'], (o: string) => o.includes('go version')],
  ] as const) {
    const probe = await runProcess(tool, [...args], { env: { ...baseEnv, GOTOOLCHAIN: 'local' } });
    if (probe.code !== 0 || !check(probe.output)) fail('tools', `${tool} is missing or is not the expected program (${tool === 'yq' ? "mikefarah's yq v4" : tool}): ${lastLines(probe.output, 2) || 'not found on PATH'}`);
  }
  const toolchain = goToolchain(await read('go.mod'));

  await mkdir(join(checkout, 'bin'), { recursive: true });
  await writeFile(join(checkout, 'bin', 'data.json'), kdmData);
  options.heartbeat?.('script');
  // TAG and GIT_TAG are left to scripts/version (a worker's own TAG must not rename Rancher's images).
  const { TAG: _tag, GIT_TAG: _gitTag, ...scriptEnv } = baseEnv;
  const ran = await runProcess('bash', [EXPORT_SCRIPT], {
    cwd: checkout,
    env: { ...scriptEnv, ...(toolchain ? { GOTOOLCHAIN: toolchain } : {}), ARCH: 'amd64' },
    timeoutMs: options.timeoutMs ?? 60 * 60_000,
    heartbeat: () => options.heartbeat?.('script'),
    signal: options.signal,
  });
  if (ran.code !== 0) {
    const url = /https?:\/\/[^\s"'`]+/.exec(lastLines(ran.output, 15))?.[0];
    fail('export script failed', `${EXPORT_SCRIPT} exited with ${ran.code}${url ? ` at ${url}` : ''}; last lines:\n${lastLines(ran.output)}`);
  }
  const found = await firstExisting([join(checkout, 'bin'), checkout, join(checkout, 'dist')], LIST_FILES[0]!);
  if (!found) fail('export script', `the script did not write ${LIST_FILES[0]}; last lines:\n${lastLines(ran.output)}`);

  // Swap the new lists in only now: a failure above leaves the previous ones as they were.
  const staging = `${listsDir}.new`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  for (const name of LIST_FILES) if (await exists(join(found!, name))) await copyFile(join(found!, name), join(staging, name));
  await writeFile(join(staging, 'generated.json'), JSON.stringify({ key, commit, ref: git.ref, repository: git.repository }));
  await rm(listsDir, { recursive: true, force: true });
  await rename(staging, listsDir);
  return listsIn(listsDir, commit, true);
}

/** The tag name when FETCH_HEAD's line says the fetched ref was a tag (`<sha>\t\ttag 'v2.9.0' of <url>`). */
export function fetchHeadTag(fetchHead: string): string | undefined {
  return /^\S+\t[^\t]*\ttag '([^']+)' of /m.exec(fetchHead)?.[1];
}

async function firstExisting(dirs: string[], name: string): Promise<string | undefined> {
  for (const dir of dirs) if (await exists(join(dir, name))) return dir;
  return undefined;
}

async function listsIn(dir: string, commit: string, ran: boolean): Promise<GeneratedLists> {
  const path = async (name: string) => ((await exists(join(dir, name))) ? join(dir, name) : undefined);
  return { commit, ran, images: join(dir, LIST_FILES[0]!), sources: await path('rancher-images-sources.txt'), windowsImages: await path('rancher-windows-images.txt') };
}
