import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { publishSiteFromReports } from '../../activities/site/publish-site.js';
import { appendReleaseHistory, readReleaseHistories, type HistoryLog } from '../../activities/report/release-history.js';
import { LocalReportStore } from '../../activities/store/report-store.js';
import { SEVERITIES, type SeverityCounts } from '../../core/finding.js';
import { releasePageName } from '../../core/render/html.js';
import type { ReleaseReportSummary } from '../../core/triage.js';
import { finding, releaseReport } from '../helpers/reports.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/', import.meta.url));
/** Short enough for the index table's release column, which does not wrap a long name (see the report). */
const HOSTILE = 'v2.10<img src=x>&"';

const monday = (n: number) => new Date(Date.UTC(2025, 0, 6 + 7 * n)).toISOString().slice(0, 10);
const wednesday = (n: number) => new Date(Date.UTC(2025, 0, 8 + 7 * n)).toISOString().slice(0, 10);

function summary(release: string, bySeverity: SeverityCounts, change: { new: number; fixed: number }, failedAll = false): ReleaseReportSummary {
  const findings = SEVERITIES.reduce((n, s) => n + bySeverity[s], 0);
  return {
    release,
    images: { total: 12, withFindings: 9, clean: 3, osNotScanned: 1, failed: failedAll ? 12 : 0 },
    findings,
    bySeverity,
    byState: { triaged: findings },
    ignored: 0,
    invalidIgnores: 0,
    changes: { ...change, unchanged: findings - change.new },
    failedImages: [],
    osNotScannedImages: [],
  };
}

/**
 * v2.9.0: twelve weeks; week 5 had no run, week 8's report failed (every scan
 * failed). So 10 weeks with data, in three runs: 0-4, 6-7, 9-11.
 */
const WEEKS = 12;
const NO_RUN = 5;
const FAILED = 8;
const MEASURED = WEEKS - 2;

/** What the browser runs; the project compiles without the DOM library, so the page gets it as a string. */
const LAYOUT = `(() => {
  const doc = document.documentElement;
  const labels = [...document.querySelectorAll('#trend-chart .x-label')].map((t) => { const r = t.getBoundingClientRect(); return { text: t.textContent, left: r.left, right: r.right, height: r.height }; });
  const svg = document.querySelector('#trend-chart').getBoundingClientRect();
  const changes = document.querySelector('#changes-chart').getBoundingClientRect();
  return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, labels, svg: { left: svg.left, right: svg.right, width: svg.width }, changesRight: changes.right };
})()`;

interface Layout {
  scrollWidth: number;
  clientWidth: number;
  labels: { text: string; left: number; right: number; height: number }[];
  svg: { left: number; right: number; width: number };
  changesRight: number;
}

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium to run the browser tests`;

describe('the trend charts in headless Chromium', { skip }, () => {
  let browser: Browser;
  let dir: string;
  let base: string;
  const warnings: string[] = [];
  const log: HistoryLog = { warn: (message) => void warnings.push(message) };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trend-site-test-'));
    const store = new LocalReportStore(dir);
    // The histories as weekly runs leave them, through the same append as the report activity.
    for (let week = 0; week < WEEKS; week++) {
      if (week === NO_RUN) continue;
      const counts = { CRITICAL: week % 3, HIGH: 6 + (week % 4), MEDIUM: 14 - week, LOW: 20 + 2 * week, UNKNOWN: 1 };
      const s = summary('v2.9.0', counts, { new: (week * 3) % 7, fixed: week % 2 ? 0 : 4 }, week === FAILED);
      // The Wednesday run of each week, twice on the first week (a retried activity).
      for (const attempt of week === 0 ? [1, 2] : [1]) {
        await appendReleaseHistory(store, s, { runKey: `weekly-${week}@run`, at: `${wednesday(week)}T09:0${attempt}:00Z` }, log);
      }
    }
    for (let week = 9; week < WEEKS; week++) {
      await appendReleaseHistory(store, summary(HOSTILE, { CRITICAL: 1, HIGH: week, MEDIUM: 0, LOW: 0, UNKNOWN: 0 }, { new: 1, fixed: 1 }), { runKey: `h-${week}@run`, at: `${monday(week)}T10:00:00Z` }, log);
    }
    const a = 'rancher/shell:v0.1.6';
    const reports = [releaseReport('v2.9.0', { [a]: [finding(a, 'CVE-2024-1', 'CRITICAL')] }), releaseReport(HOSTILE, { [a]: [finding(a, 'CVE-2024-1')] }), releaseReport('v2.8.0', { [a]: 'clean' })];
    const histories = await readReleaseHistories({ reportsDir: dir } as Parameters<typeof readReleaseHistories>[0], ['v2.9.0', HOSTILE, 'v2.8.0'], log);
    await publishSiteFromReports(dir, reports, { generatedAt: '2025-03-31T09:30:00Z', histories });
    base = pathToFileURL(join(dir, 'site', '/')).href;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(name: string): Promise<{ page: Page; requests: string[]; dialogs: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${base}${name}`);
    return { page, requests, dialogs };
  }

  it('draws findings by severity per week, a point per week with data, and each gap as a break in the line, not a zero', async () => {
    assert.deepEqual(warnings, []);
    const { page, requests, dialogs } = await open(releasePageName('v2.9.0'));
    const chart = page.locator('#trend-chart');
    assert.equal(await chart.isVisible(), true);
    assert.equal(await chart.getAttribute('data-weeks'), String(WEEKS));
    assert.equal(await chart.getAttribute('data-gaps'), '2');
    for (const severity of SEVERITIES) {
      const group = chart.locator(`g[data-severity="${severity}"]`);
      assert.equal(await group.locator('circle').count(), MEASURED, `${severity}: one point per week with data (the retried run counted once)`);
      const d = (await group.locator('path').getAttribute('d')) ?? '';
      const segments = d.split('M').filter(Boolean);
      assert.equal(segments.length, 3, `${severity}: the line is three segments: ${d}`);
      assert.deepEqual(
        segments.map((s) => s.split('L').length),
        [5, 2, 3],
        `${severity}: weeks 0-4, 6-7 and 9-11`,
      );
    }
    // At a gap there is no point at all, where a zero would have put one on the baseline.
    for (const week of [NO_RUN, FAILED]) {
      assert.equal(await chart.locator(`circle[data-week="${monday(week)}"]`).count(), 0, `no point in the week of ${monday(week)}`);
      assert.equal(await chart.locator(`rect.gap[data-week="${monday(week)}"]`).count(), 1, 'the gap is shown as a band');
    }
    assert.equal(await chart.locator('rect.gap[data-week]').first().getAttribute('data-gap'), 'no-run');
    assert.equal(await chart.locator(`rect.gap[data-week="${monday(FAILED)}"]`).getAttribute('data-gap'), 'report-failed');
    assert.equal(await chart.locator('title').first().textContent(), 'Open findings by severity per week in v2.9.0');
    assert.match((await chart.locator('desc').textContent()) ?? '', /^12 weeks from the week of 2025-01-06 to the week of 2025-03-24, 2 weeks without data\. Latest: 2 CRITICAL/);

    const bars = page.locator('#changes-chart');
    assert.equal(await bars.locator('rect.bar-new[data-week]').count(), MEASURED);
    assert.equal(await bars.locator('rect.bar-fixed[data-week]').count(), MEASURED);
    assert.equal(await bars.locator(`rect[data-week="${monday(NO_RUN)}"]:not(.gap)`).count(), 0, 'no bar in a gap');
    assert.equal(await bars.locator(`rect.bar-fixed[data-week="${monday(1)}"]`).getAttribute('data-value'), '0', 'a real zero is a bar');

    await page.click('#trends details summary');
    assert.equal(await page.locator('#trend-table tbody tr').count(), WEEKS);
    assert.equal(await page.locator('#trend-table tbody tr.gap').count(), 2);
    assert.equal(await page.locator(`#trend-table tbody tr[data-gap="report-failed"] td[colspan]`).textContent(), 'no data (report failed: every scan failed)');

    await mkdir(SCREENSHOTS, { recursive: true });
    await page.locator('#trends').screenshot({ path: join(SCREENSHOTS, 'trend-chart.png') });
    assert.deepEqual(dialogs, []);
    assert.ok(
      requests.every((u) => u.startsWith(base)),
      `requests left the site: ${requests.join(', ')}`,
    );
    await page.close();
  });

  it('keeps its labels readable and the page within 1280 px', async () => {
    const { page } = await open(releasePageName('v2.9.0'));
    const layout = (await page.evaluate(LAYOUT)) as Layout;
    assert.ok(layout.scrollWidth <= layout.clientWidth, `the page is ${layout.scrollWidth} px wide in a ${layout.clientWidth} px window`);
    assert.ok(layout.changesRight <= layout.clientWidth, `the second chart ends at ${layout.changesRight} px`);
    assert.ok(layout.labels.length >= 3, `${layout.labels.length} week labels`);
    for (const label of layout.labels) {
      assert.match(label.text, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(label.height >= 11, `label ${label.text} is ${label.height} px tall`);
      assert.ok(label.left >= layout.svg.left && label.right <= layout.svg.right, `label ${label.text} is cut off`);
    }
    for (let i = 1; i < layout.labels.length; i++) {
      assert.ok(layout.labels[i]!.left > layout.labels[i - 1]!.right, `labels ${layout.labels[i - 1]!.text} and ${layout.labels[i]!.text} overlap`);
    }
    assert.equal(layout.labels.at(-1)!.text, monday(WEEKS - 1), 'the newest week is labelled');
    await page.close();
  });

  it('shows a small trend per release on the index, with the same gaps, escaped names and no overflow', async () => {
    const { page, dialogs } = await open('index.html');
    const items = page.locator('ul.trends li');
    assert.equal(await items.count(), 2, 'v2.8.0 has no history yet');
    const v29 = page.locator('ul.trends li[data-release="v2.9.0"]');
    assert.equal(await v29.locator('svg.spark path').getAttribute('data-segments'), '3');
    assert.equal(await v29.locator('svg.spark rect.gap').count(), 2);
    assert.match((await v29.locator('svg.spark').getAttribute('aria-label')) ?? '', /^v2\.9\.0: \d+ findings in the week of 2025-03-24, over 12 weeks/);
    const hostile = items.nth(1);
    assert.equal(await hostile.locator('a').textContent(), HOSTILE, 'the name is text, not markup');
    assert.equal(await hostile.locator('a').getAttribute('href'), releasePageName(HOSTILE));
    assert.equal(await page.locator('img').count(), 0);
    const layout = (await page.evaluate(`({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      items: [...document.querySelectorAll('ul.trends li')].map((li) => ({ fits: li.scrollWidth <= li.clientWidth, right: li.getBoundingClientRect().right, lastRight: li.lastElementChild.getBoundingClientRect().right })),
    })`)) as { scrollWidth: number; clientWidth: number; items: { fits: boolean; right: number; lastRight: number }[] };
    assert.ok(layout.scrollWidth <= layout.clientWidth, `the index is ${layout.scrollWidth} px wide in a ${layout.clientWidth} px window`);
    for (const item of layout.items) assert.ok(item.fits && item.lastRight <= item.right + 0.5, `a trend item spills into its neighbour: ${JSON.stringify(item)}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'trend-index.png'), fullPage: true });

    await hostile.locator('a').click();
    await page.waitForSelector('#trend-chart');
    assert.equal(await page.locator('#trend-chart title').first().textContent(), `Open findings by severity per week in ${HOSTILE}`);
    assert.equal(await page.locator('img').count(), 0);
    assert.deepEqual(dialogs, []);
    await page.close();
  });
});
