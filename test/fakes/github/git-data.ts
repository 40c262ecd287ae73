/** The git data API over the fake's git objects: branch refs, blobs, trees and commits, and their JSON. */
import { nodeId, sha1 } from './ids.js';
import { isObject, type Json } from './json.js';
import { bodyObject, DOCS, fail, HTML, ok, R, route, wrapBase64, type Route } from './routing.js';
import type { FakeRepo, FakeStore } from './state.js';

/** `heads/<branch>` (a ref without `refs/`) → the branch name; other refs → undefined. */
function headsName(ref: string): string | undefined {
  return /^heads\/./.test(ref) ? ref.slice('heads/'.length) : undefined;
}

function gitCommitJson(store: FakeStore, repo: FakeRepo, sha: string) {
  const object = store.gitCommits.get(sha)!;
  const person = { name: object.record.author, email: `${object.record.author}@users.noreply.github.com`, date: object.record.date };
  const repoApi = store.repoApi(repo);
  return {
    sha,
    node_id: nodeId('C', parseInt(sha.slice(0, 8), 16)),
    url: `${repoApi}/git/commits/${sha}`,
    html_url: `${HTML}/${repo.full_name}/commit/${sha}`,
    author: person,
    committer: person,
    message: object.record.message,
    tree: { url: `${repoApi}/git/trees/${object.tree}`, sha: object.tree },
    parents: object.parents.map((parent) => ({ url: `${repoApi}/git/commits/${parent}`, html_url: `${HTML}/${repo.full_name}/commit/${parent}`, sha: parent })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
  };
}

function refJson(store: FakeStore, repo: FakeRepo, branchName: string, head: string) {
  const ref = `refs/heads/${branchName}`;
  return {
    ref,
    node_id: nodeId('REF', parseInt(sha1(`${repo.full_name}:${ref}`).slice(0, 8), 16)),
    url: `${store.repoApi(repo)}/git/${ref}`,
    object: { type: 'commit', sha: head, url: `${store.repoApi(repo)}/git/commits/${head}` },
  };
}

/** A tree's entries: its files and folders, or (recursive) everything below it. */
function treeJson(store: FakeStore, repo: FakeRepo, treeSha: string, recursive: boolean) {
  const flat = store.trees.get(treeSha)!;
  const entries: { path: string; mode: string; type: string; sha: string; size?: number; url: string }[] = [];
  const dirs = new Set<string>();
  for (const path of flat.keys()) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const dir of dirs) {
    if (!recursive && dir.includes('/')) continue;
    const sha = store.storeSubtree(flat, dir);
    entries.push({ path: dir, mode: '040000', type: 'tree', sha, url: `${store.repoApi(repo)}/git/trees/${sha}` });
  }
  for (const [path, sha] of flat) {
    if (!recursive && path.includes('/')) continue;
    entries.push({ path, mode: '100644', type: 'blob', sha, size: store.blobs.get(sha)?.length ?? 0, url: `${store.repoApi(repo)}/git/blobs/${sha}` });
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { sha: treeSha, url: `${store.repoApi(repo)}/git/trees/${treeSha}`, tree: entries, truncated: false };
}

export function gitDataRoutes(store: FakeStore): Route[] {
  const repoOf = store.repoOf.bind(store);
  const { blobs, trees, gitCommits } = store;
  return [
    route('GET', `${R}/git/ref/*`, (ctx) => {
      const repo = repoOf(ctx);
      const branchName = headsName(ctx.params[2] ?? '') ?? fail(404, 'Not Found', `${DOCS}/git/refs#get-a-reference`);
      const branch = repo.branches.get(branchName) ?? fail(404, 'Not Found', `${DOCS}/git/refs#get-a-reference`);
      return ok(refJson(store, repo, branchName, branch.head));
    }),
    route('POST', `${R}/git/refs`, (ctx) => {
      const doc = `${DOCS}/git/refs#create-a-reference`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      const ref = typeof body.ref === 'string' ? body.ref : '';
      if (!/^refs\/[^/]+\/./.test(ref)) fail(422, `${ref} is not a valid ref name.`, doc);
      const branchName = headsName(ref.slice('refs/'.length)) ?? fail(422, 'The fake supports branch refs (refs/heads/…) only', doc);
      if (repo.branches.has(branchName)) fail(422, 'Reference already exists', doc);
      const sha = typeof body.sha === 'string' ? body.sha : '';
      const object = gitCommits.get(sha) ?? fail(422, 'Object does not exist', doc);
      repo.branches.set(branchName, { files: store.materialize(object.tree), head: sha, commits: store.commitsSince(sha, undefined) ?? [] });
      return ok(refJson(store, repo, branchName, sha), 201, { location: `${store.repoApi(repo)}/git/${ref}` });
    }),
    route('PATCH', `${R}/git/refs/*`, (ctx) => {
      const doc = `${DOCS}/git/refs#update-a-reference`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      const branchName = headsName(ctx.params[2] ?? '') ?? fail(422, 'Reference does not exist', doc);
      const branch = repo.branches.get(branchName) ?? fail(422, 'Reference does not exist', doc);
      const sha = typeof body.sha === 'string' ? body.sha : '';
      const object = gitCommits.get(sha) ?? fail(422, 'Object does not exist', doc);
      const added = store.commitsSince(sha, branch.head);
      if (!added && body.force !== true) fail(422, 'Update is not a fast forward', doc);
      branch.files = store.materialize(object.tree);
      branch.commits = added ? [...branch.commits, ...added] : (store.commitsSince(sha, undefined) ?? []);
      branch.head = sha;
      return ok(refJson(store, repo, branchName, sha));
    }),
    route('POST', `${R}/git/blobs`, (ctx) => {
      const doc = `${DOCS}/git/blobs#create-a-blob`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      if (typeof body.content !== 'string') fail(422, 'Invalid request.\n\n"content" wasn\'t supplied.', doc);
      const encoding = body.encoding ?? 'utf-8';
      if (encoding !== 'utf-8' && encoding !== 'base64') fail(422, `encoding must be utf-8 or base64`, doc);
      if (encoding === 'base64' && !/^[A-Za-z0-9+/=\r\n]*$/.test(body.content)) fail(422, 'content is not valid Base64', doc);
      const sha = store.storeBlob(Buffer.from(body.content, encoding === 'base64' ? 'base64' : 'utf8'));
      return ok({ url: `${store.repoApi(repo)}/git/blobs/${sha}`, sha }, 201, { location: `${store.repoApi(repo)}/git/blobs/${sha}` });
    }),
    route('GET', `${R}/git/blobs/:file_sha`, (ctx) => {
      const repo = repoOf(ctx);
      const sha = ctx.params[2] ?? '';
      const data = blobs.get(sha) ?? fail(404, 'Not Found', `${DOCS}/git/blobs#get-a-blob`);
      return ok({ sha, node_id: `B_${sha.slice(0, 16)}`, size: data.length, url: `${store.repoApi(repo)}/git/blobs/${sha}`, content: wrapBase64(data), encoding: 'base64' });
    }),
    route('GET', `${R}/git/trees/:tree_sha`, (ctx) => {
      const repo = repoOf(ctx);
      const sha = ctx.params[2] ?? '';
      if (!trees.has(sha)) fail(404, 'Not Found', `${DOCS}/git/trees#get-a-tree`);
      const recursive = ctx.query.recursive !== undefined && ctx.query.recursive !== '' && ctx.query.recursive !== '0' && ctx.query.recursive !== 'false';
      return ok(treeJson(store, repo, sha, recursive));
    }),
    route('POST', `${R}/git/trees`, (ctx) => {
      const doc = `${DOCS}/git/trees#create-a-tree`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      let flat = new Map<string, string>();
      if (body.base_tree !== undefined) {
        const base = typeof body.base_tree === 'string' ? trees.get(body.base_tree) : undefined;
        flat = new Map(base ?? fail(422, 'Invalid tree info: base_tree is not a valid tree', doc));
      }
      if (!Array.isArray(body.tree)) fail(422, 'Invalid tree info', doc);
      for (const raw of body.tree as unknown[]) {
        const entry = isObject(raw as Json) ? (raw as Record<string, unknown>) : fail(422, 'Invalid tree info', doc);
        const path = typeof entry.path === 'string' ? entry.path.replace(/^\/+|\/+$/g, '') : '';
        if (path === '') fail(422, 'Invalid tree info: path is empty', doc);
        if (entry.sha !== undefined && entry.content !== undefined) fail(422, 'Invalid tree info: give either sha or content', doc);
        const under = (p: string) => p === path || p.startsWith(`${path}/`);
        if (entry.sha === null) {
          for (const p of [...flat.keys()]) if (under(p)) flat.delete(p);
        } else if (entry.type === 'tree') {
          const sub = typeof entry.sha === 'string' ? trees.get(entry.sha) : undefined;
          if (!sub) fail(422, `Invalid tree info: tree.sha ${String(entry.sha)} is not a valid tree`, doc);
          for (const p of [...flat.keys()]) if (under(p)) flat.delete(p);
          for (const [p, blob] of sub) flat.set(`${path}/${p}`, blob);
        } else if (entry.type === 'blob' || entry.type === undefined) {
          let blob: string;
          if (typeof entry.content === 'string') blob = store.storeBlob(Buffer.from(entry.content, 'utf8'));
          else if (typeof entry.sha === 'string' && blobs.has(entry.sha)) blob = entry.sha;
          else fail(422, `Invalid tree info: tree.sha ${String(entry.sha)} is not a valid blob`, doc);
          for (const p of [...flat.keys()]) if (p.startsWith(`${path}/`)) flat.delete(p);
          flat.set(path, blob);
        } else fail(422, `Invalid tree info: the fake does not support ${String(entry.type)} entries`, doc);
      }
      const sha = store.storeTree(flat);
      return ok(treeJson(store, repo, sha, false), 201, { location: `${store.repoApi(repo)}/git/trees/${sha}` });
    }),
    route('POST', `${R}/git/commits`, (ctx) => {
      const doc = `${DOCS}/git/commits#create-a-commit`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      const tree = typeof body.tree === 'string' && trees.has(body.tree) ? body.tree : fail(422, 'Tree SHA does not exist', doc);
      const parents = Array.isArray(body.parents) ? (body.parents as unknown[]) : [];
      for (const parent of parents) if (typeof parent !== 'string' || !gitCommits.has(parent)) fail(422, 'Parent SHA does not exist or is not a commit object', doc);
      const message = typeof body.message === 'string' ? body.message : '';
      const author = isObject(body.author as Json) && typeof (body.author as Record<string, unknown>).name === 'string' ? String((body.author as Record<string, unknown>).name) : store.login;
      const sha = sha1(`commit:${tree}:${parents.join(',')}:${store.newId()}:${message}`);
      const before = parents.length > 0 ? trees.get(gitCommits.get(parents[0] as string)!.tree)! : new Map<string, string>();
      const after = trees.get(tree)!;
      const paths = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
      gitCommits.set(sha, { tree, parents: parents as string[], record: { sha, message, paths, author, date: store.now() } });
      return ok(gitCommitJson(store, repo, sha), 201, { location: `${store.repoApi(repo)}/git/commits/${sha}` });
    }),
    route('GET', `${R}/git/commits/:commit_sha`, (ctx) => {
      const repo = repoOf(ctx);
      if (!gitCommits.has(ctx.params[2] ?? '')) fail(404, 'Not Found', `${DOCS}/git/commits#get-a-commit-object`);
      return ok(gitCommitJson(store, repo, ctx.params[2]!));
    }),
  ];
}
