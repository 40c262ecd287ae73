/** Releases and their assets: their routes, the asset downloads the fake serves itself, adding a release, and their JSON. */
import { createHash } from 'node:crypto';
import { nodeId } from './ids.js';
import { DOCS, fail, HTML, ok, paginate, R, route, type Reply, type Route } from './routing.js';
import type { AssetState, FakeRepo, FakeStore, ReleaseState } from './state.js';
import { userJson } from './users.js';

export interface ReleaseOptions {
  name?: string;
  body?: string;
  draft?: boolean;
  prerelease?: boolean;
  /** Content type per asset name (default guessed from the extension). */
  contentTypes?: Record<string, string>;
}

function guessContentType(name: string): string {
  if (/\.txt$/i.test(name)) return 'text/plain';
  if (/\.json$/i.test(name)) return 'application/json';
  if (/\.(gz|tgz)$/i.test(name)) return 'application/gzip';
  if (/\.csv$/i.test(name)) return 'text/csv';
  return 'application/octet-stream';
}

export function assetJson(store: FakeStore, repo: FakeRepo, release: ReleaseState, asset: AssetState) {
  return {
    url: `${store.repoApi(repo)}/releases/assets/${asset.id}`,
    browser_download_url: `${store.base}/_fake/github.com/${repo.full_name}/releases/download/${encodeURIComponent(release.tag_name)}/${encodeURIComponent(asset.name)}`,
    id: asset.id,
    node_id: asset.node_id,
    name: asset.name,
    label: asset.label,
    state: 'uploaded',
    content_type: asset.content_type,
    size: asset.data.length,
    digest: asset.digest,
    download_count: asset.download_count,
    created_at: asset.created_at,
    updated_at: asset.updated_at,
    uploader: userJson(store, store.login),
  };
}

export function releaseJson(store: FakeStore, repo: FakeRepo, release: ReleaseState) {
  const url = `${store.repoApi(repo)}/releases/${release.id}`;
  return {
    url,
    html_url: `${HTML}/${repo.full_name}/releases/tag/${encodeURIComponent(release.tag_name)}`,
    assets_url: `${url}/assets`,
    upload_url: `https://uploads.github.com/repos/${repo.full_name}/releases/${release.id}/assets{?name,label}`,
    tarball_url: `${store.repoApi(repo)}/tarball/${encodeURIComponent(release.tag_name)}`,
    zipball_url: `${store.repoApi(repo)}/zipball/${encodeURIComponent(release.tag_name)}`,
    id: release.id,
    node_id: release.node_id,
    tag_name: release.tag_name,
    target_commitish: release.target_commitish,
    name: release.name,
    body: release.body,
    draft: release.draft,
    prerelease: release.prerelease,
    immutable: false,
    created_at: release.created_at,
    updated_at: release.created_at,
    published_at: release.published_at,
    author: userJson(store, store.login),
    assets: release.assets.map((asset) => assetJson(store, repo, release, asset)),
  };
}

/** Publishes a release of `tag` with these assets, replacing any release of the same tag. */
export function addRelease(store: FakeStore, repo: FakeRepo, tag: string, assets: Record<string, string | Uint8Array>, opts: ReleaseOptions = {}): ReleaseState {
  const id = store.newId();
  const at = store.now();
  const release: ReleaseState = {
    id,
    node_id: nodeId('RE', id),
    tag_name: tag,
    name: opts.name ?? tag,
    body: opts.body ?? null,
    draft: opts.draft ?? false,
    prerelease: opts.prerelease ?? false,
    target_commitish: repo.default_branch,
    created_at: at,
    published_at: opts.draft ? null : at,
    assets: [],
  };
  for (const [name, content] of Object.entries(assets)) {
    const assetId = store.newId();
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    const asset: AssetState = {
      id: assetId,
      node_id: nodeId('RA', assetId),
      name,
      label: '',
      content_type: opts.contentTypes?.[name] ?? guessContentType(name),
      data,
      digest: `sha256:${createHash('sha256').update(data).digest('hex')}`,
      download_count: 0,
      created_at: at,
      updated_at: at,
    };
    release.assets.push(asset);
    store.assetsById.set(assetId, { repo, release, asset });
  }
  repo.releases = repo.releases.filter((r) => r.tag_name !== tag);
  repo.releases.push(release);
  return release;
}

function download(asset: AssetState | undefined): Reply {
  if (!asset) return { status: 404, raw: Buffer.from('Not Found'), headers: { 'content-type': 'text/plain; charset=utf-8' } };
  asset.download_count++;
  return {
    status: 200,
    raw: asset.data,
    headers: { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename=${encodeURIComponent(asset.name)}` },
  };
}

export function releaseRoutes(store: FakeStore): Route[] {
  const repoOf = store.repoOf.bind(store);
  return [
    route('GET', `${R}/releases`, (ctx) => {
      const repo = repoOf(ctx);
      const page = paginate(ctx, [...repo.releases].reverse(), store.base);
      return ok(page.items.map((r) => releaseJson(store, repo, r)), 200, page.headers);
    }),
    route('GET', `${R}/releases/latest`, (ctx) => {
      const repo = repoOf(ctx);
      const latest = [...repo.releases].reverse().find((r) => !r.draft && !r.prerelease) ?? fail(404, 'Not Found', `${DOCS}/releases/releases#get-the-latest-release`);
      return ok(releaseJson(store, repo, latest));
    }),
    route('GET', `${R}/releases/tags/:tag`, (ctx) => {
      const repo = repoOf(ctx);
      const release = repo.releases.find((r) => r.tag_name === ctx.params[2]) ?? fail(404, 'Not Found', `${DOCS}/releases/releases#get-a-release-by-tag-name`);
      return ok(releaseJson(store, repo, release));
    }),
    route('GET', `${R}/releases/assets/:asset_id`, (ctx) => {
      const repo = repoOf(ctx);
      const found = store.assetsById.get(Number(ctx.params[2]));
      if (!found || found.repo !== repo) fail(404, 'Not Found', `${DOCS}/releases/assets#get-a-release-asset`);
      if (/application\/octet-stream/i.test(String(ctx.headers.accept ?? ''))) {
        return { status: 302, headers: { location: `${store.base}/_fake/assets/${found.asset.id}/${encodeURIComponent(found.asset.name)}` } };
      }
      return ok(assetJson(store, repo, found.release, found.asset));
    }),
    route('GET', `${R}/releases/:release_id`, (ctx) => {
      const repo = repoOf(ctx);
      const release = repo.releases.find((r) => String(r.id) === ctx.params[2]) ?? fail(404, 'Not Found', `${DOCS}/releases/releases#get-a-release`);
      return ok(releaseJson(store, repo, release));
    }),
    route('GET', `${R}/releases/:release_id/assets`, (ctx) => {
      const repo = repoOf(ctx);
      const release = repo.releases.find((r) => String(r.id) === ctx.params[2]) ?? fail(404, 'Not Found');
      const page = paginate(ctx, release.assets, store.base);
      return ok(page.items.map((a) => assetJson(store, repo, release, a)), 200, page.headers);
    }),
    // Asset downloads, served by the fake itself (GitHub serves them from other hosts).
    route('GET', '/_fake/assets/:id/:name', (ctx) => download(store.assetsById.get(Number(ctx.params[0]))?.asset)),
    route('GET', '/_fake/github.com/:owner/:repo/releases/download/:tag/:name', (ctx) => {
      const repo = store.getRepo(ctx.params[0]!, ctx.params[1]!, false);
      const release = repo.releases.find((r) => r.tag_name === ctx.params[2]);
      return download(release?.assets.find((a) => a.name === ctx.params[3]));
    }),
  ];
}
