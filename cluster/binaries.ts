import { join } from 'node:path';
import { findGoBinary, type GoBinary } from '../host/go-install.js';
import { paths } from '../host/paths.js';

/**
 * The parts of the cluster that build from the Go module proxy. 1.29.1 is the server the
 * dev server embeds and the image compose runs; the UI server's later tags need a newer Go.
 */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
export const UI_SERVER_VERSION = '2.55.0';

const root = join(paths.toolsRoot, 'cluster');

export const CLUSTER_BINARIES = {
  server: {
    what: 'the Temporal server',
    module: `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
    dir: join(root, `temporal-server-${TEMPORAL_SERVER_VERSION}`),
    bin: 'server',
    envVar: 'TEMPORAL_SERVER_BIN',
    go: '1.24',
    buildCommand: 'npm run cluster-binaries',
  },
  sqlTool: {
    what: 'the Temporal SQL tool',
    module: `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
    dir: join(root, `temporal-sql-tool-${TEMPORAL_SERVER_VERSION}`),
    bin: 'sql',
    envVar: 'TEMPORAL_SQL_TOOL',
    go: '1.24',
    buildCommand: 'npm run cluster-binaries',
  },
  uiServer: {
    what: 'the Temporal UI server',
    module: `github.com/temporalio/ui-server/v2/cmd/server@v${UI_SERVER_VERSION}`,
    dir: join(root, `ui-server-${UI_SERVER_VERSION}`),
    bin: 'server',
    envVar: 'TEMPORAL_UI_SERVER_BIN',
    go: '1.24',
    buildCommand: 'npm run cluster-binaries',
  },
} satisfies Record<string, GoBinary>;

export type ClusterBinaries = Record<keyof typeof CLUSTER_BINARIES, string>;

/** All three, built one after another (two cores: parallel builds only trade places). */
export async function findClusterBinaries(options: { install: boolean; log?: (line: string) => void }): Promise<ClusterBinaries> {
  return {
    server: await findGoBinary(CLUSTER_BINARIES.server, options),
    sqlTool: await findGoBinary(CLUSTER_BINARIES.sqlTool, options),
    uiServer: await findGoBinary(CLUSTER_BINARIES.uiServer, options),
  };
}
