/** Publishes the written site to a branch and folder of a GitHub repository in one commit. */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitHubClient } from '../github/github.js';

/** A folder on a branch of a GitHub repository the site is published to; `folder` '' is the branch's root. */
export interface SiteTarget {
  owner: string;
  repo: string;
  branch: string;
  folder: string;
}

export interface SitePublication {
  /** The commit made, or undefined when the branch already held the site. */
  commit: string | undefined;
  /** Files written or deleted under the folder. */
  changed: number;
  /** Files in the site. */
  files: number;
}

/** How many times the branch is re-read and the commit redone when someone pushed in between. */
const MAX_ATTEMPTS = 5;

/** Git's blob id: sha1("blob <len>\0" + content). */
export function gitBlobSha(data: Uint8Array): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

/** Every file under `dir`, by its path relative to `dir` with `/` separators (dot files included). */
async function readSite(dir: string, prefix = '', into = new Map<string, Buffer>()): Promise<Map<string, Buffer>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await readSite(path, `${prefix}${entry.name}/`, into);
    else if (entry.isFile()) into.set(`${prefix}${entry.name}`, await readFile(path));
  }
  return into;
}

function statusOf(error: unknown): number | undefined {
  return (error as { status?: number }).status;
}

/** The commit a branch points at; undefined when there is no such branch (404) or the repository is empty (409). */
async function readHead(github: GitHubClient, owner: string, repo: string, branch: string): Promise<string | undefined> {
  try {
    const { data } = await github.rest.git.getRef({ owner, repo, ref: `heads/${branch}` });
    return data.object.sha;
  } catch (error) {
    const status = statusOf(error);
    if (status === 404 || status === 409) return undefined;
    throw error;
  }
}

/**
 * Publishes the files under `siteDir` to `target.folder` on `target.branch` in one commit,
 * through the git data API: only changed files are uploaded, files gone from the site are
 * deleted from the folder, everything outside the folder is kept. The ref moves with
 * compare-and-swap (`force: false`); when someone pushed in between, GitHub refuses (422) and
 * the commit is redone on the new head. A missing branch is created from the default branch
 * (an orphan commit when the repository has none). Nothing to change: no commit.
 *
 * Retries by plugin-retry (5xx) are harmless here: blobs, trees and commits are content-addressed,
 * and a ref update that was applied but answered with an error is recognized on the next read.
 */
export async function publishSiteToGitHub(github: GitHubClient, target: SiteTarget, siteDir: string, message: string): Promise<SitePublication> {
  const { owner, repo, branch } = target;
  const folder = target.folder.replace(/^\/+|\/+$/g, '');
  const prefix = folder === '' ? '' : `${folder}/`;
  const site = new Map([...(await readSite(siteDir))].map(([path, data]) => [`${prefix}${path}`, data]));
  const uploaded = new Set<string>();
  /** The last commit made, and how many files it changed. */
  let ours: { sha: string; changed: number } | undefined;

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let head = await readHead(github, owner, repo, branch);
    // Our previous attempt's ref update went through although its answer did not (a retried PATCH, say).
    if (ours !== undefined && head === ours.sha) return { commit: ours.sha, changed: ours.changed, files: site.size };
    const createBranch = head === undefined;
    if (createBranch) {
      const { data } = await github.rest.repos.get({ owner, repo });
      head = await readHead(github, owner, repo, data.default_branch);
    }

    const existing = new Map<string, string>();
    let baseTree: string | undefined;
    if (head !== undefined) {
      baseTree = (await github.rest.git.getCommit({ owner, repo, commit_sha: head })).data.tree.sha;
      const { data } = await github.rest.git.getTree({ owner, repo, tree_sha: baseTree, recursive: '1' });
      if (data.truncated) throw new Error(`${owner}/${repo}@${branch}: the tree is too large to list; publish to a smaller branch or folder`);
      for (const entry of data.tree) {
        if (entry.type === 'blob' && entry.path !== undefined && entry.sha !== undefined && entry.path.startsWith(prefix)) existing.set(entry.path, entry.sha);
      }
    }

    const entries: { path: string; mode: '100644'; type: 'blob'; sha: string | null }[] = [];
    for (const [path, data] of site) {
      const sha = gitBlobSha(data);
      if (existing.get(path) === sha) continue;
      if (!uploaded.has(sha)) {
        const { data: blob } = await github.rest.git.createBlob({ owner, repo, content: data.toString('base64'), encoding: 'base64' });
        if (blob.sha !== sha) throw new Error(`${owner}/${repo}: GitHub stored ${path} as blob ${blob.sha}, expected ${sha}`);
        uploaded.add(sha);
      }
      entries.push({ path, mode: '100644', type: 'blob', sha });
    }
    for (const path of existing.keys()) if (!site.has(path)) entries.push({ path, mode: '100644', type: 'blob', sha: null });

    if (entries.length === 0) {
      // The default branch already holds the site: the new branch starts at its head, without a commit.
      if (createBranch && head !== undefined && !(await createRef(github, owner, repo, branch, head))) continue;
      return { commit: undefined, changed: 0, files: site.size };
    }

    const { data: tree } = await github.rest.git.createTree({ owner, repo, tree: entries, ...(baseTree !== undefined ? { base_tree: baseTree } : {}) });
    const { data: commit } = await github.rest.git.createCommit({ owner, repo, message, tree: tree.sha, parents: head !== undefined ? [head] : [] });
    ours = { sha: commit.sha, changed: entries.length };
    const moved = createBranch ? await createRef(github, owner, repo, branch, commit.sha) : await updateRef(github, owner, repo, branch, commit.sha);
    if (moved) return { commit: commit.sha, changed: entries.length, files: site.size };
  }
  throw new Error(`${owner}/${repo}@${branch}: the branch kept moving; the site was not published after ${MAX_ATTEMPTS} attempts`);
}

/** Creates the branch at `sha`; false when someone created it first (422). */
async function createRef(github: GitHubClient, owner: string, repo: string, branch: string, sha: string): Promise<boolean> {
  try {
    await github.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha });
    return true;
  } catch (error) {
    if (statusOf(error) === 422) return false;
    throw error;
  }
}

/** Moves the branch to `sha` if that is a fast-forward; false when the branch moved since it was read (422). */
async function updateRef(github: GitHubClient, owner: string, repo: string, branch: string, sha: string): Promise<boolean> {
  try {
    await github.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha, force: false });
    return true;
  } catch (error) {
    if (statusOf(error) === 422) return false;
    throw error;
  }
}
