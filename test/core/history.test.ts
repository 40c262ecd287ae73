import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  appendHistoryEntry,
  HISTORY_WEEKS,
  historyEntryOf,
  historySegments,
  InvalidHistoryError,
  parseReleaseHistory,
  renderReleaseHistory,
  trimHistory,
  weekOf,
  weeklySeries,
  type HistoryEntry,
  type ReleaseHistory,
} from '../../core/history.js';
import type { ReleaseReportSummary } from '../../core/triage.js';

function summary(findings: number, extra: Partial<ReleaseReportSummary> = {}): ReleaseReportSummary {
  return {
    release: 'v2.9.0',
    images: { total: 4, withFindings: 2, clean: 1, osNotScanned: 1, failed: 0 },
    findings,
    bySeverity: { CRITICAL: 1, HIGH: findings - 1, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
    byState: { triaged: findings },
    ignored: 0,
    invalidIgnores: 0,
    changes: { new: 2, fixed: 1, unchanged: findings - 2 },
    failedImages: [],
    osNotScannedImages: ['rancher/wins:v1'],
    ...extra,
  };
}

/** An entry of a weekly run on `date` (Mondays in these tests unless said otherwise). */
const entry = (runKey: string, date: string, findings = 5, extra: Partial<ReleaseReportSummary> = {}): HistoryEntry =>
  historyEntryOf(summary(findings, extra), { runKey, at: `${date}T09:00:00.000Z` });

const historyOf = (...entries: HistoryEntry[]): ReleaseHistory => entries.reduce<ReleaseHistory | undefined>((h, e) => appendHistoryEntry(h, 'v2.9.0', e), undefined)!;

/** Mondays from 2025-01-06 on. */
const monday = (n: number) => new Date(Date.UTC(2025, 0, 6 + 7 * n)).toISOString().slice(0, 10);

describe('historyEntryOf', () => {
  it('keeps the summary counts, not its image lists, and dates the entry', () => {
    const e = entry('scan@1', '2025-01-13', 7);
    assert.deepEqual(e, {
      runKey: 'scan@1',
      date: '2025-01-13',
      at: '2025-01-13T09:00:00.000Z',
      findings: 7,
      bySeverity: { CRITICAL: 1, HIGH: 6, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
      byState: { triaged: 7 },
      ignored: 0,
      changes: { new: 2, fixed: 1, unchanged: 5 },
      images: { total: 4, failed: 0, osNotScanned: 1 },
    });
  });

  it('draws open findings: honoured ignores are left out of the severity counts, not of the totals', () => {
    const e = entry('scan@2', '2025-01-13', 7, { ignored: 3, openBySeverity: { CRITICAL: 0, HIGH: 4, MEDIUM: 0, LOW: 0, UNKNOWN: 0 } });
    assert.deepEqual(e.bySeverity, { CRITICAL: 0, HIGH: 4, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
    assert.equal(e.findings, 7);
    assert.equal(e.ignored, 3);
  });

  it('marks a run whose every scan failed as a failed report: its counts are last week carried over', () => {
    assert.equal(entry('a', '2025-01-13', 5, { images: { total: 3, withFindings: 0, clean: 0, osNotScanned: 0, failed: 3 } }).reportFailed, true);
    assert.equal(entry('b', '2025-01-13', 0, { images: { total: 0, withFindings: 0, clean: 0, osNotScanned: 0, failed: 0 } }).reportFailed, true);
    assert.equal(entry('c', '2025-01-13', 5, { images: { total: 3, withFindings: 1, clean: 0, osNotScanned: 0, failed: 2 } }).reportFailed, undefined, 'a partial failure still measures');
  });
});

describe('appendHistoryEntry', () => {
  it('writes the same run once however often it is appended (a retried activity), keeping what its first attempt wrote', () => {
    const first = historyOf(entry('scan@1', monday(0), 5));
    // The retry merged against the CSV the first attempt wrote: nothing reads as new any more.
    const retry = { ...historyEntryOf(summary(5), { runKey: 'scan@1', at: '2025-01-07T00:05:00.000Z' }), changes: { new: 0, fixed: 0, unchanged: 5 } };
    const retried = appendHistoryEntry(first, 'v2.9.0', retry);
    assert.equal(retried.entries.length, 1);
    assert.deepEqual(retried.entries[0], first.entries[0]);
    assert.equal(renderReleaseHistory(retried), renderReleaseHistory(first), 'idempotent');
  });

  it('orders entries by time, whatever order they arrive in', () => {
    const h = historyOf(entry('c', monday(2)), entry('a', monday(0)), entry('b', monday(1)));
    assert.deepEqual(
      h.entries.map((e) => e.runKey),
      ['a', 'b', 'c'],
    );
  });

  it('keeps the last 104 weeks, counted back from the newest entry', () => {
    let h: ReleaseHistory | undefined;
    for (let n = 0; n < 120; n++) h = appendHistoryEntry(h, 'v2.9.0', entry(`run-${n}`, monday(n)));
    assert.equal(h!.entries.length, HISTORY_WEEKS);
    assert.equal(h!.entries[0]!.runKey, 'run-16');
    assert.equal(h!.entries.at(-1)!.runKey, 'run-119');
  });

  it('bounds the number of entries too, when runs are more frequent than weekly', () => {
    const daily = Array.from({ length: 30 }, (_, n) => entry(`day-${n}`, new Date(Date.UTC(2025, 0, 1 + n)).toISOString().slice(0, 10)));
    const kept = trimHistory(daily, { weeks: HISTORY_WEEKS, entries: 10 });
    assert.deepEqual(
      kept.map((e) => e.runKey),
      daily.slice(-10).map((e) => e.runKey),
    );
  });
});

describe('weekOf', () => {
  it('is the Monday of the ISO week, in UTC', () => {
    assert.equal(weekOf('2025-01-06'), '2025-01-06');
    assert.equal(weekOf('2025-01-12'), '2025-01-06', 'Sunday belongs to the week before');
    assert.equal(weekOf('2025-01-01T23:59:00Z'), '2024-12-30', 'across a year');
  });
});

describe('weeklySeries', () => {
  it('has a week for every week between the first and last entry, and a week with no entry is a gap', () => {
    const series = weeklySeries(historyOf(entry('a', monday(0), 3), entry('b', monday(1), 4), entry('d', monday(3), 6)));
    assert.deepEqual(
      series.map((w) => [w.week, w.entry?.findings ?? null, w.gap ?? null]),
      [
        [monday(0), 3, null],
        [monday(1), 4, null],
        [monday(2), null, 'no-run'],
        [monday(3), 6, null],
      ],
    );
    assert.equal(series[2]!.changes, undefined, 'a gap has no new/fixed either: not a zero');
  });

  it('counts a week whose report failed as a gap, not as a drop to zero', () => {
    const allFailed = { images: { total: 3, withFindings: 0, clean: 0, osNotScanned: 0, failed: 3 } };
    const series = weeklySeries(historyOf(entry('a', monday(0), 3), entry('b', monday(1), 0, allFailed), entry('c', monday(2), 4)));
    assert.equal(series[1]!.gap, 'report-failed');
    assert.equal(series[1]!.runs, 1);
    assert.equal(series[1]!.entry, undefined);
  });

  it('draws a week with several runs at its last measured run, and sums its new and fixed', () => {
    const allFailed = { images: { total: 3, withFindings: 0, clean: 0, osNotScanned: 0, failed: 3 } };
    const h = historyOf(entry('mon', monday(0), 3), { ...entry('thu', '2025-01-09', 8), changes: { new: 5, fixed: 0, unchanged: 3 } }, entry('sat', '2025-01-11', 0, allFailed));
    const [week] = weeklySeries(h);
    assert.equal(weeklySeries(h).length, 1);
    assert.equal(week!.entry!.runKey, 'thu');
    assert.deepEqual(week!.changes, { new: 7, fixed: 1 });
    assert.equal(week!.runs, 3);
  });

  it('shows at most the newest weeks asked for, and nothing for no history', () => {
    const h = historyOf(entry('a', monday(0)), entry('b', monday(10)));
    const series = weeklySeries(h, 4);
    assert.deepEqual(
      series.map((w) => w.week),
      [monday(7), monday(8), monday(9), monday(10)],
    );
    assert.deepEqual(weeklySeries(undefined), []);
    assert.deepEqual(weeklySeries({ schema: 1, release: 'v2.9.0', entries: [] }), []);
  });
});

describe('historySegments', () => {
  it('splits the weeks with data at every gap', () => {
    const series = weeklySeries(historyOf(entry('a', monday(0)), entry('b', monday(1)), entry('c', monday(3)), entry('d', monday(6)), entry('e', monday(7))));
    assert.deepEqual(historySegments(series), [[0, 1], [3], [6, 7]]);
    assert.deepEqual(historySegments([]), []);
  });
});

describe('parseReleaseHistory', () => {
  it('reads what renderReleaseHistory writes, one entry per line', () => {
    const h = historyOf(entry('a', monday(0)), entry('b', monday(1)));
    const text = renderReleaseHistory(h);
    assert.equal(text.split('\n').length, 2 + 2 + 1, 'header line, two entries, closing line, final newline');
    assert.deepEqual(parseReleaseHistory(text, 'cves-v2.9.0.history.json'), { history: h, dropped: [] });
  });

  it('drops damaged entries, naming them, and keeps the rest', () => {
    const h = historyOf(entry('a', monday(0)), entry('b', monday(1)));
    const raw = JSON.parse(renderReleaseHistory(h)) as { entries: unknown[] };
    raw.entries.push({ runKey: 'c', date: 'last tuesday' }, 'junk', { ...h.entries[0], bySeverity: { CRITICAL: -1 } });
    const { history, dropped } = parseReleaseHistory(JSON.stringify(raw), 'x');
    assert.deepEqual(
      history.entries.map((e) => e.runKey),
      ['a', 'b'],
    );
    assert.equal(dropped.length, 3);
    assert.match(dropped[0]!, /^entry 3: date "last tuesday"/);
    assert.match(dropped[2]!, /^entry 5: bySeverity\.CRITICAL is not a count/);
  });

  it('keeps one entry per run when a file holds the same run twice', () => {
    const e = entry('a', monday(0));
    const text = JSON.stringify({ schema: 1, release: 'v2.9.0', entries: [e, { ...e, findings: 99, at: `${monday(0)}T10:00:00.000Z` }] });
    const { history } = parseReleaseHistory(text, 'x');
    assert.equal(history.entries.length, 1);
    assert.equal(history.entries[0]!.findings, 5, 'the first written');
  });

  it('refuses a file that is not a history, naming it; a newer schema is not to be replaced', () => {
    for (const text of ['{"schema":1,"release":"v2.9.0","entries":[', '[]', '{"schema":1}', '{"entries":[]}']) {
      assert.throws(
        () => parseReleaseHistory(text, 'reports/cves-v2.9.0.history.json'),
        (e: unknown) => e instanceof InvalidHistoryError && e.replaceable && e.message.includes('reports/cves-v2.9.0.history.json'),
        text,
      );
    }
    assert.throws(
      () => parseReleaseHistory('{"schema":2,"entries":[]}', 'x'),
      (e: unknown) => e instanceof InvalidHistoryError && !e.replaceable,
    );
  });
});
