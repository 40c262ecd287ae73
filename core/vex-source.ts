/**
 * VEX sources as configured (IMAGE_SCANNING_VEX) and the check that a document is OpenVEX, made
 * before any scan: Trivy refuses a document it cannot decode with a fatal error, so a bad file
 * would fail every scan of the run one by one.
 */
export type VexSourceKind = 'file' | 'url' | 'repo';

export interface VexSource {
  kind: VexSourceKind;
  /** As the person wrote it: how notes name the source, the same on every host. */
  name: string;
  /** The file, resolved (kind `file`). */
  path?: string;
}

export class InvalidVexSourceError extends Error {
  override name = 'InvalidVexSourceError';
}

/** `repo` (Trivy's VEX repositories), an http(s) URL of an OpenVEX document, or a file path. */
export function parseVexSourceEntry(entry: string): VexSource {
  const name = entry.trim();
  if (name === '') throw new InvalidVexSourceError('an entry is empty');
  if (name === 'repo' || name === 'repository') return { kind: 'repo', name: 'repo' };
  if (name === 'oci' || name === 'sbom-ref') throw new InvalidVexSourceError(`"${name}" is a Trivy VEX source this project does not pass (use files, URLs or repo)`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) {
    let url: URL;
    try {
      url = new URL(name);
    } catch {
      throw new InvalidVexSourceError(`"${name}" is not a valid URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidVexSourceError(`"${name}": only http(s) URLs are fetched`);
    return { kind: 'url', name };
  }
  return { kind: 'file', name };
}

const OPENVEX_STATUSES = new Set(['not_affected', 'affected', 'fixed', 'under_investigation']);

/** Checks that `text` is an OpenVEX document Trivy will decode; the error names `source`. Returns its statement count. */
export function checkOpenVexDocument(text: string, source: string): number {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new InvalidVexSourceError(`${source} is not JSON (${(error as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new InvalidVexSourceError(`${source} is not an OpenVEX document (not a JSON object)`);
  const d = doc as Record<string, unknown>;
  if (typeof d['@context'] !== 'string' || !d['@context'].startsWith('https://openvex.dev/ns')) {
    throw new InvalidVexSourceError(`${source} is not an OpenVEX document ("@context" is not https://openvex.dev/ns/...)`);
  }
  const statements = d.statements ?? [];
  if (!Array.isArray(statements)) throw new InvalidVexSourceError(`${source}: "statements" is not a list`);
  statements.forEach((s: unknown, i) => {
    const st = (typeof s === 'object' && s !== null ? s : {}) as { vulnerability?: { name?: unknown }; status?: unknown; products?: unknown };
    if (typeof st.vulnerability?.name !== 'string' || st.vulnerability.name === '') throw new InvalidVexSourceError(`${source}: statements[${i}] has no vulnerability.name`);
    if (typeof st.status !== 'string' || !OPENVEX_STATUSES.has(st.status)) throw new InvalidVexSourceError(`${source}: statements[${i}] has status ${JSON.stringify(st.status)}, not one of ${[...OPENVEX_STATUSES].join(', ')}`);
    if (st.products !== undefined && !Array.isArray(st.products)) throw new InvalidVexSourceError(`${source}: statements[${i}].products is not a list`);
  });
  return statements.length;
}
