import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isExecutable, onPath } from '../host/executables.js';
import { paths } from '../host/paths.js';

/**
 * The Trivy release the project builds when none is installed. Releases v0.56.0
 * to v0.74.0 build with `go install` (no `replace` directive); v0.67.0 and later
 * also need GOEXPERIMENT=jsonv2 and Go >= 1.26.3, which `goEnvironment` adds.
 */
export const TRIVY_VERSION = '0.74.0';
export const TRIVY_MODULE = `github.com/aquasecurity/trivy/cmd/trivy@v${TRIVY_VERSION}`;
/** Release builds stamp the version (`trivy --version` says "dev" otherwise) and strip debug info. */
const LDFLAGS = `-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${TRIVY_VERSION}`;

export class TrivyCliUnavailableError extends Error {
  override name = 'TrivyCliUnavailableError';
}

/** The version a Trivy executable reports (`Version: 0.66.0`), or undefined when it does not run. */
export function trivyVersion(bin: string): string | undefined {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (run.error || run.status !== 0) return undefined;
  return /^Version:\s*v?(\S+)/m.exec(run.stdout)?.[1];
}

function minorOf(version: string): number {
  return Number(version.split('.')[1] ?? 0);
}

function goEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GOBIN: paths.tools, CGO_ENABLED: process.env.CGO_ENABLED ?? '0' };
  if (minorOf(TRIVY_VERSION) >= 67) env.GOEXPERIMENT = [process.env.GOEXPERIMENT, 'jsonv2'].filter(Boolean).join(',');
  return env;
}

/** Where the project's own build lives. */
export const BUILT_TRIVY = join(paths.tools, 'trivy');

/**
 * Finds the Trivy CLI: `TRIVY_BIN` (a path, or a name looked up on PATH), then
 * `trivy` on PATH, then the project's own build in `.tools/bin` (rebuilt when it
 * is not TRIVY_VERSION), building it with Go when `install` is set. Go's build
 * cache makes a rebuild after `.tools` is wiped take seconds, not minutes.
 */
export async function findTrivy(options: { install: boolean; log?: (line: string) => void }): Promise<string> {
  const fromEnv = process.env.TRIVY_BIN;
  if (fromEnv) {
    if (fromEnv.includes('/')) {
      if (await isExecutable(fromEnv)) return fromEnv;
      throw new TrivyCliUnavailableError(`TRIVY_BIN is set to ${fromEnv}, which is not an executable file`);
    }
    const found = await onPath(fromEnv);
    if (found) return found;
    if (fromEnv !== 'trivy') throw new TrivyCliUnavailableError(`TRIVY_BIN is set to ${fromEnv}, which is not on PATH`);
  }
  const found = await onPath('trivy');
  if (found) return found;
  if ((await isExecutable(BUILT_TRIVY)) && trivyVersion(BUILT_TRIVY) === TRIVY_VERSION) return BUILT_TRIVY;
  if (!options.install) throw new TrivyCliUnavailableError('the Trivy CLI is not installed; run `npm run trivy-cli` or set TRIVY_BIN');

  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new TrivyCliUnavailableError(
      'the Trivy CLI is not installed and Go is not available to build it: install Go 1.26.3 or newer (https://go.dev/doc/install), ' +
        'or install Trivy yourself (https://trivy.dev) and set TRIVY_BIN to its path',
    );
  }
  options.log?.(`building the Trivy CLI (${TRIVY_MODULE}) into ${paths.tools}; this takes several minutes once`);
  try {
    await promisify(execFile)('go', ['install', `-ldflags=${LDFLAGS}`, TRIVY_MODULE], { env: goEnvironment(), maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new TrivyCliUnavailableError(
      `building the Trivy CLI with \`go install -ldflags='${LDFLAGS}' ${TRIVY_MODULE}\` failed (it needs Go 1.26.3 or newer and access to the Go module proxy):\n${stderr.trim()}`,
    );
  }
  const version = trivyVersion(BUILT_TRIVY);
  if (version !== TRIVY_VERSION) throw new TrivyCliUnavailableError(`go install finished but ${BUILT_TRIVY} reports version ${version ?? '(none)'}, not ${TRIVY_VERSION}`);
  return BUILT_TRIVY;
}

// `node lib/client/trivy-cli.js` (npm run trivy-cli): find or build Trivy and print its path.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  findTrivy({ install: true, log: (line) => console.error(line) }).then(
    (bin) => {
      console.error(`Trivy ${trivyVersion(bin) ?? '(unknown version)'} at ${bin} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      console.log(bin);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
