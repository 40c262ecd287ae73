import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isExecutable, onPath } from '../host/executables.js';
import { paths } from '../host/paths.js';

/** The one version `go install` can build: later tags carry a `replace` directive. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export class TemporalCliUnavailableError extends Error {
  override name = 'TemporalCliUnavailableError';
}

/**
 * Finds the Temporal CLI: `TEMPORAL_CLI`, then `temporal` on PATH, then the
 * project's own build in `.tools/bin`, building it with Go when `install` is set.
 */
export async function findTemporalCli(options: { install: boolean; log?: (line: string) => void }): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return fromEnv;
    throw new TemporalCliUnavailableError(`TEMPORAL_CLI is set to ${fromEnv}, which is not an executable file`);
  }
  const found = await onPath('temporal');
  if (found) return found;
  const built = join(paths.tools, 'temporal');
  if (await isExecutable(built)) return built;
  if (!options.install) throw new TemporalCliUnavailableError('the Temporal CLI is not installed; run `npm run temporal-cli` or set TEMPORAL_CLI');

  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new TemporalCliUnavailableError(
      'the Temporal CLI is not installed and Go is not available to build it: install Go 1.25 or newer (https://go.dev/doc/install), ' +
        'or install the Temporal CLI yourself and set TEMPORAL_CLI to its path',
    );
  }
  options.log?.(`building the Temporal CLI (${TEMPORAL_CLI_MODULE}) into ${paths.tools}; this takes a few minutes once`);
  try {
    await promisify(execFile)('go', ['install', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: paths.tools, CGO_ENABLED: process.env.CGO_ENABLED ?? '0' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new TemporalCliUnavailableError(
      `building the Temporal CLI with \`go install ${TEMPORAL_CLI_MODULE}\` failed (it needs Go 1.25 or newer and access to the Go module proxy):\n${stderr.trim()}`,
    );
  }
  if (!(await isExecutable(built))) throw new TemporalCliUnavailableError(`go install finished but ${built} is missing`);
  return built;
}
