import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { gitBlobSha, gitHubOpenApiStats, loadGitHubOpenApi } from './github-server.js';
import { assertNoViolations, assertRateHeaders, fakeFor, OWNER, plain, rejection, REPO } from './github-test-clients.js';

describe('fake GitHub server', () => {
  before(async () => {
    const started = performance.now();
    const stats = await loadGitHubOpenApi();
    // Reported in the test output: the one-off cost the first request of the process pays.
    console.log(
      `GitHub OpenAPI description: ${(stats.bytes / 1e6).toFixed(1)} MB, ${stats.operations} operations; ` +
        `loaded in ${Math.round(performance.now() - started)} ms (read ${stats.readMs}, parse ${stats.parseMs}, index ${stats.indexMs})`,
    );
  });

  it('creates, lists 250 issues in 3 pages, updates, closes with a reason and comments, within the schema', async (t) => {
    const fake = await fakeFor(t);
    const octokit = plain(fake);

    const first = await octokit.rest.issues.create({ owner: OWNER, repo: REPO, title: 'CVE-2024-0001 in rancher/fleet', body: 'first', labels: ['cve', 'severity/high'] });
    assert.equal(first.status, 201);
    assert.equal(first.data.number, 1);
    assert.equal(first.data.state, 'open');
    assert.deepEqual(
      first.data.labels.map((l) => (typeof l === 'string' ? l : l.name)),
      ['cve', 'severity/high'],
    );
    assert.equal(first.headers.location, first.data.url);
    for (let batch = 0; batch < 249; batch += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, 249 - batch) }, (_, i) =>
          octokit.rest.issues.create({ owner: OWNER, repo: REPO, title: `issue ${batch + i + 2}`, labels: (batch + i) % 2 === 0 ? ['cve'] : [] }),
        ),
      );
    }

    const listsBefore = fake.reads(/\/issues$/);
    const all = await octokit.paginate(octokit.rest.issues.listForRepo, { owner: OWNER, repo: REPO, state: 'all', per_page: 100 });
    assert.equal(all.length, 250);
    assert.equal(fake.reads(/\/issues$/) - listsBefore, 3, 'three list requests for 250 issues at 100 a page');
    assert.deepEqual(
      new Set(all.map((i) => i.number)).size,
      250,
    );
    assert.equal(all[0]!.number, 250, 'newest first, like GitHub');
    const page2 = fake.requests.filter((r) => r.path.endsWith('/issues') && r.method === 'GET')[1]!;
    assert.equal(page2.query.page, '2');

    const { headers } = await octokit.rest.issues.listForRepo({ owner: OWNER, repo: REPO, state: 'all', per_page: 100, page: 2 });
    assert.match(headers.link ?? '', /<[^>]*page=3[^>]*>; rel="next"/);
    assert.match(headers.link ?? '', /<[^>]*page=3[^>]*>; rel="last"/);
    assert.match(headers.link ?? '', /<[^>]*page=1[^>]*>; rel="prev"/);
    assert.match(headers.link ?? '', /<[^>]*page=1[^>]*>; rel="first"/);

    const withLabels = await octokit.paginate(octokit.rest.issues.listForRepo, { owner: OWNER, repo: REPO, labels: 'cve,severity/high', per_page: 100 });
    assert.deepEqual(
      withLabels.map((i) => i.number),
      [1],
    );
    assert.equal((await octokit.paginate(octokit.rest.issues.listForRepo, { owner: OWNER, repo: REPO, labels: 'CVE', per_page: 100 })).length, 126);

    const updated = await octokit.rest.issues.update({ owner: OWNER, repo: REPO, issue_number: 1, title: 'CVE-2024-0001 (2 images)', body: 'second', labels: ['cve'] });
    assert.equal(updated.data.title, 'CVE-2024-0001 (2 images)');
    assert.equal(updated.data.body, 'second');
    assert.deepEqual(
      updated.data.labels.map((l) => (typeof l === 'string' ? l : l.name)),
      ['cve'],
    );

    const closed = await octokit.rest.issues.update({ owner: OWNER, repo: REPO, issue_number: 1, state: 'closed', state_reason: 'not_planned' });
    assert.equal(closed.data.state, 'closed');
    assert.equal(closed.data.state_reason, 'not_planned');
    assert.ok(closed.data.closed_at);

    const comment = await octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: 'Fixed in v2.12.4' });
    assert.equal(comment.status, 201);
    const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner: OWNER, repo: REPO, issue_number: 1, per_page: 100 });
    assert.deepEqual(
      comments.map((c) => c.body),
      ['Fixed in v2.12.4'],
    );

    const got = await octokit.rest.issues.get({ owner: OWNER, repo: REPO, issue_number: 1 });
    assert.equal(got.data.comments, 1);
    assert.equal(got.data.state_reason, 'not_planned');
    const open = await octokit.paginate(octokit.rest.issues.listForRepo, { owner: OWNER, repo: REPO, per_page: 100 });
    assert.equal(open.length, 249, 'state defaults to open');

    const reopened = await octokit.rest.issues.update({ owner: OWNER, repo: REPO, issue_number: 1, state: 'open' });
    assert.equal(reopened.data.state_reason, 'reopened');
    assert.equal(reopened.data.closed_at, null);

    const missing = await rejection(octokit.rest.issues.get({ owner: OWNER, repo: REPO, issue_number: 999 }));
    assert.equal(missing.status, 404);

    assert.deepEqual(fake.issues(OWNER, REPO)[0], {
      number: 1,
      title: 'CVE-2024-0001 (2 images)',
      body: 'second',
      state: 'open',
      state_reason: 'reopened',
      labels: ['cve'],
      comments: ['Fixed in v2.12.4'],
      created_at: fake.issues(OWNER, REPO)[0]!.created_at,
      updated_at: fake.issues(OWNER, REPO)[0]!.updated_at,
      closed_at: null,
    });
    assert.equal(fake.writes(), 250 + 4);
    assertNoViolations(fake);
  });

  it('creates labels, answers 422 already_exists for a duplicate, and paginates them', async (t) => {
    const fake = await fakeFor(t);
    const octokit = plain(fake);

    const created = await octokit.rest.issues.createLabel({ owner: OWNER, repo: REPO, name: 'cve', color: 'd73a4a', description: 'A known vulnerability' });
    assert.equal(created.status, 201);
    assert.deepEqual({ name: created.data.name, color: created.data.color, description: created.data.description }, { name: 'cve', color: 'd73a4a', description: 'A known vulnerability' });

    const duplicate = await rejection(octokit.rest.issues.createLabel({ owner: OWNER, repo: REPO, name: 'CVE', color: '000000' }));
    assert.equal(duplicate.status, 422);
    assert.deepEqual(duplicate.response?.data, {
      message: 'Validation Failed',
      errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }],
      documentation_url: 'https://docs.github.com/rest/issues/labels#create-a-label',
      status: '422',
    });

    // An issue with unknown labels creates them, as GitHub does.
    await octokit.rest.issues.create({ owner: OWNER, repo: REPO, title: 't', labels: ['severity/critical', 'image/rancher-fleet'] });
    for (let i = 0; i < 3; i++) await octokit.rest.issues.createLabel({ owner: OWNER, repo: REPO, name: `release/v2.${i}`, color: 'ededed' });
    const listsBefore = fake.reads(/\/labels$/);
    const labels = await octokit.paginate(octokit.rest.issues.listLabelsForRepo, { owner: OWNER, repo: REPO, per_page: 2 });
    assert.equal(fake.reads(/\/labels$/) - listsBefore, 3);
    assert.deepEqual(
      labels.map((l) => l.name),
      ['cve', 'severity/critical', 'image/rancher-fleet', 'release/v2.0', 'release/v2.1', 'release/v2.2'],
    );
    assert.equal(labels[1]!.color, 'ededed');

    const issueLabels = await octokit.rest.issues.addLabels({ owner: OWNER, repo: REPO, issue_number: 1, labels: ['cve'] });
    assert.deepEqual(
      issueLabels.data.map((l) => l.name),
      ['severity/critical', 'image/rancher-fleet', 'cve'],
    );
    await octokit.rest.issues.removeLabel({ owner: OWNER, repo: REPO, issue_number: 1, name: 'severity/critical' });
    assert.deepEqual(fake.issues(OWNER, REPO)[0]!.labels, ['image/rancher-fleet', 'cve']);
    assertNoViolations(fake);
  });

  it('serves a release by tag and downloads its asset through the 302 like GitHub', async (t) => {
    const fake = await fakeFor(t);
    const octokit = plain(fake);
    const text = 'rancher/fleet:v0.10.4\nrancher/shell:v0.2.1\n';
    fake.addRelease('rancher', 'rancher', 'v2.12.3', { 'rancher-images.txt': text, 'rancher-windows-images.txt': 'rancher/wins:v0.4.20\n' });

    const { data: release } = await octokit.rest.repos.getReleaseByTag({ owner: 'rancher', repo: 'rancher', tag: 'v2.12.3' });
    assert.equal(release.tag_name, 'v2.12.3');
    assert.deepEqual(
      release.assets.map((a) => [a.name, a.size]),
      [
        ['rancher-images.txt', text.length],
        ['rancher-windows-images.txt', 21],
      ],
    );
    const asset = release.assets[0]!;
    const response = await octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
      owner: 'rancher',
      repo: 'rancher',
      asset_id: asset.id,
      headers: { accept: 'application/octet-stream' },
    });
    assert.equal(response.status, 200);
    assert.equal(Buffer.from(response.data as unknown as ArrayBuffer).toString('utf8'), text);
    assertRateHeaders(response.headers, 'asset download');
    assert.deepEqual(
      fake.requests.slice(-2).map((r) => [r.method, r.status]),
      [
        ['GET', 302],
        ['GET', 200],
      ],
    );

    // Without the octet-stream accept header the asset's metadata comes back.
    const meta = await octokit.rest.repos.getReleaseAsset({ owner: 'rancher', repo: 'rancher', asset_id: asset.id });
    assert.equal(meta.data.name, 'rancher-images.txt');
    assert.equal(meta.data.download_count, 1);
    // browser_download_url is served too.
    assert.equal(await (await fetch(meta.data.browser_download_url)).text(), text);

    const missing = await rejection(octokit.rest.repos.getReleaseByTag({ owner: 'rancher', repo: 'rancher', tag: 'v9.9.9' }));
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.response?.data, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name', status: '404' });
    assertNoViolations(fake);
  });

  it('reads and writes contents per branch with blob shas, 409 on a stale sha and 422 without one', async (t) => {
    const fake = await fakeFor(t);
    const octokit = plain(fake);
    const path = 'reports/cves-v2.12.3.csv';
    const v1 = 'image,cve\nrancher/fleet:v0.10.4,CVE-2024-0001\n';
    const gitSha = (s: string) => createHash('sha1').update(`blob ${Buffer.byteLength(s)}\0${s}`).digest('hex');

    fake.commitFile(OWNER, REPO, 'reports', 'README.md', 'report store\n');
    const created = await octokit.rest.repos.createOrUpdateFileContents({
      owner: OWNER,
      repo: REPO,
      path,
      branch: 'reports',
      message: 'Add v2.12.3 report',
      content: Buffer.from(v1).toString('base64'),
    });
    assert.equal(created.status, 201);
    assert.equal(created.data.content?.sha, gitSha(v1));
    assert.equal(gitBlobSha(v1), gitSha(v1));

    const read = await octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path, ref: 'reports' });
    assert.ok(!Array.isArray(read.data) && read.data.type === 'file');
    assert.equal(Buffer.from(read.data.content, 'base64').toString('utf8'), v1);
    assert.equal(read.data.sha, gitSha(v1));

    const v2 = `${v1}rancher/shell:v0.2.1,CVE-2024-0002\n`;
    const updated = await octokit.rest.repos.createOrUpdateFileContents({ owner: OWNER, repo: REPO, path, branch: 'reports', message: 'Update', content: Buffer.from(v2).toString('base64'), sha: read.data.sha });
    assert.equal(updated.status, 200);
    assert.equal(updated.data.content?.sha, gitSha(v2));

    // Someone commits in between: our sha is stale.
    const theirs = fake.commitFile(OWNER, REPO, 'reports', path, 'edited by a person\n');
    const conflict = await rejection(
      octokit.rest.repos.createOrUpdateFileContents({ owner: OWNER, repo: REPO, path, branch: 'reports', message: 'Update', content: Buffer.from('ours').toString('base64'), sha: gitSha(v2) }),
    );
    assert.equal(conflict.status, 409);
    assert.equal(fake.readFile(OWNER, REPO, 'reports', path), 'edited by a person\n');
    const noSha = await rejection(
      octokit.rest.repos.createOrUpdateFileContents({ owner: OWNER, repo: REPO, path, branch: 'reports', message: 'Update', content: Buffer.from('ours').toString('base64') }),
    );
    assert.equal(noSha.status, 422);
    const retried = await octokit.rest.repos.createOrUpdateFileContents({ owner: OWNER, repo: REPO, path, branch: 'reports', message: 'Merge', content: Buffer.from('merged\n').toString('base64'), sha: theirs.sha! });
    assert.equal(retried.status, 200);

    const listing = await octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: 'reports', ref: 'reports' });
    assert.ok(Array.isArray(listing.data));
    assert.deepEqual(
      listing.data.map((e) => [e.path, e.type]),
      [[path, 'file']],
    );
    // Branches are separate; the default branch never saw these files.
    assert.equal((await rejection(octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path }))).status, 404);
    assert.equal((await rejection(octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path, ref: 'nope' }))).status, 404);
    assert.deepEqual(
      fake.commits(OWNER, REPO, 'reports').map((c) => c.message),
      ['Update README.md', 'Add v2.12.3 report', 'Update', `Update ${path}`, 'Merge'],
    );

    await octokit.rest.repos.deleteFile({ owner: OWNER, repo: REPO, path, branch: 'reports', message: 'Remove', sha: gitSha('merged\n') });
    assert.deepEqual(fake.files(OWNER, REPO, 'reports'), ['README.md']);
    assertNoViolations(fake);
  });

  it('records a request that violates the OpenAPI description and answers 500 in strict mode', async (t) => {
    const fake = await fakeFor(t);
    const octokit = plain(fake);
    // GitHub accepts a string or an integer title; a boolean is neither.
    const error = await rejection(octokit.request('POST /repos/{owner}/{repo}/issues', { owner: OWNER, repo: REPO, title: true as unknown as string }));
    assert.equal(error.status, 500);
    assert.match(error.message, /POST \/repos\/\{owner\}\/\{repo\}\/issues request: body\/title must be string/);
    assert.equal(fake.violations.length, 1);
    assert.deepEqual(
      { method: fake.violations[0]!.method, path: fake.violations[0]!.path, route: fake.violations[0]!.route, where: fake.violations[0]!.where },
      { method: 'POST', path: `/repos/${OWNER}/${REPO}/issues`, route: '/repos/{owner}/{repo}/issues', where: 'request' },
    );
    assert.ok(fake.violations[0]!.errors.some((e) => e.instancePath === '/title'));
    assert.deepEqual(fake.issues(OWNER, REPO), [], 'the request was not applied');

    // Not strict: recorded, and the request goes through.
    const lenient = await fakeFor(t, { strict: false });
    const created = await plain(lenient).request('POST /repos/{owner}/{repo}/issues', { owner: OWNER, repo: REPO, title: 'x', labels: 'cve' as unknown as string[] });
    assert.equal(created.status, 201);
    assert.equal(lenient.violations.length, 1);
    assert.equal(lenient.violations[0]!.errors[0]!.instancePath, '/labels');
  });

  it('answers GitHub-shaped errors: 404 for unknown routes, 401 for writes without credentials', async (t) => {
    const fake = await fakeFor(t, { token: 'test-token' });
    const unknown = await fetch(`${fake.url}/repos/${OWNER}/${REPO}/no-such-thing`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    assertRateHeaders(Object.fromEntries(unknown.headers), 'unknown route');

    const anonymous = await rejection(plain(fake, null).rest.issues.create({ owner: OWNER, repo: REPO, title: 't' }));
    assert.equal(anonymous.status, 401);
    const wrong = await rejection(plain(fake, 'wrong-token').rest.issues.create({ owner: OWNER, repo: REPO, title: 't' }));
    assert.equal(wrong.status, 401);
    assert.match(wrong.message, /Bad credentials/);
    assertRateHeaders(wrong.response!.headers, '401');
    // Reads need no token.
    assert.equal((await plain(fake, null).rest.issues.listForRepo({ owner: OWNER, repo: REPO })).status, 200);
    assert.equal(fake.issues(OWNER, REPO).length, 0);
    assertNoViolations(fake);
  });

  it("enforces GitHub's length limits: 65536 characters of body, 256 of title, 50 of label name", async (t) => {
    const fake = await fakeFor(t);
    const octokit = plain(fake);
    const atLimit = 'é'.repeat(65_536); // characters, not bytes
    const created = await octokit.rest.issues.create({ owner: OWNER, repo: REPO, title: 't'.repeat(256), body: atLimit });
    assert.equal(created.status, 201);
    const tooLong = await rejection(octokit.rest.issues.update({ owner: OWNER, repo: REPO, issue_number: 1, body: `${atLimit}x` }));
    assert.equal(tooLong.status, 422);
    assert.deepEqual((tooLong.response?.data as { errors: unknown[] }).errors, [
      { resource: 'Issue', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' },
    ]);
    assert.equal(fake.issues(OWNER, REPO)[0]!.body, atLimit, 'a rejected update changes nothing');
    assert.equal((await rejection(octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: `${atLimit}x` }))).status, 422);
    assert.equal((await rejection(octokit.rest.issues.create({ owner: OWNER, repo: REPO, title: 't'.repeat(257) }))).status, 422);
    assert.equal((await rejection(octokit.rest.issues.createLabel({ owner: OWNER, repo: REPO, name: 'l'.repeat(51) }))).status, 422);
    assertNoViolations(fake);
  });

  it('loaded the OpenAPI description once and compiled validators on demand', async () => {
    const stats = await gitHubOpenApiStats();
    assert.ok(stats);
    assert.deepEqual(stats.compileErrors, []);
    assert.ok(stats.validators > 10);
    console.log(`OpenAPI validators: ${stats.validators} compiled in ${stats.compileMs} ms total, ${stats.componentSchemas} component schemas`);
  });
});
