/** The list activity: resolves a release's image lists into records stored for the run. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { formatListProblems } from '../../core/image-list.js';
import type { ReleaseInput, ResolvedImages } from '../../core/run.js';
import type { GitHubClient } from '../github/github.js';
import { runExportScript, GitListsError, type GeneratedLists } from '../sources/run-export-script.js';
import { ImageListNotFoundError, readReleaseLists } from './release-lists.js';
import { storeKeys, type ResultStore } from '../store/result-store.js';

/** Generates a git source's lists (heartbeating), or fails the release for good naming repository, ref and step. */
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
      cacheDir: gitCacheDir ?? join(homedir(), '.cache', 'image-scanning', 'git'),
      heartbeat: (step) => context?.heartbeat({ step }),
    });
  } catch (error) {
    if (error instanceof GitListsError) throw ApplicationFailure.create({ type: 'GitListsFailed', message: error.message, nonRetryable: true });
    throw error;
  }
}

export function createResolveImages(deps: { store: ResultStore; github?: GitHubClient; gitCacheDir?: string }) {
  return async function resolveImages(input: { runKey: string; release: ReleaseInput; mirrorList?: string }): Promise<ResolvedImages> {
    const git = await generated(input.release, deps.gitCacheDir);
    const release = git ? { ...input.release, images: git.images, sources: git.sources, windowsImages: git.windowsImages } : input.release;
    let lists;
    try {
      lists = await readReleaseLists(release, { github: deps.github, mirrorList: input.mirrorList });
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
      ...(git ? { commit: git.commit, generated: git.ran } : {}),
    };
  };
}
