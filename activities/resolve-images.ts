import { ApplicationFailure } from '@temporalio/common';
import { buildImageRecords, formatListProblems, parseImageList, parseImageSources } from '../core/image-list.js';
import type { ReleaseInput, ResolvedImages } from '../core/run.js';
import type { ActivityDeps } from './deps.js';
import { readSource, SourceNotFoundError } from './read-source.js';
import { storeKeys } from './result-store.js';

export function createResolveImages(deps: ActivityDeps) {
  return async function resolveImages(input: { runKey: string; release: ReleaseInput }): Promise<ResolvedImages> {
    const { release } = input;
    const read = async (source: string, required: boolean): Promise<string | undefined> => {
      try {
        return await readSource(source);
      } catch (error) {
        if (error instanceof SourceNotFoundError) {
          if (!required) return undefined;
          throw ApplicationFailure.create({
            type: 'ImageListNotFound',
            message: `image list of release ${release.name}: ${error.message}`,
            nonRetryable: true,
          });
        }
        throw error;
      }
    };
    const imagesText = (await read(release.images, true))!;
    const sourcesText = release.sources ? await read(release.sources, false) : undefined;
    const windowsText = release.windowsImages ? await read(release.windowsImages, false) : undefined;

    const images = parseImageList(imagesText, release.images);
    const windowsImages = windowsText !== undefined ? parseImageList(windowsText, release.windowsImages!) : undefined;
    const sources = sourcesText !== undefined ? parseImageSources(sourcesText, release.sources!) : undefined;
    const records = buildImageRecords({ images, windowsImages, sources });
    const problems = [...images.problems, ...(windowsImages?.problems ?? []), ...(sources?.problems ?? [])];
    await deps.store.writeJson(storeKeys.images(input.runKey, release.name), records);
    return {
      release: release.name,
      total: records.length,
      windows: records.filter((r) => r.windows).length,
      mirrored: records.filter((r) => r.mirrored).length,
      problems: problems.length,
      problemSample: formatListProblems(problems.slice(0, 5)).split('\n').filter((l) => l !== ''),
    };
  };
}
