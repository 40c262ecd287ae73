/** The list activity: resolves a release's image lists into records stored for the run. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { formatListProblems } from '../../core/image-list.js';
import type { ReleaseSource } from '../../core/release-source.js';
import type { GitListsRef, ReleaseInput, ResolvedImages } from '../../core/run.js';
import type { GitHubClient } from '../github/github.js';
import { DEFAULT_GIT_CACHE_DIR, gitListsFailure, withStoredGitLists } from '../sources/generate-git-lists.js';
import { runExportScript, type GeneratedLists } from '../sources/run-export-script.js';
import { ImageListNotFoundError, readReleaseLists } from './release-lists.js';
import { storeKeys, type ResultStore } from '../store/result-store.js';

/**
 * Generates a git source's lists here, for runs started before the generation became its own
 * activity (generateGitLists, patched into scanRelease): their histories call resolveImages alone.
 */
async function generated(release: ReleaseInput, gitCacheDir: string | undefined): Promise<GeneratedLists | undefined> {
  if (!release.git) return undefined;
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    context = undefined;
  }
  try {
    return await runExportScript({
      release: release.name,
      git: release.git,
      cacheDir: gitCacheDir ?? DEFAULT_GIT_CACHE_DIR,
      heartbeat: (step) => context?.heartbeat({ step }),
    });
  } catch (error) {
    throw gitListsFailure(error);
  }
}

export function createResolveImages(deps: { store: ResultStore; github?: GitHubClient; gitCacheDir?: string }) {
  /** `generated`: the lists generateGitLists stored for a git source; without it a git source is generated here. */
  return async function resolveImages(input: { runKey: string; release: ReleaseInput; mirrorList?: string; generated?: GitListsRef }): Promise<ResolvedImages> {
    const read = (release: ReleaseInput) => readReleaseLists(release, { github: deps.github, mirrorList: input.mirrorList });
    let git: { commit: string; ran: boolean } | undefined;
    let lists;
    try {
      if (input.generated) {
        git = { commit: input.generated.commit, ran: input.generated.generated };
        lists = await withStoredGitLists(deps.store, input.generated, input.release.name, (paths) => read({ ...input.release, ...paths }));
      } else {
        const made = await generated(input.release, deps.gitCacheDir);
        git = made;
        lists = await read(made ? { ...input.release, images: made.images, sources: made.sources, windowsImages: made.windowsImages } : input.release);
      }
    } catch (error) {
      if (error instanceof ImageListNotFoundError) {
        throw ApplicationFailure.create({ type: 'ImageListNotFound', message: error.message, nonRetryable: true });
      }
      throw error;
    }
    const { records, problems } = lists;
    await deps.store.writeJson(storeKeys.images(input.runKey, input.release.name), records);
    if (git && input.release.git) {
      const source: ReleaseSource = { repository: input.release.git.repository, ref: input.release.git.ref, commit: git.commit };
      await deps.store.writeJson(storeKeys.source(input.runKey, input.release.name), source);
    }
    return {
      release: input.release.name,
      total: records.length,
      windows: records.filter((r) => r.windows).length,
      mirrored: records.filter((r) => r.mirrored).length,
      problems: problems.length,
      problemSample: formatListProblems(problems.slice(0, 5)).split('\n').filter((l) => l !== ''),
      ...(git ? { commit: git.commit, generated: git.ran } : {}),
    };
  };
}
