import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createGitHub } from '../../../activities/github/github.js';
import { appendReleaseHistory, historyFileName, readReleaseHistories, type HistoryLog } from '../../../activities/report/release-history.js';
import { GitHubReportStore } from '../../../activities/store/github-report-store.js';
import { LocalReportStore, type ReportStore } from '../../../activities/store/report-store.js';
import { parseReleaseHistory } from '../../../core/history.js';
import type { ReleaseReportSummary } from '../../../core/triage.js';
import { startFakeGitHub, type FakeGitHub } from '../../fakes/github-server.js';

function summary(findings: number, release = 'v2.9.0'): ReleaseReportSummary {
  return {
    release,
    images: { total: 2, withFindings: 1, clean: 1, osNotScanned: 0, failed: 0 },
    findings,
    bySeverity: { CRITICAL: 0, HIGH: findings, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
    byState: { triaged: findings },
    ignored: 0,
    invalidIgnores: 0,
    changes: { new: findings, fixed: 0, unchanged: 0 },
    failedImages: [],
    osNotScannedImages: [],
  };
}

/** A log that keeps what it was told. */
function recorder(): HistoryLog & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => void warnings.push(message) };
}

async function localStore(t: TestContext): Promise<LocalReportStore> {
  const dir = await mkdtemp(join(tmpdir(), 'report-history-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return new LocalReportStore(dir);
}

const NAME = 'cves-v2.9.0.history.json';
const readHistory = async (store: LocalReportStore) => parseReleaseHistory(await readFile(join(store.dir, NAME), 'utf8'), NAME).history;

describe('appendReleaseHistory', () => {
  it('writes cves-<release>.history.json beside the CSV, once per run however often the run writes it', async (t) => {
    const store = await localStore(t);
    const log = recorder();
    assert.equal(historyFileName('v2.9.0'), NAME);
    assert.equal(historyFileName('v2.9/../x'), 'cves-v2.9_.._x.history.json');
    assert.equal(await appendReleaseHistory(store, summary(3), { runKey: 'w@1', at: '2025-01-06T09:00:00Z' }, log), 'written');
    assert.equal(await appendReleaseHistory(store, summary(3), { runKey: 'w@1', at: '2025-01-06T09:05:00Z' }, log), 'unchanged', 'a retry of the same run changes nothing');
    assert.equal(await appendReleaseHistory(store, summary(4), { runKey: 'w@2', at: '2025-01-13T09:00:00Z' }, log), 'written');
    const history = await readHistory(store);
    assert.equal(history.release, 'v2.9.0');
    assert.deepEqual(
      history.entries.map((e) => [e.runKey, e.date, e.findings]),
      [
        ['w@1', '2025-01-06', 3],
        ['w@2', '2025-01-13', 4],
      ],
    );
    assert.deepEqual(log.warnings, []);
  });

  it('replaces a damaged history with a warning naming it, keeping a copy and its readable entries', async (t) => {
    const store = await localStore(t);
    await writeFile(join(store.dir, NAME), '{"schema":1,"release":"v2.9.0","entries":[{"runKey":"old"');
    const log = recorder();
    assert.equal(await appendReleaseHistory(store, summary(3), { runKey: 'w@1', at: '2025-01-06T09:00:00Z' }, log), 'written');
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0]!, new RegExp(`release history .*${NAME.replace(/\./g, '\\.')} is damaged and is replaced`));
    assert.equal(await readFile(join(store.dir, `${NAME}.damaged`), 'utf8'), '{"schema":1,"release":"v2.9.0","entries":[{"runKey":"old"');
    assert.deepEqual(
      (await readHistory(store)).entries.map((e) => e.runKey),
      ['w@1'],
    );

    // Readable file, one damaged entry: the others stay.
    const text = await readFile(join(store.dir, NAME), 'utf8');
    await writeFile(join(store.dir, NAME), text.replace(']}', ',\n  {"runKey":"bad","date":"someday"}\n]}'));
    const again = recorder();
    await appendReleaseHistory(store, summary(4), { runKey: 'w@2', at: '2025-01-13T09:00:00Z' }, again);
    assert.match(again.warnings[0]!, /has damaged entries; they are left out/);
    assert.deepEqual(
      (await readHistory(store)).entries.map((e) => e.runKey),
      ['w@1', 'w@2'],
    );
  });

  it('leaves alone a history written by a newer version of the program', async (t) => {
    const store = await localStore(t);
    const newer = '{"schema":2,"release":"v2.9.0","entries":[]}\n';
    await writeFile(join(store.dir, NAME), newer);
    const log = recorder();
    assert.equal(await appendReleaseHistory(store, summary(3), { runKey: 'w@1', at: '2025-01-06T09:00:00Z' }, log), 'skipped');
    assert.equal(await readFile(join(store.dir, NAME), 'utf8'), newer);
    assert.match(log.warnings[0]!, /is left alone: .*schema 2/);
  });

  it('never throws: a store that fails or always conflicts costs this week its entry, with a warning', async () => {
    const failing: ReportStore = { description: 'broken', read: () => Promise.reject(new Error('disk on fire')), write: () => Promise.resolve('written') };
    const log = recorder();
    assert.equal(await appendReleaseHistory(failing, summary(3), { runKey: 'w@1', at: '2025-01-06T09:00:00Z' }, log), 'skipped');
    assert.match(log.warnings[0]!, /broken\/cves-v2\.9\.0\.history\.json could not be written; the CSV is written/);

    let writes = 0;
    const racing: ReportStore = { description: 'racing', read: () => Promise.resolve(undefined), write: () => Promise.resolve((writes++, 'conflict')) };
    const raced = recorder();
    assert.equal(await appendReleaseHistory(racing, summary(3), { runKey: 'w@1', at: '2025-01-06T09:00:00Z' }, raced), 'skipped');
    assert.equal(writes, 5);
    assert.match(raced.warnings[0]!, /changed during each of 5 writes/);
  });
});

describe('readReleaseHistories', () => {
  it('reads each release’s history; a damaged one costs that release its trend, not the site', async (t) => {
    const store = await localStore(t);
    await appendReleaseHistory(store, summary(3), { runKey: 'w@1', at: '2025-01-06T09:00:00Z' }, recorder());
    await writeFile(join(store.dir, historyFileName('v2.10.0')), 'not json');
    const log = recorder();
    const deps = { reportsDir: store.dir } as Parameters<typeof readReleaseHistories>[0];
    const histories = await readReleaseHistories(deps, ['v2.9.0', 'v2.10.0', 'v2.11.0'], log);
    assert.deepEqual([...histories.keys()], ['v2.9.0']);
    assert.equal(histories.get('v2.9.0')!.entries.length, 1);
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0]!, /cves-v2\.10\.0\.history\.json cannot be read; the site shows no trend for v2\.10\.0/);
  });
});

describe('the history in a GitHub report store', () => {
  let fake: FakeGitHub;
  before(async () => {
    fake = await startFakeGitHub();
  });
  after(async () => {
    await fake.close();
  });

  it('re-reads and re-merges when another run committed between read and write, so neither entry is lost', async () => {
    const [owner, repo, branch] = ['rancher', 'history-reports', 'main'];
    fake.commitFile(owner, repo, branch, 'docs/_data/README.md', 'reports\n');
    const github = createGitHub({ token: 'test-token', baseUrl: fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } });
    const inner = new GitHubReportStore(github, { owner, repo }, branch, 'docs/_data');
    let interleaved = false;
    const store: ReportStore = {
      description: inner.description,
      read: (name) => inner.read(name),
      write: async (name, text, version, message) => {
        if (!interleaved) {
          interleaved = true;
          // Another run of the same release (a manual trigger) records its entry first.
          await appendReleaseHistory(inner, summary(9), { runKey: 'manual@1', at: '2025-01-07T12:00:00Z' }, recorder());
        }
        return inner.write(name, text, version, message);
      },
    };
    const log = recorder();
    assert.equal(await appendReleaseHistory(store, summary(3), { runKey: 'weekly@1', at: '2025-01-06T09:00:00Z' }, log), 'written');
    const text = fake.readFile(owner, repo, branch, `docs/_data/${NAME}`)!;
    assert.deepEqual(
      parseReleaseHistory(text, NAME).history.entries.map((e) => e.runKey),
      ['weekly@1', 'manual@1'],
    );
    assert.equal(fake.commits(owner, repo, branch).filter((c) => /CVE history for v2\.9\.0/.test(c.message)).length, 2);
    assert.deepEqual(log.warnings, []);
    assert.deepEqual(fake.violations, []);
  });
});
