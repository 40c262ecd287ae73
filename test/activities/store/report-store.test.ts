import assert from 'node:assert/strict';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGitHub } from '../../../activities/github/github.js';
import { composeReleaseReport } from '../../../activities/report/compose-release-report.js';
import { GitHubReportStore } from '../../../activities/store/github-report-store.js';
import { LocalReportStore, type ReportStore } from '../../../activities/store/report-store.js';
import { buildImageRecords, parseImageList } from '../../../core/image-list.js';
import { parseReportCsv, renderReportCsv } from '../../../core/render/csv.js';
import type { ImageScan } from '../../../core/scan.js';
import { startFakeGitHub, type FakeGitHub } from '../../fakes/github-server.js';
import { finding, releaseReport } from '../../helpers/reports.js';
import { tempDir } from '../../helpers/harness.js';

let fake: FakeGitHub;

before(async () => {
  fake = await startFakeGitHub();
});

after(async () => {
  await fake.close();
});

const OWNER = 'rancher';
const REPO = 'image-scanning-reports';
const BRANCH = 'main';
const PATH = 'docs/_data/cves-v2.9.0.csv';

/** Lets a test act between the activity's read and its write, as a person committing would. */
function interleave(store: ReportStore, beforeFirstWrite: () => void): ReportStore {
  let done = false;
  return {
    description: store.description,
    read: (name) => store.read(name),
    write: (name, text, version, message) => {
      if (!done) {
        done = true;
        beforeFirstWrite();
      }
      return store.write(name, text, version, message);
    },
  };
}

describe('the GitHub report store', () => {
  it('keeps a human edit committed between read and write, and the new scan results', async () => {
    const a = 'rancher/fleet:v0.9.6';
    const b = 'rancher/shell:v0.1.6';
    // Last week's report, already in the repository.
    const lastWeek = renderReportCsv(releaseReport('v2.9.0', { [a]: [finding(a, 'CVE-2024-1')], [b]: [finding(b, 'CVE-2024-2')] }));
    fake.commitFile(OWNER, REPO, BRANCH, PATH, lastWeek);
    // Meanwhile someone triages CVE-2024-2 (the run has already read the file).
    const edited = lastWeek.replace(/(rancher\/shell:v0\.1\.6,openssl,debian,CVE-2024-2,HIGH,[^,]*,[^,]*,false,)triaged,,/, '$1ignore,"not reachable, see rancher/rancher#123",');
    assert.notEqual(edited, lastWeek);

    const github = createGitHub({ token: 'test-token', baseUrl: fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } });
    const store = interleave(new GitHubReportStore(github, { owner: OWNER, repo: REPO }, BRANCH, 'docs/_data'), () => {
      fake.commitFile(OWNER, REPO, BRANCH, PATH, edited, 'triage CVE-2024-2');
    });
    const images = buildImageRecords({ images: parseImageList(`${a}\n${b}\n`, 'images.txt') });
    const scans = new Map<string, ImageScan>([
      [a, { image: a, outcome: 'findings', osScanned: true, findings: [finding(a, 'CVE-2024-1'), finding(a, 'CVE-2024-3', 'CRITICAL')] }],
      [b, { image: b, outcome: 'findings', osScanned: true, findings: [finding(b, 'CVE-2024-2')] }],
    ]);
    const composed = await composeReleaseReport({ release: 'v2.9.0', images, scans, store, today: '2026-11-29', message: 'CVE report for v2.9.0' });
    assert.equal(composed.conflicts, 1, 'the first write was refused and the merge redone');

    const final = parseReportCsv(fake.readFile(OWNER, REPO, BRANCH, PATH)!, PATH);
    const triaged = final.find((r) => r.vulnerabilityId === 'CVE-2024-2')!;
    assert.equal(triaged.state, 'ignore');
    assert.equal(triaged.notes, 'not reachable, see rancher/rancher#123');
    assert.ok(final.some((r) => r.vulnerabilityId === 'CVE-2024-3'), 'the new finding is there too');
    assert.equal(fake.commits(OWNER, REPO, BRANCH).filter((c) => /CVE report/.test(c.message)).length, 1, 'one commit by the run');
    assert.deepEqual(fake.violations, []);

    // The same scans again: nothing changes, so nothing is committed.
    const commits = fake.commits(OWNER, REPO, BRANCH).length;
    await composeReleaseReport({ release: 'v2.9.0', images, scans, store, today: '2026-11-30', message: 'CVE report for v2.9.0' });
    assert.equal(fake.commits(OWNER, REPO, BRANCH).length, commits);
  });

  it('reads a report over 1 MB, which the contents API sends without content, and keeps its notes', async () => {
    const path = 'docs/_data/cves-v2.12.0.csv';
    const images = Array.from({ length: 80 }, (_, i) => `rancher/big-${i}:v1.0.${i}`);
    const byImage = Object.fromEntries(images.map((image) => [image, Array.from({ length: 60 }, (_, j) => finding(image, `CVE-2024-${1000 + j}`))]));
    const lastWeek = renderReportCsv(releaseReport('v2.12.0', byImage));
    // A person's note on the last row, so a read that saw only part of the file would lose it.
    const noted = lastWeek.replace(/(rancher\/big-9:v1\.0\.9,openssl,debian,CVE-2024-1059,HIGH,[^,]*,[^,]*,false,)triaged,,/, '$1waiting,"upstream fix in 3.0.14, see rancher/rancher#77",');
    assert.notEqual(noted, lastWeek);
    assert.ok(Buffer.byteLength(noted) > 1024 * 1024, `the report is ${Buffer.byteLength(noted)} bytes`);
    fake.commitFile(OWNER, REPO, BRANCH, path, noted);

    const github = createGitHub({ token: 'test-token', baseUrl: fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } });
    const store = new GitHubReportStore(github, { owner: OWNER, repo: REPO }, BRANCH, 'docs/_data');
    assert.equal((await store.read('cves-v2.12.0.csv'))?.text, noted, 'the whole file, byte for byte');

    const records = buildImageRecords({ images: parseImageList(images.join('\n'), 'images.txt') });
    const scans = new Map<string, ImageScan>(images.map((image) => [image, { image, outcome: 'findings', osScanned: true, findings: byImage[image]! }]));
    await composeReleaseReport({ release: 'v2.12.0', images: records, scans, store, today: '2026-11-29', message: 'CVE report for v2.12.0' });
    const row = parseReportCsv(fake.readFile(OWNER, REPO, BRANCH, path)!, path).find((r) => r.image === 'rancher/big-9:v1.0.9' && r.vulnerabilityId === 'CVE-2024-1059');
    assert.equal(row?.state, 'waiting');
    assert.equal(row?.notes, 'upstream fix in 3.0.14, see rancher/rancher#77');
    assert.deepEqual(fake.violations, []);
  });

  it("tells when a file last changed: the newest commit touching it (commits API by path), not the branch's", async () => {
    let clock = Date.parse('2026-12-01T10:00:00Z');
    const timed = await startFakeGitHub({ now: () => new Date(clock) });
    try {
      const github = createGitHub({ token: 'test-token', baseUrl: timed.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } });
      const store = new GitHubReportStore(github, { owner: OWNER, repo: REPO }, BRANCH, 'docs/_data');
      timed.commitFile(OWNER, REPO, BRANCH, PATH, 'a\n');
      clock += 3_600_000;
      timed.commitFile(OWNER, REPO, BRANCH, 'docs/_data/cves-v2.10.0.csv', 'b\n');
      clock += 3_600_000;
      await store.write('triage-state.json', '{}', undefined, 'cursor');
      assert.equal(await store.changedAt('cves-v2.9.0.csv'), '2026-12-01T10:00:00Z', 'later commits of other files do not count');
      assert.equal(await store.changedAt('cves-v2.10.0.csv'), '2026-12-01T11:00:00Z');
      assert.equal(await store.changedAt('cves-v2.11.0.csv'), undefined, 'a file never committed');
      clock += 3_600_000;
      await store.write('cves-v2.9.0.csv', 'c\n', (await store.read('cves-v2.9.0.csv'))!.version, 'edit');
      assert.equal(await store.changedAt('cves-v2.9.0.csv'), '2026-12-01T13:00:00Z');
      assert.deepEqual(timed.violations, [], 'the commits route is checked against the OpenAPI description');
      assert.ok(timed.requests.some((r) => r.route === '/repos/{owner}/{repo}/commits' && r.query.path === PATH));
    } finally {
      await timed.close();
    }
  });
});

describe('the local report store', () => {
  it("tells when a file last changed by its mtime, which any editor or checkout sets", async () => {
    const dir = await tempDir('report-store-');
    const store = new LocalReportStore(dir);
    assert.equal(await store.changedAt('cves-v2.9.0.csv'), undefined);
    await writeFile(join(dir, 'cves-v2.9.0.csv'), 'x\n');
    await utimes(join(dir, 'cves-v2.9.0.csv'), new Date('2026-12-02T08:00:00Z'), new Date('2026-12-02T08:00:00Z'));
    assert.equal(await store.changedAt('cves-v2.9.0.csv'), '2026-12-02T08:00:00.000Z');
    await store.write('cves-v2.9.0.csv', 'y\n');
    assert.ok(Date.parse((await store.changedAt('cves-v2.9.0.csv'))!) > Date.parse('2026-12-03T00:00:00Z'), 'a write moves it');
  });
});
