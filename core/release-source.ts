/** Where a release's lists came from when they were generated at a git ref, and how people see it ("v2.13-head at 1a2b3c4"). */

/** The repository, ref and commit a git source's lists were generated from. */
export interface ReleaseSource {
  repository: string;
  ref: string;
  commit: string;
}

/** The short commit people recognise (as `git rev-parse --short` prints it in a small repository). */
export const shortCommit = (commit: string): string => commit.slice(0, 7);

/** "v2.13-head at 1a2b3c4" for a generated release, the name alone otherwise. Raw text: each renderer escapes it. */
export function describeReleaseSource(release: string, source: ReleaseSource | undefined): string {
  return source ? `${release} at ${shortCommit(source.commit)}` : release;
}
