/** The list activity: resolves a release's image lists into records stored for the run. */
import { ApplicationFailure } from '@temporalio/common';
import { formatListProblems } from '../../core/image-list.js';
import type { ReleaseInput, ResolvedImages } from '../../core/run.js';
import type { GitHubClient } from '../github/github.js';
import { ImageListNotFoundError, readReleaseLists } from './release-lists.js';
import { storeKeys, type ResultStore } from '../store/result-store.js';

export function createResolveImages(deps: { store: ResultStore; github?: GitHubClient }) {
  return async function resolveImages(input: { runKey: string; release: ReleaseInput; mirrorList?: string }): Promise<ResolvedImages> {
    let lists;
    try {
      lists = await readReleaseLists(input.release, { github: deps.github, mirrorList: input.mirrorList });
    } catch (error) {
      if (error instanceof ImageListNotFoundError) {
        throw ApplicationFailure.create({ type: 'ImageListNotFound', message: error.message, nonRetryable: true });
      }
      throw error;
    }
    const { records, problems } = lists;
    await deps.store.writeJson(storeKeys.images(input.runKey, input.release.name), records);
    return {
      release: input.release.name,
      total: records.length,
      windows: records.filter((r) => r.windows).length,
      mirrored: records.filter((r) => r.mirrored).length,
      problems: problems.length,
      problemSample: formatListProblems(problems.slice(0, 5)).split('\n').filter((l) => l !== ''),
    };
  };
}
