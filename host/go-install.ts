import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isExecutable, onPath } from './executables.js';

export class GoBinaryUnavailableError extends Error {
  override name = 'GoBinaryUnavailableError';
}

export interface GoBinary {
  /** What it is, for messages: "the Temporal server". */
  what: string;
  /** `module/path@version`, built with `go install`. */
  module: string;
  /** Folder of its own under .tools: several of these binaries share a name (`server`). */
  dir: string;
  /** The name `go install` gives the binary. */
  bin: string;
  /** An environment variable naming an existing executable instead. */
  envVar: string;
  /** The Go the module's go.mod asks for. */
  go: string;
  /** The project's command that builds it, named when it is missing. */
  buildCommand: string;
  /** A name to look up on PATH after the environment variable (an installed `temporal`). */
  onPath?: string;
}

export function builtPath(binary: GoBinary): string {
  return join(binary.dir, binary.bin);
}

/**
 * Finds one of the Go-built binaries: its environment variable, then PATH (when it has a name
 * there), then the project's build, else
 * (with `install`) `go install` into its own folder. Go's build cache makes a rebuild after the
 * folder is wiped take seconds; a cold build several minutes.
 */
export async function findGoBinary(binary: GoBinary, options: { install: boolean; log?: (line: string) => void }): Promise<string> {
  const fromEnv = process.env[binary.envVar];
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return fromEnv;
    throw new GoBinaryUnavailableError(`${binary.envVar} is set to ${fromEnv}, which is not an executable file`);
  }
  const installed = binary.onPath ? await onPath(binary.onPath) : undefined;
  if (installed) return installed;
  const built = builtPath(binary);
  if (await isExecutable(built)) return built;
  const hint = `or build it yourself (\`go install ${binary.module}\`) and set ${binary.envVar}`;
  if (!options.install) throw new GoBinaryUnavailableError(`${binary.what} is not built: run \`${binary.buildCommand}\`, ${hint}`);
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) throw new GoBinaryUnavailableError(`${binary.what} is not built and Go is not available: install Go ${binary.go} or newer, ${hint}`);
  options.log?.(`building ${binary.what} (${binary.module}) into ${binary.dir}; several minutes the first time`);
  try {
    await promisify(execFile)('go', ['install', binary.module], { env: { ...process.env, GOBIN: binary.dir, CGO_ENABLED: process.env.CGO_ENABLED ?? '0' }, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new GoBinaryUnavailableError(`\`go install ${binary.module}\` failed (it needs Go ${binary.go} or newer and the Go module proxy):\n${stderr.trim()}`);
  }
  if (!(await isExecutable(built))) throw new GoBinaryUnavailableError(`go install finished but ${built} is missing`);
  return built;
}
