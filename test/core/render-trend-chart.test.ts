import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appendHistoryEntry, historyEntryOf, type ReleaseHistory } from '../../core/history.js';
import { renderIndexTrends, renderReleaseTrends } from '../../core/render/trend-chart.js';
import type { ReleaseReportSummary } from '../../core/triage.js';

const HOSTILE = 'v2.9.0"><script>alert(1)</script>&';

function summary(release: string, findings: number, failed = 0): ReleaseReportSummary {
  return {
    release,
    images: { total: 3, withFindings: 2, clean: 1, osNotScanned: 0, failed },
    findings,
    bySeverity: { CRITICAL: 1, HIGH: findings - 1, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
    byState: { triaged: findings },
    ignored: 0,
    invalidIgnores: 0,
    changes: { new: 2, fixed: 0, unchanged: findings - 2 },
    failedImages: [],
    osNotScannedImages: [],
  };
}

const monday = (n: number) => new Date(Date.UTC(2025, 0, 6 + 7 * n)).toISOString().slice(0, 10);

/** Weeks 0, 1, 3 and 4 measured; week 2 has no run; week 5's report failed; week 6 measured. */
function history(release = 'v2.9.0'): ReleaseHistory {
  let h: ReleaseHistory | undefined;
  const runs: [number, number, number][] = [
    [0, 4, 0],
    [1, 6, 0],
    [3, 5, 0],
    [4, 3, 0],
    [5, 3, 3],
    [6, 7, 0],
  ];
  for (const [week, findings, failed] of runs) h = appendHistoryEntry(h, release, historyEntryOf(summary(release, findings, failed), { runKey: `run-${week}`, at: `${monday(week)}T09:00:00Z` }));
  return h!;
}

const svgById = (html: string, id: string) => new RegExp(`<svg[^>]* id="${id}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';

describe('renderReleaseTrends', () => {
  it('draws nothing until the release has a history', () => {
    assert.equal(renderReleaseTrends(undefined), '');
    assert.equal(renderReleaseTrends({ schema: 1, release: 'v2.9.0', entries: [] }), '');
  });

  it('draws a point per week with data and breaks every line at the gaps, never at zero', () => {
    const svg = svgById(renderReleaseTrends(history()), 'trend-chart');
    assert.match(svg, /data-weeks="7" data-gaps="2"/);
    for (const severity of ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN']) {
      const group = new RegExp(`<g data-severity="${severity}">[\\s\\S]*?</g>`).exec(svg)![0];
      assert.equal(group.match(/<circle /g)?.length, 5, `${severity}: five weeks with data`);
      const d = /d="([^"]*)"/.exec(group)![1]!;
      assert.equal(d.match(/M/g)?.length, 3, `${severity}: weeks 0-1, 3-4 and 6 are three segments`);
      assert.match(group, /data-segments="3"/);
    }
    assert.equal(svg.match(/<rect class="gap" data-week/g)?.length, 2, 'a band per gap week (the legend has one more)');
    assert.match(svg, /data-week="2025-01-20" data-gap="no-run"/);
    assert.match(svg, /data-week="2025-02-10" data-gap="report-failed"/);
    assert.doesNotMatch(svg, /<circle[^>]*data-week="2025-01-20"/, 'no point in a gap');
  });

  it('draws new and fixed bars for weeks with data only; a zero is a bar, a gap is none', () => {
    const svg = svgById(renderReleaseTrends(history()), 'changes-chart');
    assert.equal(svg.match(/<rect class="bar-new" data-week/g)?.length, 5);
    assert.equal(svg.match(/<rect class="bar-fixed" data-week/g)?.length, 5);
    assert.match(svg, /class="bar-fixed" data-week="2025-01-06" data-value="0"[^>]*height="1\.0"/);
    assert.doesNotMatch(svg, /class="bar-new" data-week="2025-01-20"/);
  });

  it('gives every chart a title and description, and a table of the same numbers, gaps included', () => {
    const html = renderReleaseTrends(history());
    assert.match(html, /<svg[^>]*id="trend-chart"[^>]*role="img" aria-labelledby="trend-chart-title trend-chart-desc"/);
    assert.match(html, /<title id="trend-chart-title">Open findings by severity per week in v2\.9\.0<\/title>/);
    assert.match(html, /<desc id="trend-chart-desc">7 weeks from the week of 2025-01-06 to the week of 2025-02-17, 2 weeks without data\. Latest: 1 CRITICAL, 6 HIGH/);
    const table = /<table id="trend-table">[\s\S]*?<\/table>/.exec(html)![0];
    assert.equal(table.match(/<tr/g)?.length, 1 + 7);
    assert.match(table, /<tr class="gap" data-gap="no-run"><th scope="row">2025-01-20<\/th><td class="num zero">0<\/td><td colspan="9" class="muted">no data \(no run\)<\/td>/);
    assert.match(table, /data-gap="report-failed">.*no data \(report failed: every scan failed\)/);
  });

  it('labels weeks without overlap, however many there are', () => {
    let h: ReleaseHistory | undefined;
    for (let n = 0; n < 104; n++) h = appendHistoryEntry(h, 'v2.9.0', historyEntryOf(summary('v2.9.0', 5), { runKey: `r${n}`, at: `${monday(n)}T09:00:00Z` }));
    const svg = svgById(renderReleaseTrends(h), 'trend-chart');
    const xs = [...svg.matchAll(/class="axis x-label" x="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.ok(xs.length >= 4 && xs.length <= 8, `${xs.length} labels`);
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i]! - xs[i - 1]! >= 70, `labels ${xs[i - 1]} and ${xs[i]} overlap`);
    assert.match(svg, new RegExp(`>${monday(103)}</text>`), 'the newest week is labelled');
  });

  it('escapes the release name in titles, descriptions and attributes', () => {
    const html = renderReleaseTrends(history(HOSTILE)) + renderIndexTrends([{ summary: { release: HOSTILE }, history: history(HOSTILE) }], (r) => `release-${r.replace(/[^A-Za-z0-9._-]/g, '_')}.html`);
    assert.ok(!html.includes('<script>'));
    assert.ok(!html.includes(HOSTILE), 'the raw name, which would close an attribute, is nowhere');
    assert.ok(html.includes('v2.9.0&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;'));
  });
});

describe('renderIndexTrends', () => {
  const page = (release: string) => `release-${release}.html`;

  it('draws a small line per release with history, broken at the gaps, with the latest count and its change', () => {
    const html = renderIndexTrends([{ summary: { release: 'v2.9.0' }, history: history() }, { summary: { release: 'v2.10.0' } }], page);
    assert.equal(html.match(/<li /g)?.length, 1, 'a release without history has no trend');
    assert.match(html, /<a href="release-v2\.9\.0\.html">v2\.9\.0<\/a><svg class="spark" id="trend-spark-0"/);
    assert.match(html, /<path data-segments="3" d="M[^"]*"/);
    assert.match(html, /aria-label="v2\.9\.0: 7 findings in the week of 2025-02-17, over 7 weeks from the week of 2025-01-06 to the week of 2025-02-17, 2 weeks without data"/);
    assert.match(html, /<span class="num">7<\/span> <span class="muted">\(\+3 in 7 weeks\)<\/span>/);
  });

  it('is empty when no release has a history', () => {
    assert.equal(renderIndexTrends([{ summary: { release: 'v2.9.0' } }], page), '');
  });
});
