import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGitHub, type GitHubClient } from '../../../activities/github/github.js';
import { publishSiteToGitHub } from '../../../activities/site/publish-site-to-github.js';
import { startFakeGitHub, type FakeGitHub } from '../../fakes/github-server.js';

let fake: FakeGitHub;
let dir: string;

before(async () => {
  fake = await startFakeGitHub();
  dir = await mkdtemp(join(tmpdir(), 'site-publisher-'));
});

after(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

const OWNER = 'rancher';
const BRANCH = 'gh-pages';
const FOLDER = 'site';

function client(): GitHubClient {
  return createGitHub({ token: 'test-token', baseUrl: fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } });
}

/** A small generated site: pages, a CSV, a nested folder and `.nojekyll`. */
async function writeSite(site: string, files: Record<string, string>): Promise<void> {
  await rm(site, { recursive: true, force: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(site, path, '..'), { recursive: true });
    await writeFile(join(site, path), text);
  }
}

const SITE: Record<string, string> = {
  'index.html': '<h1>CVEs</h1>',
  'images.html': '<h1>Images</h1>',
  'release-v2.9.0.html': '<h1>v2.9.0</h1>',
  'cves-v2.9.0.csv': 'image,cve\nrancher/fleet:v0.9.6,CVE-2024-1\n',
  'assets/css/site.css': 'body { margin: 0 }\n',
  '.nojekyll': '',
};

describe('publishing the site to a GitHub branch', () => {
  it('commits the whole site once, then nothing when unchanged, then changes and deletions in one commit', async () => {
    const repo = 'pages-a';
    const site = join(dir, 'a');
    await writeSite(site, SITE);
    const github = client();
    const target = { owner: OWNER, repo, branch: BRANCH, folder: FOLDER };

    const first = await publishSiteToGitHub(github, target, site, 'Publish the CVE site');
    assert.ok(first.commit);
    assert.equal(first.files, 6);
    assert.equal(first.changed, 6);
    assert.equal(fake.commits(OWNER, repo, BRANCH).length, 1);
    assert.equal(fake.commits(OWNER, repo, BRANCH)[0]!.sha, first.commit);
    for (const [path, text] of Object.entries(SITE)) assert.equal(fake.readFile(OWNER, repo, BRANCH, `${FOLDER}/${path}`), text, path);
    assert.deepEqual(fake.files(OWNER, repo, BRANCH), Object.keys(SITE).map((p) => `${FOLDER}/${p}`).sort());
    // The contents API sees the same branch.
    const { data } = await github.rest.repos.getContent({ owner: OWNER, repo, path: `${FOLDER}/assets/css/site.css`, ref: BRANCH });
    assert.ok(!Array.isArray(data) && data.type === 'file');
    assert.equal(Buffer.from(data.content, 'base64').toString('utf8'), SITE['assets/css/site.css']);

    const writes = fake.writes();
    const again = await publishSiteToGitHub(github, target, site, 'Publish the CVE site');
    assert.deepEqual(again, { commit: undefined, changed: 0, files: 6 });
    assert.equal(fake.commits(OWNER, repo, BRANCH).length, 1);
    assert.equal(fake.writes(), writes, 'an unchanged site writes nothing');

    const { 'images.html': _removed, ...rest } = SITE;
    await writeSite(site, { ...rest, 'index.html': '<h1>CVEs, week 2</h1>' });
    fake.clearLog();
    const third = await publishSiteToGitHub(github, target, site, 'Publish the CVE site');
    assert.ok(third.commit);
    assert.equal(third.changed, 2);
    assert.equal(fake.writes(/\/git\/blobs$/), 1, 'only the changed file is uploaded');
    const commits = fake.commits(OWNER, repo, BRANCH);
    assert.equal(commits.length, 2);
    assert.deepEqual([...commits[1]!.paths].sort(), [`${FOLDER}/images.html`, `${FOLDER}/index.html`]);
    assert.equal(fake.readFile(OWNER, repo, BRANCH, `${FOLDER}/images.html`), undefined);
    assert.equal(fake.readFile(OWNER, repo, BRANCH, `${FOLDER}/index.html`), '<h1>CVEs, week 2</h1>');
    assert.equal(fake.readFile(OWNER, repo, BRANCH, `${FOLDER}/.nojekyll`), '');
    assert.deepEqual(fake.violations, []);
  });

  it('keeps files outside the folder and creates a missing branch from the default branch', async () => {
    const repo = 'pages-b';
    const site = join(dir, 'b');
    await writeSite(site, SITE);
    fake.commitFile(OWNER, repo, 'main', 'README.md', '# reports\n');
    fake.commitFile(OWNER, repo, 'main', `${FOLDER}/old.html`, 'stale');
    const result = await publishSiteToGitHub(client(), { owner: OWNER, repo, branch: BRANCH, folder: `/${FOLDER}/` }, site, 'Publish');
    assert.ok(result.commit);
    assert.equal(result.changed, 7);
    assert.equal(fake.readFile(OWNER, repo, BRANCH, 'README.md'), '# reports\n');
    assert.equal(fake.readFile(OWNER, repo, BRANCH, `${FOLDER}/old.html`), undefined);
    assert.equal(fake.readFile(OWNER, repo, 'main', `${FOLDER}/old.html`), 'stale', 'the default branch is left alone');
    assert.equal(fake.commits(OWNER, repo, BRANCH).length, 3);
    assert.deepEqual(fake.violations, []);
  });

  it('redoes the commit on top of a commit pushed between its read and its ref update', async () => {
    const repo = 'pages-c';
    const site = join(dir, 'c');
    await writeSite(site, SITE);
    fake.commitFile(OWNER, repo, BRANCH, 'CNAME', 'cves.example.org\n', 'set the domain');
    const github = client();
    let injected = 0;
    github.hook.before('request', (options) => {
      if (injected === 0 && options.method === 'PATCH' && /\/git\/refs\//.test(options.url)) {
        injected++;
        fake.commitFile(OWNER, repo, BRANCH, 'other/notes.md', 'pushed meanwhile\n', 'someone else pushes');
      }
    });
    fake.clearLog();

    const result = await publishSiteToGitHub(github, { owner: OWNER, repo, branch: BRANCH, folder: FOLDER }, site, 'Publish');
    assert.equal(injected, 1);
    assert.ok(result.commit);
    const patches = fake.requests.filter((r) => r.method === 'PATCH' && /\/git\/refs\//.test(r.path));
    assert.deepEqual(
      patches.map((r) => r.status),
      [422, 200],
      'the first ref update is refused as not a fast-forward, the redone one goes through',
    );
    assert.equal(fake.writes(/\/git\/blobs$/), 6, 'blobs are uploaded once, not again on the retry');
    const commits = fake.commits(OWNER, repo, BRANCH);
    assert.deepEqual(
      commits.map((c) => c.message),
      ['set the domain', 'someone else pushes', 'Publish'],
    );
    assert.equal(commits.at(-1)!.sha, result.commit);
    assert.equal(fake.readFile(OWNER, repo, BRANCH, 'other/notes.md'), 'pushed meanwhile\n');
    assert.equal(fake.readFile(OWNER, repo, BRANCH, 'CNAME'), 'cves.example.org\n');
    for (const [path, text] of Object.entries(SITE)) assert.equal(fake.readFile(OWNER, repo, BRANCH, `${FOLDER}/${path}`), text, path);
    assert.deepEqual(fake.violations, []);
  });
});
