/** Finds or builds go-containerregistry's `crane`, whose `digest` is the scans' change check (a HEAD of the tag's manifest). */
import { fileURLToPath } from 'node:url';
import { findGoBinary, type GoBinary } from '../host/go-install.js';
import { paths } from '../host/paths.js';

/**
 * Pinned: the version Trivy v0.74.0 itself builds with, so both read Docker's config and credential
 * helpers, and treat loopback registries as plain HTTP, the same way. Its `digest` makes a HEAD and,
 * only when that fails, a GET (pkg/crane/digest.go): registry/resolve-digest.ts refuses that answer.
 */
export const CRANE: GoBinary = {
  what: 'crane (go-containerregistry)',
  module: 'github.com/google/go-containerregistry/cmd/crane@v0.21.9',
  dir: paths.tools,
  bin: 'crane',
  envVar: 'CRANE_BIN',
  go: '1.25',
  buildCommand: 'npm run crane-cli',
};

export function findCrane(options: { install: boolean; log?: (line: string) => void }): Promise<string> {
  return findGoBinary(CRANE, options);
}

// `node lib/client/crane-cli.js` (npm run crane-cli): find or build crane and print its path.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  findCrane({ install: true, log: (line) => console.error(line) }).then(
    (bin) => console.log(bin),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
