import { findGoBinary, GoBinaryUnavailableError, type GoBinary } from '../host/go-install.js';
import { paths } from '../host/paths.js';

/** The one version `go install` can build: later tags carry a `replace` directive. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export { GoBinaryUnavailableError as TemporalCliUnavailableError };

const TEMPORAL_CLI: GoBinary = {
  what: 'the Temporal CLI',
  module: TEMPORAL_CLI_MODULE,
  dir: paths.tools,
  bin: 'temporal',
  envVar: 'TEMPORAL_CLI',
  onPath: 'temporal',
  go: '1.25',
  buildCommand: 'npm run temporal-cli',
};

/**
 * Finds the Temporal CLI: `TEMPORAL_CLI`, then `temporal` on PATH, then the
 * project's own build in `.tools/bin`, building it with Go when `install` is set.
 */
export function findTemporalCli(options: { install: boolean; log?: (line: string) => void }): Promise<string> {
  return findGoBinary(TEMPORAL_CLI, options);
}
