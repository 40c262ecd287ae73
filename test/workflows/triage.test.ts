import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createGitHub } from '../../activities/github/github.js';
import { createActivities } from '../../activities/index.js';
import { GitHubReportStore } from '../../activities/store/github-report-store.js';
import { syncTriage } from '../../activities/triage/index.js';
import type { StoredReportHead } from '../../activities/report/stored-report.js';
import { storeKeys } from '../../activities/store/result-store.js';
import { startRun } from '../../client/scan.js';
import { issueTitle } from '../../core/issue-plan.js';
import { TriageCsv } from '../../core/triage-csv.js';
import type { RunSummary } from '../../core/run.js';
import { Harness, images } from '../helpers/harness.js';
import { createTestEnvironment, workflowBundle } from '../helpers/temporal.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-server.js';

// Triage from issue comments through whole weekly runs: a real Temporal server, real activities,
// the stub Trivy, and the fake GitHub holding the issues, the comments and the report repository.

let env: TestWorkflowEnvironment;

before(async () => {
  env = await createTestEnvironment();
  await workflowBundle();
});

after(async () => {
  await env?.teardown();
});

const TOKEN = 'ghp_TRIAGE_TEST_0123456789abcdefABCDEF';
const OWNER = 'rancher';
const ISSUES = 'cve-reports';
const DATA = 'cve-data';
const FOLDER = 'docs/_data';
const RELEASES = ['v2.9.0', 'v2.10.0'];

/** One product: the fake GitHub (with a clock tests move), a harness, and weekly runs of two releases sharing their images. */
class World {
  /** Offsets the fake GitHub's clock: comments, commits and edits get distinct, ordered times. */
  githubSkewMs = 0;
  /** The day reports are dated by; unset means the wall clock. */
  reportDay: Date | undefined;

  private constructor(
    readonly fake: FakeGitHub,
    readonly h: Harness,
    readonly list: string[],
  ) {}

  static async create(prefix: string, findings: number[]): Promise<World> {
    const clock = { world: undefined as World | undefined };
    const fake = await startFakeGitHub({ token: TOKEN, now: () => new Date(Date.now() + (clock.world?.githubSkewMs ?? 0)) });
    const h = await Harness.create();
    const list = images(prefix, 0, findings.length);
    await h.scenarios(Object.fromEntries(list.map((image, i) => [image, { synthetic: findings[i]! }])));
    const world = new World(fake, h, list);
    clock.world = world;
    fake.setCollaborator(OWNER, ISSUES, 'alice', 'write');
    fake.setCollaborator(OWNER, ISSUES, 'mallory', 'read');
    return world;
  }

  /** Moves the fake GitHub's clock on, so what happens next is strictly later (GitHub's times have whole seconds). */
  later(seconds = 60): void {
    this.githubSkewMs += seconds * 1000;
  }

  deps() {
    const github = createGitHub({ token: TOKEN, baseUrl: this.fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } });
    return {
      ...this.h.deps(),
      github,
      githubCanWrite: true,
      issueRepository: `${OWNER}/${ISSUES}`,
      reportStore: new GitHubReportStore(github, { owner: OWNER, repo: DATA }, 'main', FOLDER),
      now: () => this.reportDay ?? new Date(),
    };
  }

  /** `issues sync`: triage and the issues redrawn, without a scan. */
  sync() {
    return syncTriage(this.deps(), RELEASES);
  }

  async run(): Promise<RunSummary> {
    const deps = this.deps();
    const taskQueue = `test-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.client.options.namespace, taskQueue, workflowBundle: await workflowBundle(), activities: createActivities(deps) });
    const releases: { name: string; images: string }[] = [];
    for (const name of RELEASES) releases.push({ name, images: await this.h.writeList(`${name}.txt`, this.list) });
    const summary = await worker.runUntil(async () => (await startRun(env.client, { releases }, { taskQueue })).result());
    assert.deepEqual(
      summary.releases.map((r) => r.status),
      RELEASES.map(() => 'completed'),
    );
    return summary;
  }

  csvText(release: string): string {
    return this.fake.readFile(OWNER, DATA, 'main', `${FOLDER}/cves-${release}.csv`) ?? '';
  }

  rows(release: string, image: string) {
    return new TriageCsv(this.csvText(release), release).rowsOf(image);
  }

  /** The image's vulnerability ids, sorted, as the first release's CSV holds them. */
  ids(image: string): string[] {
    return [...new Set(this.rows(RELEASES[0]!, image).map((r) => r.vulnerabilityId))].sort();
  }

  issue(image: string) {
    const issue = this.fake.issues(OWNER, ISSUES).find((i) => i.title === issueTitle(image));
    assert.ok(issue, `an issue for ${image}`);
    return issue;
  }

  comment(image: string, body: string, user = 'alice') {
    return this.fake.addComment(OWNER, ISSUES, this.issue(image).number, body, user);
  }

  comments(image: string) {
    return this.fake.comments(OWNER, ISSUES, this.issue(image).number);
  }

  /** The bot's replies on the image's issue (its close comments aside). */
  replies(image: string) {
    return this.comments(image).filter((c) => c.user === 'fake-user' && c.body.includes('image-scanning:triage-reply'));
  }

  /** Commits of the report repository that changed the release's CSV from issue comments. */
  triageCommits(release: string) {
    return this.fake.commits(OWNER, DATA, 'main').filter((c) => c.paths.includes(`${FOLDER}/cves-${release}.csv`) && c.message.startsWith('Triage from issue comments'));
  }

  close() {
    return this.fake.close();
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('triage from issue comments in weekly runs', () => {
  it("a collaborator's ignore lands as state=ignore in every release's CSV with the note as written; the CVE leaves the issue, which closes when it was the last", async () => {
    const w = await World.create('tri-ig', [1, 2]);
    try {
      await w.run();
      const [single, double] = w.list as [string, string];
      const [only] = w.ids(single) as [string];
      const [first, second] = w.ids(double) as [string, string];
      assert.equal(w.issue(single).state, 'open');
      assert.ok(w.issue(double).body!.includes(first));

      w.later();
      const a = w.comment(single, `/cve ignore ${only} not reachable: the binary is never started`);
      const b = w.comment(double, `/cve ignore ${first} vendored copy, not linked`);
      w.later();
      const summary = await w.run();
      assert.equal(summary.triage?.applied, 2);

      for (const release of RELEASES) {
        const row = w.rows(release, single).find((r) => r.vulnerabilityId === only)!;
        assert.equal(row.triage.state, 'ignore', release);
        assert.match(row.triage.notes, new RegExp(`^ignore: not reachable: the binary is never started \\(@alice, \\d{4}-\\d{2}-\\d{2}, ${escape(a.url)}\\)$`));
        const other = w.rows(release, double);
        assert.equal(other.find((r) => r.vulnerabilityId === first)!.triage.state, 'ignore', release);
        assert.match(other.find((r) => r.vulnerabilityId === first)!.triage.notes, new RegExp(`^ignore: vendored copy, not linked \\(@alice, .*${escape(b.url)}\\)$`));
        assert.equal(other.find((r) => r.vulnerabilityId === second)!.triage.state, 'triaged', 'the other CVE is untouched');
      }
      assert.equal(w.issue(single).state, 'closed', 'its last CVE was ignored');
      const open = w.issue(double);
      assert.equal(open.state, 'open');
      assert.ok(!open.body!.includes(first), 'the ignored CVE left the open list');
      assert.ok(open.body!.includes(second));
      for (const image of w.list) assert.deepEqual(w.comments(image).find((c) => c.user === 'alice')!.reactions, [{ user: 'fake-user', content: '+1' }]);
      assert.deepEqual(w.replies(single), []);
      assert.deepEqual(w.fake.violations, []);
    } finally {
      await w.close();
    }
  });

  it('an ignore with until holds before its date and reopens the finding on it, as ignore_expires does', async () => {
    const w = await World.create('tri-until', [1]);
    try {
      w.reportDay = new Date('2027-02-27T12:00:00Z');
      await w.run();
      const [image] = w.list as [string];
      const [id] = w.ids(image) as [string];
      w.later();
      w.comment(image, `/cve ignore ${id} until 2027-03-01 fixed in the next base image`);
      w.later();
      await w.run();
      for (const release of RELEASES) {
        const row = w.rows(release, image)[0]!;
        assert.deepEqual([row.triage.state, row.triage.ignoreExpires], ['ignore', '2027-03-01'], release);
      }
      assert.equal(w.issue(image).state, 'closed', 'ignored until March');

      w.reportDay = new Date('2027-03-01T06:00:00Z');
      await w.run();
      const issue = w.issue(image);
      assert.equal(issue.state, 'open', 'the ignore expired on its date: the finding counts again');
      assert.ok(issue.body!.includes(id));
      const row = w.rows(RELEASES[0]!, image)[0]!;
      assert.deepEqual([row.triage.state, row.triage.ignoreExpires], ['ignore', '2027-03-01'], 'the CSV keeps what was written');
    } finally {
      await w.close();
    }
  });

  it("a reader's command changes nothing and is answered", async () => {
    const w = await World.create('tri-read', [2]);
    try {
      await w.run();
      const [image] = w.list as [string];
      const [id] = w.ids(image) as [string];
      const before = RELEASES.map((r) => w.rows(r, image));
      w.later();
      w.comment(image, `/cve ignore ${id} trust me @everyone`, 'mallory');
      w.later();
      const summary = await w.run();
      assert.equal(summary.triage?.applied, 0);
      assert.deepEqual(
        RELEASES.map((r) => w.rows(r, image)),
        before,
      );
      for (const release of RELEASES) assert.deepEqual(w.triageCommits(release), []);
      const replies = w.replies(image);
      assert.equal(replies.length, 1);
      assert.match(replies[0]!.body, /Only people with write, maintain or admin permission on this repository, or members of the triage team, can triage here, so nothing was changed/);
      assert.doesNotMatch(replies[0]!.body, /@everyone/);
      assert.deepEqual(w.comments(image).find((c) => c.user === 'mallory')!.reactions, []);
      assert.ok(w.issue(image).body!.includes(id), 'still listed');
    } finally {
      await w.close();
    }
  });

  it("a command for a CVE the image does not have is answered with the image's known ids (the first 20)", async () => {
    const w = await World.create('tri-unknown', [25]);
    try {
      await w.run();
      const [image] = w.list as [string];
      const known = w.ids(image);
      assert.equal(known.length, 25);
      w.later();
      w.comment(image, '/cve waiting CVE-1999-0001 upstream');
      w.later();
      await w.run();
      const replies = w.replies(image);
      assert.equal(replies.length, 1);
      assert.ok(replies[0]!.body.includes(`CVE-1999-0001 is not a finding of this image. Its known ids: ${known.slice(0, 20).join(', ')} (and 5 more)`), replies[0]!.body);
      for (const id of known.slice(20)) assert.ok(!replies[0]!.body.includes(id), `${id} is past the first 20`);
      for (const release of RELEASES) assert.deepEqual(w.triageCommits(release), []);
    } finally {
      await w.close();
    }
  });

  it('an activity retried after a crash between applying and reacting leaves one reaction and one CSV change', async () => {
    const w = await World.create('tri-crash', [2]);
    try {
      await w.run();
      const [image] = w.list as [string];
      const [id] = w.ids(image) as [string];
      w.later();
      const c = w.comment(image, `/cve waiting ${id} upstream fix in 1.2.3`);
      w.later();
      // The reaction is made, then every answer is lost (Octokit's three retries too): the attempt fails
      // after the CSVs were committed, and Temporal retries the activity.
      const fault = w.fake.inject({ kind: 'status', status: 500, afterApply: true, times: 4, match: { method: 'POST', path: new RegExp(`/issues/comments/${c.id}/reactions$`) } });
      const summary = await w.run();
      assert.equal(fault.hits, 4, 'the first attempt crashed on the reaction');
      assert.equal(w.fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/comments/${c.id}/reactions`)).length, 5, 'the retried attempt reacted again');
      assert.equal(summary.triage?.rowsChanged, 0, 'the attempt that finished found the rows already applied');
      for (const release of RELEASES) {
        assert.equal(w.triageCommits(release).length, 1, `${release}: one CSV change`);
        assert.equal(w.rows(release, image).find((r) => r.vulnerabilityId === id)!.triage.state, 'waiting');
      }
      assert.deepEqual(w.comments(image).find((x) => x.id === c.id)!.reactions, [{ user: 'fake-user', content: '+1' }]);
      assert.deepEqual(w.replies(image), []);
    } finally {
      await w.close();
    }
  });

  it('a CSV edit made after the comment wins and the reply says so; an edit made before a comment does not stop it', async () => {
    const w = await World.create('tri-wins', [3]);
    try {
      await w.run();
      const [image] = w.list as [string];
      const [x, y] = w.ids(image) as [string, string];
      const release = RELEASES[0]!;
      w.later();
      w.comment(image, `/cve waiting ${x} upstream`);
      w.later();
      // A person edits the rows of x and y in the CSV, after that comment.
      const path = `${FOLDER}/cves-${release}.csv`;
      const text = w.csvText(release);
      const edit = (t: string, id: string, state: string, notes: string) => t.replace(new RegExp(`^(${escape(image)},[^,]*,[^,]*,${id},.*?,)triaged,,`, 'm'), `$1${state},${notes},`);
      const edited = edit(edit(text, x, 'ignore', 'fixed in our fork'), y, 'waiting', 'vendor ticket 7');
      assert.notEqual(edited, text);
      w.fake.commitFile(OWNER, DATA, 'main', path, edited, 'triage by hand');
      w.later();
      // A comment made after the hand edit is applied over it.
      const late = w.comment(image, `/cve note ${y} checked again`);
      w.later();
      await w.run();
      const rows = w.rows(release, image);
      assert.deepEqual(rows.find((r) => r.vulnerabilityId === x)!.triage, { state: 'ignore', notes: 'fixed in our fork', ignoreExpires: '' }, 'the CSV stays the record');
      const yRow = rows.find((r) => r.vulnerabilityId === y)!.triage;
      assert.equal(yRow.state, 'waiting');
      assert.match(yRow.notes, new RegExp(`^vendor ticket 7\\nnote: checked again \\(@alice, .*${escape(late.url)}\\)$`));
      assert.equal(w.rows(RELEASES[1]!, image).find((r) => r.vulnerabilityId === x)!.triage.state, 'waiting', 'the release nobody edited takes the command');
      const replies = w.replies(image);
      assert.equal(replies.length, 1);
      assert.match(replies[0]!.body, new RegExp(`Some commands of .* were applied .*\\n\\n- line 1: the row of ${x} in ${escape(release)} was edited in the CSV after this comment was made; the CSV stays the record`));
    } finally {
      await w.close();
    }
  });
});

describe('issues sync (no scan)', () => {
  it('writes a decision into the CSVs and the issue table within minutes, and on an unchanged repository only reads', async () => {
    const w = await World.create('tri-sync', [2]);
    try {
      await w.run();
      const [image] = w.list as [string];
      const [x] = w.ids(image) as [string];
      w.later();
      const c = w.comment(image, `/cve waiting ${x} upstream fix in 1.2.3`);
      w.later();
      const synced = await w.sync();
      assert.equal(synced.triage.applied, 1);
      assert.equal(synced.issues?.update, 1);
      const row = w.issue(image).body!.split('\n').find((line) => line.includes(x));
      assert.ok(row, 'the CVE is still listed (waiting is not ignored)');
      assert.match(row, /\| waiting \|/, row);
      assert.ok(row.includes('waiting: upstream fix in 1.2.3 ('), row);
      for (const release of RELEASES) assert.equal(w.rows(release, image).find((r) => r.vulnerabilityId === x)!.triage.state, 'waiting');
      assert.deepEqual(w.comments(image).find((k) => k.id === c.id)!.reactions, [{ user: 'fake-user', content: '+1' }]);
      for (const release of RELEASES) {
        const stored = await w.deps().store.readJson<StoredReportHead>(storeKeys.latestReport(release));
        assert.deepEqual(stored?.summary.byState, { triaged: 1, waiting: 1 }, `${release}: the stored summary counts the new state`);
      }

      w.later();
      w.fake.clearLog();
      const again = await w.sync();
      assert.equal(again.triage.comments, 0);
      assert.equal(again.issues, undefined, 'nothing to redraw');
      assert.equal(w.fake.writes(), 0, 'an unchanged repository: no write');
      assert.deepEqual(
        w.fake.requests.map((r) => `${r.method} ${r.route}`),
        ['GET /repos/{owner}/{repo}/contents/{path}', 'GET /repos/{owner}/{repo}/issues/comments'],
        'the cursor (in the report repository) and the comments since it',
      );
    } finally {
      await w.close();
    }
  });

  it('reads an edited comment again, and a deleted one leaves its decision in place', async () => {
    const w = await World.create('tri-edit', [2]);
    try {
      await w.run();
      const [image] = w.list as [string];
      const [x] = w.ids(image) as [string];
      w.later();
      const c = w.comment(image, `/cve waiting ${x} upstream`);
      w.later();
      await w.sync();
      w.later();
      w.fake.editComment(OWNER, ISSUES, c.id, `/cve ignore ${x} fixed upstream, and our build never ships it`);
      w.later();
      const edited = await w.sync();
      assert.equal(edited.triage.applied, 1, 'the edit is read again');
      for (const release of RELEASES) {
        const row = w.rows(release, image).find((r) => r.vulnerabilityId === x)!.triage;
        assert.equal(row.state, 'ignore');
        assert.match(row.notes, new RegExp(`^ignore: fixed upstream, and our build never ships it \\(@alice, .*${escape(c.url)}\\)$`), 'the edit replaces the comment\'s own note line');
        assert.equal(w.triageCommits(release).length, 2);
      }
      assert.ok(!w.issue(image).body!.includes(x), 'ignored in every release: off the open list');
      assert.deepEqual(w.comments(image).find((k) => k.id === c.id)!.reactions, [{ user: 'fake-user', content: '+1' }]);

      const csvs = RELEASES.map((r) => w.csvText(r));
      w.later();
      w.fake.editComment(OWNER, ISSUES, c.id, null);
      w.later();
      const deleted = await w.sync();
      assert.equal(deleted.triage.rowsChanged, 0);
      assert.deepEqual(
        RELEASES.map((r) => w.csvText(r)),
        csvs,
        'the CSV keeps the decision',
      );
      await w.run();
      assert.equal(w.rows(RELEASES[0]!, image).find((r) => r.vulnerabilityId === x)!.triage.state, 'ignore', 'and the next weekly run too');
      assert.ok(!w.issue(image).body!.includes(x));
    } finally {
      await w.close();
    }
  });
});
