/** Reads a release's image, windows, sources and mirror lists from files, URLs or GitHub release assets. */
import { buildImageRecords, parseImageList, parseImageSources, parseMirrorList, unmatchedSources, type ImageRecord, type ListProblem } from '../../core/image-list.js';
import type { ReleaseInput } from '../../core/run.js';
import type { GitHubClient } from '../github/github.js';
import { readSource, SourceNotFoundError } from './read-source.js';

export const DEFAULT_RELEASE_REPOSITORY = 'rancher/rancher';
export const RELEASE_ASSETS = {
  images: 'rancher-images.txt',
  windowsImages: 'rancher-windows-images.txt',
  sources: 'rancher-images-sources.txt',
} as const;

/** The main image list of a release could not be found: retrying will not make it appear. */
export class ImageListNotFoundError extends Error {
  override name = 'ImageListNotFoundError';
}

type ListKind = keyof typeof RELEASE_ASSETS;

/** Reads one list of a release from where the release says: local files / URLs, or its GitHub release assets. */
function listReader(release: ReleaseInput, github: GitHubClient | undefined): (kind: ListKind) => Promise<{ text: string; source: string } | undefined> {
  if (release.images) {
    return async (kind) => {
      const source = release[kind];
      if (!source) return undefined;
      try {
        return { text: await readSource(source), source };
      } catch (error) {
        if (error instanceof SourceNotFoundError && kind !== 'images') return undefined;
        if (error instanceof SourceNotFoundError) throw new ImageListNotFoundError(`image list of release ${release.name}: ${error.message}`);
        throw error;
      }
    };
  }
  const [owner, repo] = (release.repository ?? DEFAULT_RELEASE_REPOSITORY).split('/') as [string, string];
  const tag = release.tag ?? release.name;
  let assets: Promise<{ id: number; name: string }[]> | undefined;
  const listAssets = async () => {
    if (!github) throw new Error('reading release assets needs a GitHub client');
    try {
      const { data } = await github.rest.repos.getReleaseByTag({ owner, repo, tag });
      return data.assets.map((a) => ({ id: a.id, name: a.name }));
    } catch (error) {
      if ((error as { status?: number }).status === 404) throw new ImageListNotFoundError(`release ${tag} of ${owner}/${repo} was not found on GitHub`);
      throw error;
    }
  };
  return async (kind) => {
    assets ??= listAssets();
    const name = RELEASE_ASSETS[kind];
    const asset = (await assets).find((a) => a.name === name);
    const source = `${owner}/${repo}@${tag}/${name}`;
    if (!asset) {
      if (kind === 'images') throw new ImageListNotFoundError(`release ${tag} of ${owner}/${repo} has no asset ${name}`);
      return undefined;
    }
    const response = await github!.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
      owner,
      repo,
      asset_id: asset.id,
      headers: { accept: 'application/octet-stream' },
    });
    const data = response.data as unknown;
    const text = typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer).toString('utf8');
    return { text, source };
  };
}

export interface ReleaseLists {
  records: ImageRecord[];
  problems: ListProblem[];
}

/** Resolves a release's image records from its lists and an optional image-mirror list. */
export async function readReleaseLists(release: ReleaseInput, options: { github?: GitHubClient; mirrorList?: string }): Promise<ReleaseLists> {
  const read = listReader(release, options.github);
  const imagesList = (await read('images'))!;
  const windowsList = await read('windowsImages');
  const sourcesList = await read('sources');
  const mirrorText = options.mirrorList ? await readSource(options.mirrorList) : undefined;

  const images = parseImageList(imagesList.text, imagesList.source);
  const windowsImages = windowsList ? parseImageList(windowsList.text, windowsList.source) : undefined;
  const sources = sourcesList ? parseImageSources(sourcesList.text, sourcesList.source) : undefined;
  const mirror = mirrorText !== undefined ? parseMirrorList(mirrorText, options.mirrorList!) : undefined;
  const records = buildImageRecords({
    images,
    windowsImages,
    sources,
    mirroredRepositories: mirror ? new Set(mirror.entries.map((e) => e.destination)) : undefined,
  });
  const mismatched = sourcesList ? unmatchedSources({ images, windowsImages, sources }, sourcesList.source) : [];
  const problems = [...images.problems, ...(windowsImages?.problems ?? []), ...(sources?.problems ?? []), ...mismatched, ...(mirror?.problems ?? [])];
  return { records, problems };
}
