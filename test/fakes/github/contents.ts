/** Repository contents: reading, writing and deleting files on a branch (with blob shas and 409s), raw file downloads, and their JSON. */
import { gitBlobSha, nodeId, sha1 } from './ids.js';
import { isObject } from './json.js';
import { bodyObject, DOCS, encodePath, fail, HTML, ok, R, route, wrapBase64, type Context, type Reply, type Route } from './routing.js';
import type { BranchState, CommitRecord, FakeRepo, FakeStore } from './state.js';

function branchOf(repo: FakeRepo, ref: string | undefined): BranchState | undefined {
  const name = (ref ?? repo.default_branch).replace(/^refs\/heads\//, '').replace(/^heads\//, '');
  return repo.branches.get(name);
}

function entryJson(store: FakeStore, repo: FakeRepo, branchName: string, path: string, type: 'file' | 'dir', data?: Buffer) {
  const sha = type === 'file' ? gitBlobSha(data!) : sha1(`tree:${branchName}:${path}`);
  const url = `${store.repoApi(repo)}/contents/${encodePath(path)}?ref=${encodeURIComponent(branchName)}`;
  const git_url = `${store.repoApi(repo)}/git/${type === 'file' ? 'blobs' : 'trees'}/${sha}`;
  const html_url = `${HTML}/${repo.full_name}/${type === 'file' ? 'blob' : 'tree'}/${encodePath(branchName)}/${encodePath(path)}`;
  return {
    name: path.split('/').pop()!,
    path,
    sha,
    size: data?.length ?? 0,
    url,
    html_url,
    git_url,
    download_url: type === 'file' ? `${store.base}/_fake/raw/${repo.full_name}/${encodePath(branchName)}/${encodePath(path)}` : null,
    type,
    _links: { self: url, git: git_url, html: html_url },
  };
}

function commitJson(store: FakeStore, repo: FakeRepo, record: CommitRecord, parent: string) {
  const person = { name: record.author, email: `${record.author}@users.noreply.github.com`, date: record.date };
  const repoApi = store.repoApi(repo);
  return {
    sha: record.sha,
    node_id: nodeId('C', parseInt(record.sha.slice(0, 8), 16)),
    url: `${repoApi}/git/commits/${record.sha}`,
    html_url: `${HTML}/${repo.full_name}/commit/${record.sha}`,
    author: person,
    committer: person,
    message: record.message,
    tree: { url: `${repoApi}/git/trees/${store.gitCommits.get(record.sha)?.tree}`, sha: store.gitCommits.get(record.sha)?.tree ?? sha1(`tree:${record.sha}`) },
    parents: [{ url: `${repoApi}/git/commits/${parent}`, html_url: `${HTML}/${repo.full_name}/commit/${parent}`, sha: parent }],
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
  };
}

function getContents(store: FakeStore, ctx: Context, rawPath: string): Reply {
  const repo = store.repoOf(ctx);
  const path = rawPath.replace(/^\/+|\/+$/g, '');
  const branchName = (ctx.query.ref ?? repo.default_branch).replace(/^refs\/heads\//, '').replace(/^heads\//, '');
  const branch = branchOf(repo, branchName) ?? fail(404, `No commit found for the ref ${ctx.query.ref}`, `${DOCS}/repos/contents#get-repository-content`);
  const data = branch.files.get(path);
  if (data) {
    if (/application\/vnd\.github(\.v3)?\.raw/i.test(String(ctx.headers.accept ?? ''))) {
      return { status: 200, raw: data, headers: { 'content-type': 'application/vnd.github.raw; charset=utf-8' } };
    }
    const entry = entryJson(store, repo, branchName, path, 'file', data);
    // Files over 1 MB come without content, as on GitHub.
    const large = data.length > 1024 * 1024;
    return ok({ ...entry, content: large ? '' : wrapBase64(data), encoding: large ? 'none' : 'base64' });
  }
  const prefix = path === '' ? '' : `${path}/`;
  const children = new Map<string, { type: 'file' | 'dir'; data?: Buffer }>();
  for (const [filePath, content] of branch.files) {
    if (!filePath.startsWith(prefix)) continue;
    const rest = filePath.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash === -1) children.set(filePath, { type: 'file', data: content });
    else children.set(prefix + rest.slice(0, slash), { type: 'dir' });
  }
  if (children.size === 0 && path !== '') fail(404, 'Not Found', `${DOCS}/repos/contents#get-repository-content`);
  const entries = [...children.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([p, c]) => entryJson(store, repo, branchName, p, c.type, c.data));
  return ok(entries);
}

function writeTarget(store: FakeStore, ctx: Context, rawPath: string) {
  const repo = store.repoOf(ctx);
  const body = bodyObject(ctx);
  const path = rawPath.replace(/^\/+|\/+$/g, '');
  const branchName = typeof body.branch === 'string' ? body.branch.replace(/^refs\/heads\//, '') : repo.default_branch;
  const branch = repo.branches.get(branchName) ?? fail(404, `Branch ${branchName} not found`, `${DOCS}/repos/contents#create-or-update-file-contents`);
  if (path === '') fail(404, 'Not Found');
  const author = isObject(body.author) && typeof body.author.name === 'string' ? body.author.name : store.login;
  return { repo, body, path, branchName, branch, author };
}

function putContents(store: FakeStore, ctx: Context, rawPath: string): Reply {
  const doc = `${DOCS}/repos/contents#create-or-update-file-contents`;
  const { repo, body, path, branchName, branch, author } = writeTarget(store, ctx, rawPath);
  if (typeof body.content !== 'string' || !/^[A-Za-z0-9+/=\r\n]*$/.test(body.content)) {
    fail(422, 'content is not valid Base64', doc);
  }
  const existing = branch.files.get(path);
  const sha = typeof body.sha === 'string' ? body.sha : undefined;
  if (existing && sha === undefined) fail(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', doc);
  if (sha !== undefined && (!existing || gitBlobSha(existing) !== sha)) fail(409, `${path} does not match ${sha}`, doc);
  const data = Buffer.from(body.content, 'base64');
  const parent = branch.head;
  branch.files.set(path, data);
  const record = store.commit(branch, typeof body.message === 'string' ? body.message : '', [path], author);
  return ok({ content: entryJson(store, repo, branchName, path, 'file', data), commit: commitJson(store, repo, record, parent) }, existing ? 200 : 201);
}

function deleteContents(store: FakeStore, ctx: Context, rawPath: string): Reply {
  const doc = `${DOCS}/repos/contents#delete-a-file`;
  const { repo, body, path, branch, author } = writeTarget(store, ctx, rawPath);
  const existing = branch.files.get(path) ?? fail(404, 'Not Found', doc);
  if (typeof body.sha !== 'string') fail(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', doc);
  if (gitBlobSha(existing) !== body.sha) fail(409, `${path} does not match ${body.sha}`, doc);
  const parent = branch.head;
  branch.files.delete(path);
  const record = store.commit(branch, typeof body.message === 'string' ? body.message : '', [path], author);
  return ok({ content: null, commit: commitJson(store, repo, record, parent) });
}

export function contentRoutes(store: FakeStore): Route[] {
  return [
    route('GET', `${R}/contents`, (ctx) => getContents(store, ctx, '')),
    route('GET', `${R}/contents/*`, (ctx) => getContents(store, ctx, ctx.params[2] ?? '')),
    route('PUT', `${R}/contents/*`, (ctx) => putContents(store, ctx, ctx.params[2] ?? '')),
    route('DELETE', `${R}/contents/*`, (ctx) => deleteContents(store, ctx, ctx.params[2] ?? '')),
    // Raw file downloads (`download_url`), served by the fake itself (GitHub serves them from another host).
    route('GET', '/_fake/raw/:owner/:repo/:branch/*', (ctx) => {
      const repo = store.getRepo(ctx.params[0]!, ctx.params[1]!, false);
      const data = repo.branches.get(ctx.params[2]!)?.files.get(ctx.params[3]!);
      if (!data) return { status: 404, raw: Buffer.from('404: Not Found'), headers: { 'content-type': 'text/plain; charset=utf-8' } };
      return { status: 200, raw: data, headers: { 'content-type': 'text/plain; charset=utf-8' } };
    }),
  ];
}
