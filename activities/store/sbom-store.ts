/** SBOMs in the result store (folder or PostgreSQL alike), one per image digest and Trivy version. */
import { storedSbomProblem, type StoredSbom } from '../../core/rematch.js';
import { AGED_ONE_BY_ONE, safeName, type ResultStore } from './result-store.js';

export const sbomKeys = {
  /** Outside every run's folder: an SBOM outlives the run that made it. */
  /** Under AGED_ONE_BY_ONE: pruned once no run has seen the digest for the retention period (IMAGE_SCANNING_RETENTION_DAYS, like runs). */
  sbom: (digest: string, trivyVersion: string) => `${AGED_ONE_BY_ONE[0]}trivy-${safeName(trivyVersion)}/${safeName(digest)}.json`,
};

/** The digest a tag resolved to when last seen: its SBOM can be matched while the next HEAD is made. Under AGED_ONE_BY_ONE too. */
const tagKey = (canonical: string) => `${AGED_ONE_BY_ONE[0]}tags/${safeName(canonical)}.json`;

export async function readTagDigest(store: ResultStore, canonical: string): Promise<string | undefined> {
  const value = await store.readJson<{ digest?: unknown }>(tagKey(canonical)).catch(() => undefined);
  return typeof value?.digest === 'string' ? value.digest : undefined;
}

export async function writeTagDigest(store: ResultStore, canonical: string, digest: string): Promise<void> {
  await store.writeJson(tagKey(canonical), { image: canonical, digest });
}

export type SbomLookup = { stored?: StoredSbom; problem?: string };

/**
 * The SBOM stored for a digest by a Trivy version. A record that cannot be read (corrupt,
 * truncated) or is not what its key says comes back as a problem, never as an error: the image
 * then takes a full scan that writes a good one.
 */
export async function readSbom(store: ResultStore, digest: string, trivyVersion: string): Promise<SbomLookup> {
  let value: unknown;
  try {
    value = await store.readJson<unknown>(sbomKeys.sbom(digest, trivyVersion));
  } catch (error) {
    return { problem: `the stored SBOM of ${digest} (${store.path(sbomKeys.sbom(digest, trivyVersion))}) cannot be read: ${(error as Error).message}` };
  }
  if (value === undefined) return {};
  const problem = storedSbomProblem(value, digest, trivyVersion);
  if (problem) return { problem: `${problem} (${store.path(sbomKeys.sbom(digest, trivyVersion))})` };
  return { stored: value as StoredSbom };
}

/** A run saw the digest (its HEAD resolved to it): its SBOM's retention starts again, without rewriting the document. */
export async function touchSbom(store: ResultStore, digest: string, trivyVersion: string): Promise<void> {
  await store.touch(sbomKeys.sbom(digest, trivyVersion));
}

export async function writeSbom(store: ResultStore, record: StoredSbom): Promise<void> {
  await store.writeJson(sbomKeys.sbom(record.digest, record.trivyVersion), record);
}
