import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createGitHub, type GitHubClient } from '../../../activities/github/github.js';
import type { ActivityDeps } from '../../../activities/index.js';
import { reconcileReports } from '../../../activities/issues/reconcile-issues.js';
import { FolderResultStore } from '../../../activities/store/result-store.js';
import { issueMarker } from '../../../core/render/markdown.js';
import type { ReleaseReport } from '../../../core/triage.js';
import { startFakeGitHub, type FakeGitHub } from '../../fakes/github-server.js';
import { finding, ignoreRow, releaseReport } from '../../helpers/reports.js';
import { tempDir } from '../../helpers/harness.js';

const OWNER = 'rancher';
const REPO = 'cve-reports';

let fake: FakeGitHub;

before(async () => {
  fake = await startFakeGitHub();
});

after(async () => {
  await fake.close();
});

let repoCounter = 0;
let repo = REPO;

beforeEach(() => {
  // A fresh repository per test: the fake keeps state per owner/name.
  repo = `${REPO}-${++repoCounter}`;
  fake.clearLog();
  fake.clearFaults();
  fake.faultRate(0);
});

function github(): GitHubClient {
  return createGitHub({ token: 'test-token', baseUrl: fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 }, rateLimitRetries: 5 });
}

async function deps(client: GitHubClient = github()): Promise<ActivityDeps> {
  const dir = await tempDir('reconcile-');
  return {
    store: new FolderResultStore(join(dir, 'data')),
    reportsDir: join(dir, 'reports'),
    trivy: { bin: 'trivy', cacheDir: dir, cacheBackend: 'memory', timeoutSeconds: 1, severities: [], rateLimitBackoffSeconds: 1, heartbeatSeconds: 1 },
    github: client,
    githubCanWrite: true,
    issueRepository: `${OWNER}/${repo}`,
  };
}

/** Runs reconciliation the way Temporal would: each failed attempt is retried, with a fresh plan. */
async function reconcileWithRetries(d: ActivityDeps, reports: ReleaseReport[], attempts = 15) {
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return { result: await reconcileReports(d, reports, { apply: true }), attempts: i + 1 };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

const issues = () => fake.issues(OWNER, repo);
const openIssues = () => issues().filter((i) => i.state === 'open');

function images(n: number, changedEvery = 0, run = 0): ReleaseReport {
  const scans: Record<string, ReturnType<typeof finding>[]> = {};
  for (let i = 0; i < n; i++) {
    const image = `rancher/app-${i}:v1.0.${i}`;
    const changed = changedEvery > 0 && i % changedEvery === 0 && run > 0;
    scans[image] = [finding(image, `CVE-2024-${1000 + i}`, i % 7 === 0 ? 'CRITICAL' : 'HIGH'), ...(changed ? [finding(image, `CVE-2025-${run}${i}`, 'MEDIUM')] : [])];
  }
  return releaseReport('v2.9.0', scans);
}

describe('issue reconciliation against the fake GitHub', () => {
  it('creates one issue per affected image with its labels, then makes no write when nothing changed', async () => {
    const d = await deps();
    const report = releaseReport('v2.9.0', {
      'rancher/fleet:v0.9.6': [finding('rancher/fleet:v0.9.6', 'CVE-2024-1', 'CRITICAL')],
      'rancher/mirrored-pause:3.6': [finding('rancher/mirrored-pause:3.6', 'CVE-2024-2', 'LOW')],
      'rancher/shell:v0.1.6': 'clean',
    });
    const beats: { done: number; total: number }[] = [];
    const first = await reconcileReports(d, [report], { apply: true, heartbeat: (p) => beats.push({ done: p.done, total: p.total }) });
    assert.equal(first.applied, true);
    assert.equal(first.create, 2);
    // The heartbeats say how far the writes are, which the Web UI and `followRun` show.
    assert.deepEqual(beats, [{ done: 0, total: 2 }, { done: 1, total: 2 }, { done: 2, total: 2 }]);
    const created = issues();
    assert.deepEqual(created.map((i) => i.title).sort(), ['[CVE Report]: rancher/fleet:v0.9.6', '[CVE Report]: rancher/mirrored-pause:3.6']);
    const fleet = created.find((i) => i.title.endsWith('fleet:v0.9.6'))!;
    assert.deepEqual([...fleet.labels].sort(), ['critical-cves', 'cve-report', 'release/v2.9.0']);
    const pause = created.find((i) => i.title.endsWith('pause:3.6'))!;
    assert.deepEqual([...pause.labels].sort(), ['cve-report', 'mirrored-image', 'release/v2.9.0']);
    assert.ok(fleet.body!.includes(issueMarker('rancher/fleet:v0.9.6')));
    const labels = fake.labels(OWNER, repo);
    assert.ok(labels.every((l) => /^[0-9a-f]{6}$/.test(l.color) && l.description), 'labels are created with a colour and description');
    const links = JSON.parse(await readFile(join(d.reportsDir, 'issue-links.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(links).sort(), ['rancher/fleet:v0.9.6', 'rancher/mirrored-pause:3.6']);

    fake.clearLog();
    const second = await reconcileReports(d, [report], { apply: true });
    assert.equal(second.unchanged, 2);
    assert.equal(fake.writes(), 0, 'an unchanged run writes nothing');
    assert.deepEqual(fake.violations, []);
  });

  it('adopts an issue made by the old system instead of creating a second one, and leaves foreign labels alone', async () => {
    const d = await deps();
    const legacy = fake.addIssue(OWNER, repo, { title: '[CVE Report]: rancher/fleet:v0.9.6', body: 'old table', labels: ['cve-report', 'critical-cves', 'team/fleet'] });
    const report = releaseReport('v2.9.0', { 'rancher/fleet:v0.9.6': [finding('rancher/fleet:v0.9.6', 'CVE-2024-1', 'HIGH')] });
    const result = await reconcileReports(d, [report], { apply: true });
    assert.equal(result.create, 0);
    assert.equal(result.update, 1);
    const [only] = issues();
    assert.equal(issues().length, 1);
    assert.equal(only!.number, legacy.number);
    assert.deepEqual([...only!.labels].sort(), ['cve-report', 'release/v2.9.0', 'team/fleet'], 'critical-cves dropped, team/fleet kept');
    assert.deepEqual(fake.violations, []);
  });

  it('closes with a comment when the CVEs are gone, reopens when they return, and never touches a failed scan', async () => {
    const d = await deps();
    const image = 'rancher/fleet:v0.9.6';
    await reconcileReports(d, [releaseReport('v2.9.0', { [image]: [finding(image, 'CVE-2024-1')], 'rancher/gone:v1': [finding('rancher/gone:v1', 'CVE-2024-9')] })], { apply: true });

    const failedRun = await reconcileReports(d, [releaseReport('v2.9.0', { [image]: 'failed', 'rancher/gone:v1': 'failed' })], { apply: true });
    assert.equal(failedRun.close, 0);
    assert.equal(failedRun.held, 2);
    assert.equal(openIssues().length, 2);

    const ignoredRun = releaseReport('v2.9.0', { [image]: [finding(image, 'CVE-2024-1')], 'rancher/gone:v1': 'clean' }, [ignoreRow(image, 'CVE-2024-1')]);
    const closed = await reconcileReports(d, [ignoredRun], { apply: true });
    assert.equal(closed.close, 2, 'fixed and ignored-everywhere images are closed');
    assert.equal(openIssues().length, 0);
    assert.ok(issues().every((i) => i.comments.length === 1 && i.state_reason === 'completed'));

    const back = await reconcileReports(d, [releaseReport('v2.9.0', { [image]: [finding(image, 'CVE-2024-1'), finding(image, 'CVE-2024-7')] })], { apply: true });
    assert.equal(back.reopen, 1);
    assert.deepEqual(openIssues().map((i) => i.title), [`[CVE Report]: ${image}`]);
    assert.deepEqual(fake.violations, []);
  });

  it('converges with 20% injected faults: no duplicate issue, no lost update', async () => {
    const d = await deps();
    fake.faultRate(0.2, 7);
    const firstRun = images(30);
    const { attempts } = await reconcileWithRetries(d, [firstRun]);
    // With one request in five failing, a first run of 30 creates cannot get through in one attempt.
    assert.ok(attempts > 1, `converged after ${attempts} attempts`);
    const changedRun = images(30, 3, 1);
    await reconcileWithRetries(d, [changedRun]);
    fake.faultRate(0);
    const all = issues();
    assert.equal(all.length, 30, 'exactly one issue per image');
    assert.equal(new Set(all.map((i) => i.title)).size, 30);
    const changed = all.filter((i) => /CVE-2025-1/.test(i.body ?? ''));
    assert.equal(changed.length, 10, 'every update landed');
    assert.ok(fake.requests.some((r) => r.fault), 'faults were injected');
    fake.clearLog();
    const settled = await reconcileReports(d, [changedRun], { apply: true });
    assert.equal(settled.unchanged, 30);
    assert.equal(fake.writes(), 0);
    assert.deepEqual(fake.violations, []);
  });

  it('leaves exactly one issue when the activity dies between creating an issue and returning', async () => {
    const client = github();
    let creates = 0;
    client.hook.after('request', (_response, options) => {
      if (options.method === 'POST' && /\/issues$/.test(options.url) && ++creates === 1) throw new Error('worker killed right after the create');
    });
    const d = await deps(client);
    const report = images(3);
    await assert.rejects(reconcileReports(d, [report], { apply: true }), /worker killed/);
    assert.equal(issues().length, 1, 'the first create reached GitHub');
    const retry = await reconcileReports(d, [report], { apply: true });
    assert.equal(retry.create, 2, 'the retry creates only the two missing issues');
    assert.equal(issues().length, 3);
    assert.equal(new Set(issues().map((i) => i.title)).size, 3);
  });

  it('without a token writes the plan and changes nothing', async () => {
    const d = await deps(createGitHub({ baseUrl: fake.url, retryAfterBaseValue: 1 }));
    d.githubCanWrite = false;
    const result = await reconcileReports(d, [images(4)], { apply: true });
    assert.equal(result.applied, false);
    assert.equal(result.create, 4);
    assert.equal(fake.writes(), 0);
    const plan = JSON.parse(await readFile(join(d.reportsDir, 'issue-plan.json'), 'utf8')) as { changes: { action: string }[] };
    assert.equal(plan.changes.length, 4);
    assert.match(await readFile(join(d.reportsDir, 'issue-plan.md'), 'utf8'), /4 to create/);
  });

  it('counts requests for 500 images: first run, unchanged re-run, 10% changed', async (t) => {
    const d = await deps();
    const measure = async (report: ReleaseReport) => {
      fake.clearLog();
      const result = await reconcileReports(d, [report], { apply: true });
      return { reads: fake.reads(), writes: fake.writes(), result };
    };
    const first = await measure(images(500));
    const unchanged = await measure(images(500));
    const changed = await measure(images(500, 10, 1));
    t.diagnostic(`500 images, first run: ${first.reads} reads, ${first.writes} writes (${first.result.create} issues + ${first.writes - first.result.create} labels)`);
    t.diagnostic(`500 images, unchanged re-run: ${unchanged.reads} reads, ${unchanged.writes} writes`);
    t.diagnostic(`500 images, 10% changed: ${changed.reads} reads, ${changed.writes} writes (${changed.result.update} updates)`);
    const labelCount = fake.labels(OWNER, repo).length;
    assert.equal(first.writes, 500 + labelCount, 'one write per created issue plus each label once');
    assert.equal(unchanged.writes, 0);
    assert.equal(changed.writes, 50);
    assert.equal(changed.result.update, 50);
    assert.ok(unchanged.reads <= 7, `${unchanged.reads} reads: about one per 100 issues plus labels`);
    assert.deepEqual(fake.violations, []);
  });
});
