import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGitHub } from '../../../activities/github/github.js';
import { applyIssueTriage, TRIAGE_STATE_NAME } from '../../../activities/triage/index.js';
import { LocalReportStore } from '../../../activities/store/report-store.js';
import { TriageCsv } from '../../../core/triage-csv.js';
import { issueMarker } from '../../../core/render/markdown.js';
import { startFakeGitHub, type FakeGitHub } from '../../fakes/github-server.js';
import { tempDir } from '../../helpers/harness.js';

const OWNER = 'rancher';
const IMAGE = 'rancher/app:v1.0.0';
const HEADER = 'image,package_name,type,vulnerability_id,severity,url,patched_version,mirrored,state,notes,ignore_expires';
let fake: FakeGitHub;
let counter = 0;

before(async () => {
  fake = await startFakeGitHub({ token: 'test-token' });
});
after(() => fake.close());

async function setup(extraIds: string[] = []) {
  const repo = `issues-${++counter}`;
  const dir = await tempDir('triage-');
  const rows = (ids: string[]) => ids.map((id) => `${IMAGE},openssl,debian,${id},HIGH,,,false,triaged,,`).join('\n');
  await writeFile(join(dir, 'cves-v2.9.0.csv'), `${HEADER}\n${rows(['CVE-2024-1', 'CVE-2024-2', ...extraIds])}\n`);
  await writeFile(join(dir, 'cves-v2.10.0.csv'), `${HEADER}\n${rows(['CVE-2024-1'])}\n`);
  const issue = fake.addIssue(OWNER, repo, { title: `[CVE Report]: ${IMAGE}`, body: `${issueMarker(IMAGE)}\nbody`, labels: ['cve-report'] });
  fake.setCollaborator(OWNER, repo, 'alice', 'write');
  const github = createGitHub({ token: 'test-token', baseUrl: fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } });
  const deps = { reportsDir: dir, reportStore: new LocalReportStore(dir), github, githubCanWrite: true, issueRepository: `${OWNER}/${repo}`, triageTeam: 'rancher/security' };
  const pass = (refreshBaseline = false) => applyIssueTriage(deps, { releases: ['v2.9.0', 'v2.10.0'], refreshBaseline });
  const row = async (release: string, id: string) => new TriageCsv(await readFile(join(dir, `cves-${release}.csv`), 'utf8'), release).rowsOf(IMAGE).find((r) => r.vulnerabilityId === id)!.triage;
  const comments = () => fake.comments(OWNER, repo, issue.number);
  return { repo, dir, issue, pass, row, comments };
}

describe('triage from issue comments (fake GitHub)', () => {
  it("a collaborator's ignore lands in every release's CSV with the note, and is answered with one 👍", async () => {
    const t = await setup();
    const c = fake.addComment(OWNER, t.repo, t.issue.number, '/cve ignore CVE-2024-1 until 2027-03-01 not reachable from the API', 'alice');
    const result = await t.pass();
    assert.equal(result.applied, 1);
    for (const release of ['v2.9.0', 'v2.10.0']) {
      const row = await t.row(release, 'CVE-2024-1');
      assert.equal(row.state, 'ignore');
      assert.equal(row.ignoreExpires, '2027-03-01');
      assert.match(row.notes, new RegExp(`^ignore: not reachable from the API \\(@alice, \\d{4}-\\d{2}-\\d{2}, ${c.url.replace(/[.?#]/g, '\\$&')}\\)$`));
    }
    assert.equal((await t.row('v2.9.0', 'CVE-2024-2')).state, 'triaged');
    const [comment] = t.comments();
    assert.deepEqual(comment!.reactions, [{ user: 'fake-user', content: '+1' }]);
    assert.equal(t.comments().length, 1, 'no reply');

    fake.clearLog();
    const again = await t.pass();
    assert.equal(again.comments, 0);
    assert.equal(fake.writes(), 0, 'an unchanged repository: reads only');
    assert.equal(fake.violations.length, 0, fake.violations.map((v) => v.message).join('\n'));
  });

  it("a retried pass (crash before the cursor) leaves one reaction, one CSV change and one reply", async () => {
    const t = await setup();
    fake.addComment(OWNER, t.repo, t.issue.number, '/cve waiting CVE-2024-2 upstream fix in 1.2.3\n/cve note CVE-2099-9 unknown', 'alice');
    await t.pass();
    const csv = await readFile(join(t.dir, 'cves-v2.9.0.csv'), 'utf8');
    await rm(join(t.dir, TRIAGE_STATE_NAME));
    const retried = await t.pass();
    assert.equal(retried.rowsChanged, 0);
    assert.equal(await readFile(join(t.dir, 'cves-v2.9.0.csv'), 'utf8'), csv);
    const list = t.comments();
    assert.equal(list.length, 2, 'exactly one reply');
    assert.deepEqual(list[0]!.reactions, [{ user: 'fake-user', content: '+1' }]);
    assert.match(list[1]!.body, /CVE-2099-9 is not a finding of this image\. Its known ids: CVE-2024-1, CVE-2024-2/);
    assert.equal((await t.row('v2.9.0', 'CVE-2024-2')).state, 'waiting');
  });

  it("a reader's command changes nothing and is answered politely; a team member's is applied", async () => {
    const t = await setup();
    fake.addComment(OWNER, t.repo, t.issue.number, '/cve ignore CVE-2024-1 @everyone #1 <b>trust me</b>', 'mallory');
    const before = await readFile(join(t.dir, 'cves-v2.9.0.csv'), 'utf8');
    await t.pass();
    assert.equal(await readFile(join(t.dir, 'cves-v2.9.0.csv'), 'utf8'), before);
    const reply = t.comments()[1]!;
    assert.match(reply.body, /Only people with write, maintain or admin permission/);
    assert.doesNotMatch(reply.body, /@everyone|<b>/);
    fake.addTeamMember('rancher', 'security', 'bob');
    fake.addComment(OWNER, t.repo, t.issue.number, '/cve note CVE-2024-1 in v2.10.0 checked', 'bob');
    await t.pass();
    assert.match((await t.row('v2.10.0', 'CVE-2024-1')).notes, /^note: checked \(@bob/);
    assert.equal((await t.row('v2.9.0', 'CVE-2024-1')).notes, '');
  });

  it('an unknown id is answered with the first 20 known ids; a CSV edit made after the comment wins', async () => {
    const t = await setup(Array.from({ length: 30 }, (_, i) => `CVE-2025-${1000 + i}`));
    await t.pass(true); // a weekly run's pass sets the baseline
    fake.addComment(OWNER, t.repo, t.issue.number, '/cve ignore CVE-2030-1 why', 'alice');
    fake.addComment(OWNER, t.repo, t.issue.number, '/cve waiting CVE-2024-2 upstream', 'alice');
    // A person edits the same row in the CSV before the pass reads the comment.
    const path = join(t.dir, 'cves-v2.9.0.csv');
    await writeFile(path, (await readFile(path, 'utf8')).replace(`${IMAGE},openssl,debian,CVE-2024-2,HIGH,,,false,triaged,,`, `${IMAGE},openssl,debian,CVE-2024-2,HIGH,,,false,ignore,fixed in our fork,`));
    await t.pass();
    const replies = t.comments().filter((c) => c.user === 'fake-user');
    assert.equal(replies.length, 2);
    assert.match(replies[0]!.body, /\(and 12 more\)/);
    assert.match(replies[1]!.body, /edited in the CSV after this comment/);
    assert.deepEqual(await t.row('v2.9.0', 'CVE-2024-2'), { state: 'ignore', notes: 'fixed in our fork', ignoreExpires: '' });
  });

  it('reads again a comment edited in the same second as the pass that read it (GitHub times have whole seconds)', async () => {
    const frozen = await startFakeGitHub({ token: 'test-token', now: () => new Date('2026-12-05T10:00:00Z') });
    try {
      const dir = await tempDir('triage-');
      await writeFile(join(dir, 'cves-v2.9.0.csv'), `${HEADER}\n${IMAGE},openssl,debian,CVE-2024-1,HIGH,,,false,triaged,,\n`);
      const issue = frozen.addIssue(OWNER, 'same-second', { title: `[CVE Report]: ${IMAGE}`, body: `${issueMarker(IMAGE)}\nbody`, labels: ['cve-report'] });
      frozen.setCollaborator(OWNER, 'same-second', 'alice', 'write');
      const github = createGitHub({ token: 'test-token', baseUrl: frozen.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } });
      const deps = { reportsDir: dir, reportStore: new LocalReportStore(dir), github, githubCanWrite: true, issueRepository: `${OWNER}/same-second` };
      const c = frozen.addComment(OWNER, 'same-second', issue.number, '/cve waiting CVE-2024-1 upstream\n/cve note CVE-2099-1 x', 'alice');
      await applyIssueTriage(deps, { releases: ['v2.9.0'] });
      frozen.editComment(OWNER, 'same-second', c.id, '/cve note CVE-2024-1 not affected after all\n/cve note CVE-2099-2 y');
      const again = await applyIssueTriage(deps, { releases: ['v2.9.0'] });
      assert.equal(again.applied, 1, 'the edit is new although updated_at did not move');
      const row = new TriageCsv(await readFile(join(dir, 'cves-v2.9.0.csv'), 'utf8'), 'v2.9.0').rowsOf(IMAGE)[0]!.triage;
      assert.match(row.notes, /^note: not affected after all \(@alice/);
      const replies = frozen.comments(OWNER, 'same-second', issue.number).filter((k) => k.user === 'fake-user');
      assert.equal(replies.length, 2, 'the edit is answered too');
      assert.match(replies[0]!.body, /CVE-2099-1 is not a finding/);
      assert.match(replies[1]!.body, /CVE-2099-2 is not a finding/);
      // The next pass meets only the bot's own second reply (posted after the listing), and answers nothing.
      const third = await applyIssueTriage(deps, { releases: ['v2.9.0'] });
      assert.deepEqual([third.comments, third.applied, third.replied, third.rowsChanged], [1, 0, 0, 0]);
      assert.equal((await applyIssueTriage(deps, { releases: ['v2.9.0'] })).comments, 0, 'and then every version is remembered');
      assert.equal(frozen.comments(OWNER, 'same-second', issue.number).filter((k) => k.user === 'fake-user').length, 2);
    } finally {
      await frozen.close();
    }
  });
});
