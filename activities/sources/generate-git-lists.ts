/** The git source's activity: runs Rancher's export script at a release's ref and keeps the lists in the result store (claim check). */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { GitListsRef, ReleaseInput } from '../../core/run.js';
import { storeKeys, type ResultStore } from '../store/result-store.js';
import { GitListsError, runExportScript } from './run-export-script.js';

/** What the activity stores: the list texts (a few hundred KiB), never handed through history. */
interface StoredGitLists {
  repository: string;
  ref: string;
  commit: string;
  images: string;
  sources?: string;
  windowsImages?: string;
}

export const DEFAULT_GIT_CACHE_DIR = join(homedir(), '.cache', 'image-scanning', 'git');

/** The script's failure as the release's permanent failure: retrying a missing ref or a failing script changes nothing. */
export function gitListsFailure(error: unknown): unknown {
  return error instanceof GitListsError ? ApplicationFailure.create({ type: 'GitListsFailed', message: error.message, nonRetryable: true }) : error;
}

export function createGenerateGitLists(deps: { store: ResultStore; gitCacheDir?: string }) {
  /**
   * Long the first time (a Go build of Rancher's exporter), so it heartbeats its step every few
   * seconds, dies with its script on cancellation, and may run on its own task queue (a worker with Go).
   */
  return async function generateGitLists(input: { runKey: string; release: ReleaseInput }): Promise<GitListsRef> {
    const { release } = input;
    if (!release.git) throw ApplicationFailure.create({ type: 'InvalidInput', message: `release ${release.name} has no git source`, nonRetryable: true });
    const context = Context.current();
    let lists;
    try {
      lists = await runExportScript({
        release: release.name,
        git: release.git,
        cacheDir: deps.gitCacheDir ?? DEFAULT_GIT_CACHE_DIR,
        heartbeat: (step) => context.heartbeat({ step }),
        signal: context.cancellationSignal,
      });
    } catch (error) {
      throw gitListsFailure(error);
    }
    const text = (path: string | undefined) => (path ? readFile(path, 'utf8') : Promise.resolve(undefined));
    const stored: StoredGitLists = {
      repository: release.git.repository,
      ref: release.git.ref,
      commit: lists.commit,
      images: (await text(lists.images))!,
      sources: await text(lists.sources),
      windowsImages: await text(lists.windowsImages),
    };
    const key = storeKeys.gitLists(input.runKey, release.name);
    await deps.store.writeJson(key, stored);
    return { key, commit: lists.commit, generated: lists.ran };
  };
}

/**
 * The stored lists as files for the list reader, in a folder that `use` may read and that is
 * removed afterwards. Refuses a key whose lists are gone (a run older than the retention).
 */
export async function withStoredGitLists<T>(store: ResultStore, ref: GitListsRef, release: string, use: (paths: { images: string; sources?: string; windowsImages?: string }) => Promise<T>): Promise<T> {
  const stored = await store.readJson<StoredGitLists>(ref.key);
  if (!stored) throw ApplicationFailure.create({ type: 'GitListsFailed', message: `release ${release}: the generated lists at ${ref.key} are not in the result store`, nonRetryable: true });
  const dir = await mkdtemp(join(tmpdir(), `git-lists-${release.replace(/[^\w.-]/g, '_')}-`));
  try {
    const write = async (name: string, body: string | undefined) => {
      if (body === undefined) return undefined;
      await writeFile(join(dir, name), body);
      return join(dir, name);
    };
    const images = (await write('rancher-images.txt', stored.images))!;
    return await use({ images, sources: await write('rancher-images-sources.txt', stored.sources), windowsImages: await write('rancher-windows-images.txt', stored.windowsImages) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
