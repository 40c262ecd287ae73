/** The commit list of a branch (`GET /repos/{o}/{r}/commits`), newest first, filtered by `path` as GitHub does. */
import { nodeId } from './ids.js';
import { DOCS, fail, HTML, ok, paginate, R, route, type Route } from './routing.js';
import type { CommitRecord, FakeRepo, FakeStore } from './state.js';
import { userJson } from './users.js';

function commitJson(store: FakeStore, repo: FakeRepo, record: CommitRecord) {
  const object = store.gitCommits.get(record.sha)!;
  const repoApi = store.repoApi(repo);
  const person = { name: record.author, email: `${record.author}@users.noreply.github.com`, date: record.date };
  return {
    url: `${repoApi}/commits/${record.sha}`,
    sha: record.sha,
    node_id: nodeId('C', parseInt(record.sha.slice(0, 8), 16)),
    html_url: `${HTML}/${repo.full_name}/commit/${record.sha}`,
    comments_url: `${repoApi}/commits/${record.sha}/comments`,
    commit: {
      url: `${repoApi}/git/commits/${record.sha}`,
      author: person,
      committer: person,
      message: record.message,
      comment_count: 0,
      tree: { sha: object.tree, url: `${repoApi}/git/trees/${object.tree}` },
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
    author: userJson(store, record.author),
    committer: userJson(store, record.author),
    parents: object.parents.map((parent) => ({ sha: parent, url: `${repoApi}/commits/${parent}`, html_url: `${HTML}/${repo.full_name}/commit/${parent}` })),
  };
}

export function commitRoutes(store: FakeStore): Route[] {
  return [
    route('GET', `${R}/commits`, (ctx) => {
      const repo = store.repoOf(ctx);
      const ref = ctx.query.sha ?? repo.default_branch;
      // `sha` names a branch or a commit; the fake knows branches (a commit sha lists from the branch whose head it is).
      const branch = repo.branches.get(ref) ?? [...repo.branches.values()].find((b) => b.head === ref) ?? fail(404, 'No commit found for SHA: ' + ref, `${DOCS}/commits/commits#list-commits`);
      const path = (ctx.query.path ?? '').replace(/^\/+|\/+$/g, '');
      // A path names a file or a folder: a commit touches it when it wrote that file or anything below it.
      const touches = (record: CommitRecord) => path === '' || record.paths.some((p) => p === path || p.startsWith(`${path}/`));
      const list = [...branch.commits].reverse().filter(touches);
      const page = paginate(ctx, list, store.base);
      return ok(page.items.map((record) => commitJson(store, repo, record)), 200, page.headers);
    }),
  ];
}
