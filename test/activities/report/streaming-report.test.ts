// The report activity streams both CSVs and the issue and site activities read the rows back
// from the stored CSV. These tests hold the streamed paths to the in-memory merge they
// replaced: same bytes, same pages, same issue plan.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { publishSiteFromReports } from '../../../activities/site/publish-site.js';
import { reconcileReports } from '../../../activities/issues/reconcile-issues.js';
import { composeReleaseReport, discardComposed } from '../../../activities/report/compose-release-report.js';
import { csvFileReport, storedReport } from '../../../activities/report/stored-report.js';
import { readTriagedFindings } from '../../../activities/report/report-csv.js';
import { LocalReportStore } from '../../../activities/store/report-store.js';
import { FolderResultStore, storeKeys } from '../../../activities/store/result-store.js';
import type { ActivityDeps } from '../../../activities/deps.js';
import { buildImageRecords, parseImageList } from '../../../core/image-list.js';
import { parseReportCsv, renderReportCsv } from '../../../core/render/csv.js';
import type { ImageScan } from '../../../core/scan.js';
import { releasePageName, renderReleasePage } from '../../../core/render/html.js';
import { mergeTriage, summarizeReport } from '../../../core/triage.js';
import { tempDir } from '../../helpers/harness.js';
import { finding } from '../../helpers/reports.js';
import { createReadStream } from 'node:fs';

const RELEASE = 'v2.10.4';
const TODAY = '2026-11-30';
const FLEET_OLD = 'rancher/fleet:v0.10.3';
const FLEET = 'rancher/fleet:v0.10.4';
const SHELL = 'rancher/shell:v0.2.1';
const AGENT = 'rancher/rancher-agent:v2.10.4';
const WEBHOOK = 'rancher/rancher-webhook:v0.6.1';
const ZEBRA = 'rancher/zz-last:v1';

/** Last week: notes with commas, quotes and new lines, a formula-looking note, a tag about to be bumped, an image that will fail. */
function lastWeek(): string {
  const images = [FLEET_OLD, SHELL, AGENT, WEBHOOK, ZEBRA];
  const scans = new Map<string, ImageScan>(
    images.map((image) => [image, { image, outcome: 'findings', osScanned: true, findings: [finding(image, 'CVE-2024-1'), finding(image, 'CVE-2024-2', 'CRITICAL'), finding(image, 'CVE-2024-3', 'LOW')] }]),
  );
  const report = mergeTriage({ release: RELEASE, images: buildImageRecords({ images: parseImageList(images.join('\n'), 'last.txt') }), scans, previous: [], today: '2026-11-23' });
  for (const row of report.rows) {
    if (row.vulnerabilityId === 'CVE-2024-1') Object.assign(row, { state: 'ignore', notes: 'not reachable, "really";\nsee rancher/rancher#1' });
    if (row.vulnerabilityId === 'CVE-2024-3') Object.assign(row, { state: 'waiting', notes: '=HYPERLINK("http://evil")' });
  }
  return renderReportCsv(report);
}

/** This week: FLEET is the bumped tag, WEBHOOK and ZEBRA failed (their rows are carried), SHELL is clean, AGENT changed. */
function thisWeek() {
  const images = buildImageRecords({ images: parseImageList([ZEBRA, FLEET, SHELL, AGENT, WEBHOOK].join('\n'), 'this.txt') });
  const failed = (image: string): ImageScan => ({ image, outcome: 'failed', osScanned: false, findings: [], failure: { type: 'ImageNotFound', permanent: true, summary: 'manifest unknown' } });
  const scans = new Map<string, ImageScan>([
    [FLEET, { image: FLEET, outcome: 'findings', osScanned: true, findings: [finding(FLEET, 'CVE-2024-2', 'CRITICAL'), finding(FLEET, 'CVE-2024-1'), finding(FLEET, 'CVE-2024-9')] }],
    [SHELL, { image: SHELL, outcome: 'clean', osScanned: true, findings: [] }],
    [AGENT, { image: AGENT, outcome: 'findings', osScanned: true, findings: [finding(AGENT, 'CVE-2024-3', 'LOW'), finding(AGENT, 'CVE-2024-1')] }],
    [WEBHOOK, failed(WEBHOOK)],
    [ZEBRA, failed(ZEBRA)],
  ]);
  return { images, scans };
}

async function composed(dir: string) {
  await writeFile(join(dir, `cves-${RELEASE}.csv`), lastWeek());
  const { images, scans } = thisWeek();
  // The scans come one at a time and asynchronously, as from the result store.
  const source = { get: async (image: string) => scans.get(image) };
  return composeReleaseReport({ release: RELEASE, images, scans: source, store: new LocalReportStore(dir), today: TODAY, message: 'CVE report' });
}

function inMemory(previousText: string) {
  const { images, scans } = thisWeek();
  return mergeTriage({ release: RELEASE, images, scans, previous: parseReportCsv(previousText, 'last week'), today: TODAY });
}

describe('the streamed release report', () => {
  it("writes the same bytes, head and summary as the in-memory merge, carried rows included, and leaves no temporary file", async () => {
    const dir = await tempDir('streamed-report');
    const previousText = lastWeek();
    const result = await composed(dir);
    const expected = inMemory(previousText);
    const written = await readFile(join(dir, `cves-${RELEASE}.csv`), 'utf8');
    assert.equal(written, renderReportCsv(expected));
    assert.equal(await readFile(result.csvPath, 'utf8'), written);
    // Both failed images are carried: the one sorted last as well as the one in the middle.
    const rows = parseReportCsv(written, 'written');
    assert.equal(rows.filter((r) => r.image === ZEBRA).length, 3);
    assert.equal(rows.filter((r) => r.image === WEBHOOK).length, 3);
    assert.equal(rows.find((r) => r.image === FLEET && r.vulnerabilityId === 'CVE-2024-1')?.notes, 'not reachable, "really";\nsee rancher/rancher#1', 'the tag bump kept the note');
    const { rows: _rows, carriedRows: _carried, ...head } = expected;
    assert.deepEqual(result.head, head);
    assert.deepEqual(result.head.images.failed.map((f) => f.image), [ZEBRA, WEBHOOK], 'in the order of the image list');
    // Fixed: the old tag's CVE-2024-3 (the new tag lacks it), SHELL's three, AGENT's CVE-2024-2; new: FLEET's CVE-2024-9.
    assert.deepEqual(result.summary.changes, { new: 1, fixed: 5, unchanged: 4 });
    assert.deepEqual(result.openVex.render(RELEASE, { timestamp: TODAY }), (await import('../../../core/render/openvex.js')).renderOpenVex(expected, { timestamp: TODAY }));
    await discardComposed(result);
    assert.deepEqual(await readdir(dir), [`cves-${RELEASE}.csv`]);
  });

  it("fails with the store's error when a scan read ahead of the merge cannot be read, and leaves the CSV as it was", async () => {
    const dir = await tempDir('streamed-store-down');
    const previous = lastWeek();
    await writeFile(join(dir, `cves-${RELEASE}.csv`), previous);
    const { images, scans } = thisWeek();
    // The last image in the CSV's order is read ahead while the first ones merge.
    const source = { get: async (image: string) => (image === ZEBRA ? Promise.reject(new Error(`result store down reading ${image}`)) : scans.get(image)) };
    await assert.rejects(
      composeReleaseReport({ release: RELEASE, images, scans: source, store: new LocalReportStore(dir), today: TODAY, message: 'CVE report' }),
      /result store down reading rancher\/zz-last:v1/,
    );
    assert.equal(await readFile(join(dir, `cves-${RELEASE}.csv`), 'utf8'), previous);
    assert.deepEqual(await readdir(dir), [`cves-${RELEASE}.csv`]);
  });

  it('reads its rows back as the findings they were written from', async () => {
    const dir = await tempDir('streamed-rows');
    const result = await composed(dir);
    const expected = inMemory(lastWeek());
    const read = [];
    for await (const row of readTriagedFindings(createReadStream(result.csvPath), result.csvPath, { date: TODAY, skipImages: new Set([ZEBRA, WEBHOOK]) })) read.push(row);
    // The scan's package URL and VEX statement are the merge's inputs, not written to the CSV.
    assert.deepEqual(read, expected.rows.map(({ packagePurl: _purl, vex: _vex, ...row }) => row));
    assert.ok(read.some((r) => r.notes.startsWith('=HYPERLINK')), 'a formula-looking note comes back as the person wrote it');
    await discardComposed(result);
  });

  it('refuses to read back a CSV that is not one it wrote, naming it', async () => {
    const dir = await tempDir('streamed-foreign');
    const path = join(dir, 'legacy.csv');
    await writeFile(path, 'image,package_name,type,vulnerability_id,severity,url,patched_version,mirrored,state,notes\nrancher/a:v1,openssl,debian,CVE-1,HIGH,,,false,triaged,\n');
    const reading = (async () => {
      for await (const _ of readTriagedFindings(createReadStream(path), path, { date: TODAY })) void _;
    })();
    await assert.rejects(reading, (error: Error) => error.message.includes(path) && /header/.test(error.message));
  });

  it('publishes the same site and plans the same issues from the stored report as from the report in memory', async () => {
    const dir = await tempDir('streamed-site');
    const result = await composed(dir);
    const expected = inMemory(lastWeek());
    const options = { generatedAt: '2026-11-30T03:00:00Z', scannedAt: '2026-11-30T02:00:00Z' };

    const fromMemory = join(dir, 'memory');
    const fromStore = join(dir, 'store');
    await publishSiteFromReports(fromMemory, [expected], options);
    const store = new FolderResultStore(join(dir, 'results'));
    await store.writeFile(storeKeys.reportRows('run-1', RELEASE), result.csvPath);
    await store.writeJson(storeKeys.report('run-1', RELEASE), { ...result.head, summary: result.summary });
    const stored = (await storedReport(store, storeKeys.report('run-1', RELEASE), storeKeys.reportRows('run-1', RELEASE)))!;
    await publishSiteFromReports(fromStore, [stored], options);
    const pages = (await readdir(join(fromMemory, 'site'))).sort();
    assert.deepEqual((await readdir(join(fromStore, 'site'))).sort(), pages);
    assert.ok(pages.length > 6, pages.join(' '));
    for (const page of pages) {
      assert.equal(await readFile(join(fromStore, 'site', page), 'utf8'), await readFile(join(fromMemory, 'site', page), 'utf8'), page);
    }
    // The release page, written around its rows streamed through a file, is the page rendered in memory.
    const entry = { summary: summarizeReport(expected), csvFile: `cves-${RELEASE}.csv`, scannedAt: options.scannedAt };
    assert.equal(await readFile(join(fromStore, 'site', releasePageName(RELEASE)), 'utf8'), renderReleasePage(expected, entry, { generatedAt: options.generatedAt }));
    assert.ok(!pages.some((p) => p.endsWith('.tmp')), 'no temporary file is left in the site');

    const deps = (reportsDir: string) => ({ store, reportsDir, issueRepository: 'rancher/image-scanning-reports' }) as unknown as ActivityDeps;
    const planned = await reconcileReports(deps(join(dir, 'plan-memory')), [expected], { apply: false });
    const streamed = await reconcileReports(deps(join(dir, 'plan-store')), [csvFileReport(result.head, result.summary, result.csvPath)], { apply: false });
    assert.deepEqual(streamed.plan, planned.plan);
    assert.ok(planned.plan.changes.length > 0);
    // The plan file is written a change at a time, and is the JSON it always was.
    const planFile = await readFile(join(dir, 'plan-store', 'issue-plan.json'), 'utf8');
    assert.equal(planFile, `${JSON.stringify({ repository: 'rancher/image-scanning-reports', ...streamed.plan }, null, 2)}\n`);
    await discardComposed(result);
  });

  it('names the store location when a report head has lost its rows', async () => {
    const dir = await tempDir('streamed-missing');
    const store = new FolderResultStore(dir);
    await store.writeJson(storeKeys.report('run-2', RELEASE), { ...inMemory(lastWeek()), rows: undefined, carriedRows: undefined, summary: {} });
    const report = (await storedReport(store, storeKeys.report('run-2', RELEASE), storeKeys.reportRows('run-2', RELEASE)))!;
    const reading = (async () => {
      for await (const _ of report.rows()) void _;
    })();
    await assert.rejects(reading, (error: Error) => error.message.includes(store.path(storeKeys.reportRows('run-2', RELEASE))));
  });
});
