/**
 * Container image references, parsed the way the Docker distribution grammar
 * defines them, so that a typo in a release list is caught here and not as an
 * opaque Trivy failure hours later.
 */
export interface ImageRef {
  /** The reference as written in the list (trimmed). */
  reference: string;
  /** Registry host; `docker.io` when the reference names none. */
  registry: string;
  /** Repository path without the registry, e.g. `rancher/fleet`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** Fully qualified form used to recognise the same image across lists. */
  canonical: string;
}

export const DEFAULT_REGISTRY = 'docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;

export class InvalidImageReferenceError extends Error {
  override name = 'InvalidImageReferenceError';
}

/** Parses `[registry/]repository[:tag][@digest]`; throws with the reason. */
export function parseImageRef(text: string): ImageRef {
  const reference = text.trim();
  if (reference === '') throw new InvalidImageReferenceError('empty image reference');
  if (/\s/.test(reference)) throw new InvalidImageReferenceError(`image reference "${reference}" contains whitespace`);

  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidImageReferenceError(`image reference "${reference}" has an invalid digest`);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidImageReferenceError(`image reference "${reference}" has an invalid tag "${tag}"`);
  }

  const parts = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!HOST.test(first)) throw new InvalidImageReferenceError(`image reference "${reference}" has an invalid registry "${first}"`);
    registry = first.toLowerCase();
    parts.shift();
  }
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw new InvalidImageReferenceError(`image reference "${reference}" has an invalid repository name component "${part}"`);
    }
  }
  const repository = parts.join('/');
  if (repository.length > 255) throw new InvalidImageReferenceError(`image reference "${reference}" has a repository name over 255 characters`);

  return { reference, registry, repository, tag, digest, canonical: canonicalImage(registry, repository, tag, digest) };
}

function canonicalImage(registry: string, repository: string, tag?: string, digest?: string): string {
  const path = registry === DEFAULT_REGISTRY && !repository.includes('/') ? `library/${repository}` : repository;
  // An untagged, undigested reference means `latest` to every client.
  const suffix = digest ? `${tag ? `:${tag}` : ''}@${digest}` : `:${tag ?? 'latest'}`;
  return `${registry}/${path}${suffix}`;
}

/** `rancher/mirrored-*` is Rancher's naming for images copied from upstream. */
export function isRancherMirrored(ref: ImageRef): boolean {
  return /^rancher\/mirrored-/.test(ref.repository);
}
