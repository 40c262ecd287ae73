import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, type Activities } from '../../../activities/index.js';
import { storeKeys } from '../../../activities/store/result-store.js';
import { parseReportCsv, REPORT_COLUMNS } from '../../../core/render/csv.js';
import { parseReleaseHistory } from '../../../core/history.js';
import type { ReleaseReportSummary } from '../../../core/triage.js';
import type { Harness } from '../../helpers/harness.js';
import { applicationFailure, fixture, run, workspace } from '../support.js';

const RUN = 'run-report';
const RELEASE = 'v2.9.5';
const FLEET = 'rancher/fleet-agent:v0.10.4';
const NGINX = 'rancher/mirrored-library-nginx:1.25.3';
const WEBHOOK = 'rancher/rancher-webhook:v0.5.3';
const WINS = 'rancher/wins:v0.4.20';

/** Resolves, assigns and scans a four-image release: findings, clean, a failed scan, and a Windows image without OS results. */
async function scanRelease(h: Harness): Promise<Activities> {
  await h.scenarios({
    [FLEET]: { report: fixture('debian-report.json') },
    [NGINX]: { report: fixture('clean-report.json') },
    [WINS]: { report: fixture('windows-no-os.json') },
    [WEBHOOK]: {
      fail:
        '2025-01-14T09:12:05Z\tFATAL\tFatal error\trun error: image scan error: scan error: unable to initialize a scan service: unable to initialize an image scan service: unable to find the specified image "rancher/rancher-webhook:v0.5.3" in ["docker" "containerd" "podman" "remote"]: 4 errors occurred:\n' +
        '\t* remote error: GET https://index.docker.io/v2/rancher/rancher-webhook/manifests/v0.5.3: MANIFEST_UNKNOWN: manifest unknown; unknown tag=v0.5.3',
    },
  });
  const activities = createActivities(h.deps());
  const images = await h.writeList('rancher-images.txt', [FLEET, NGINX, WEBHOOK]);
  const windowsImages = await h.writeList('rancher-windows-images.txt', [WINS]);
  await run(activities.resolveImages, { runKey: RUN, release: { name: RELEASE, images, windowsImages } });
  const counts = await run(activities.assignScans, { runKey: RUN, releases: [RELEASE] });
  for (let index = 0; index < counts[RELEASE]!; index++) {
    await run(activities.scanImage, { runKey: RUN, release: RELEASE, index }).catch((error: unknown) => {
      if (!(error instanceof ApplicationFailure && error.type === 'ImageNotFound')) throw error;
    });
  }
  return activities;
}

async function placePrevious(h: Harness, name: string): Promise<string> {
  const path = join(h.reportsDir, `cves-${RELEASE}.csv`);
  await mkdir(h.reportsDir, { recursive: true });
  await copyFile(fixture(name), path);
  return path;
}

describe('writeReleaseReport', () => {
  it('keeps every note and state of a legacy ten-column report, and writes the summary beside the CSV', async (t) => {
    const h = await workspace(t);
    const activities = await scanRelease(h);
    const csvPath = await placePrevious(h, 'legacy-previous.csv');
    const previous = parseReportCsv(await readFile(csvPath, 'utf8'), csvPath);
    assert.equal(previous.length, 6);
    assert.ok(previous.some((r) => r.notes.includes('\n')), 'the fixture has a multi-line note');

    const result = await run(activities.writeReleaseReport, { runKey: RUN, release: RELEASE });

    assert.equal(result.csvPath, csvPath);
    assert.equal(result.summaryPath, join(dirname(csvPath), `cves-${RELEASE}.summary.json`));
    assert.equal(result.images, 4);
    assert.equal(result.findings, 5);
    assert.equal(result.failedScans, 1);
    assert.equal(result.osNotScanned, 1);
    assert.equal(result.invalidIgnores, 1, 'zlib1g is marked ignore without a justification');
    assert.equal(result.newFindings, 1, 'apt CVE-2011-3374');
    assert.equal(result.fixedFindings, 1, 'curl CVE-2023-38545');

    const text = await h.readReport(RELEASE);
    assert.equal(text.split('\n')[0], REPORT_COLUMNS.join(','));
    const rows = parseReportCsv(text, csvPath);
    const find = (image: string, pkg: string, id: string) => rows.find((r) => r.image === image && r.packageName === pkg && r.vulnerabilityId === id);
    for (const old of previous.filter((r) => r.notes !== '' || r.state !== '')) {
      const row = find(old.image, old.packageName, old.vulnerabilityId);
      assert.ok(row, `${old.image} ${old.packageName} ${old.vulnerabilityId} is still reported`);
      assert.equal(row.notes, old.notes);
      assert.equal(row.state, old.state);
    }
    assert.equal(find(FLEET, 'libc6', 'CVE-2023-4911')?.notes, 'Waiting for the Debian 12.9 base image.\nTracked in SURE-8812 ("glibc" bump), see https://github.com/rancher/fleet/issues/2901');
    assert.equal(find(FLEET, 'openssl', 'CVE-2024-0727')?.state, 'ignore');
    assert.equal(find(FLEET, 'stdlib', 'CVE-2024-24790')?.state, 'triaged', 'an empty legacy state becomes the default');
    assert.equal(find(FLEET, 'apt', 'CVE-2011-3374')?.state, 'triaged');
    assert.equal(find(FLEET, 'apt', 'CVE-2011-3374')?.firstSeen, new Date().toISOString().slice(0, 10));
    assert.equal(find(FLEET, 'curl', 'CVE-2023-38545'), undefined, 'a fixed finding leaves the report');
    // The image whose scan failed keeps its previous rows verbatim.
    const carried = find(WEBHOOK, 'golang.org/x/net', 'CVE-2023-44487');
    const oldCarried = previous.find((r) => r.image === WEBHOOK)!;
    assert.ok(oldCarried.cells && Object.keys(oldCarried.cells).length >= 10);
    for (const [column, value] of Object.entries(oldCarried.cells)) assert.equal(carried?.cells?.[column], value, column);
    assert.deepEqual([...new Set(rows.map((r) => r.image))].sort(), [FLEET, WEBHOOK].sort());

    const summary = JSON.parse(await readFile(result.summaryPath, 'utf8')) as ReleaseReportSummary & { generatedAt: string };
    assert.equal(summary.release, RELEASE);
    assert.deepEqual(summary.images, { total: 4, withFindings: 1, clean: 1, osNotScanned: 1, failed: 1 });
    assert.deepEqual(summary.osNotScannedImages, [WINS]);
    assert.equal(summary.failedImages.length, 1);
    assert.equal(summary.failedImages[0]!.image, WEBHOOK);
    assert.equal(summary.failedImages[0]!.type, 'ImageNotFound');
    assert.match(summary.failedImages[0]!.summary, /MANIFEST_UNKNOWN/);
    assert.deepEqual(summary.changes, { new: 1, fixed: 1, unchanged: 4 });
    assert.ok(!Number.isNaN(Date.parse(summary.generatedAt)));

    // The next run over the same scans reads this CSV back and writes the same bytes.
    await run(activities.writeReleaseReport, { runKey: RUN, release: RELEASE });
    assert.equal(await h.readReport(RELEASE), text);
  });

  it('refuses a previous CSV with a broken quote and leaves it byte-for-byte untouched', async (t) => {
    const h = await workspace(t);
    const activities = await scanRelease(h);
    const csvPath = await placePrevious(h, 'broken-quote.csv');
    const before = await readFile(csvPath);

    const failure = await applicationFailure(run(activities.writeReleaseReport, { runKey: RUN, release: RELEASE }));

    assert.equal(failure.type, 'InvalidPreviousReport');
    assert.equal(failure.nonRetryable, true);
    assert.ok(failure.message.includes(csvPath), failure.message);
    assert.deepEqual(await readFile(csvPath), before);
    assert.deepEqual(await readdir(h.reportsDir), [`cves-${RELEASE}.csv`], 'no summary and no temporary file were left');
    assert.equal(await h.deps().store.readJson(storeKeys.report(RUN, RELEASE)), undefined);
  });

  it('writes a byte-identical CSV when run twice over the same scans', async (t) => {
    const h = await workspace(t);
    const activities = await scanRelease(h);
    const first = await run(activities.writeReleaseReport, { runKey: RUN, release: RELEASE });
    const firstCsv = await h.readReport(RELEASE);
    const second = await run(createActivities(h.deps()).writeReleaseReport, { runKey: RUN, release: RELEASE });
    assert.equal(await h.readReport(RELEASE), firstCsv);
    assert.equal(first.newFindings, 5);
    assert.equal(second.newFindings, 0);
    assert.equal(second.findings, first.findings);
    const rows = parseReportCsv(firstCsv, first.csvPath);
    assert.equal(rows.length, 5);
    assert.ok(rows.every((r) => r.image === FLEET && r.state === 'triaged'));
  });

  it('appends the run to the release history beside the CSV, once however often the activity runs', async (t) => {
    const h = await workspace(t);
    const activities = await scanRelease(h);
    await run(activities.writeReleaseReport, { runKey: RUN, release: RELEASE });
    await run(activities.writeReleaseReport, { runKey: RUN, release: RELEASE });
    const path = join(h.reportsDir, `cves-${RELEASE}.history.json`);
    const { history, dropped } = parseReleaseHistory(await readFile(path, 'utf8'), path);
    assert.deepEqual(dropped, []);
    assert.equal(history.release, RELEASE);
    assert.equal(history.entries.length, 1, 'a retried activity adds no second entry');
    const entry = history.entries[0]!;
    assert.equal(entry.runKey, RUN);
    assert.deepEqual([entry.findings, entry.changes.new, entry.images.total, entry.images.failed, entry.reportFailed], [5, 5, 4, 1, undefined]);
  });

  it('hands the history to the published site, which draws the release trend and the index trend', async (t) => {
    const h = await workspace(t);
    const activities = await scanRelease(h);
    await run(activities.writeReleaseReport, { runKey: RUN, release: RELEASE });
    const site = await run(activities.publishSite, { runKey: RUN, releases: [RELEASE] });
    const index = await readFile(site.sitePath, 'utf8');
    assert.match(index, /<li data-release="v2\.9\.5"><a href="release-v2\.9\.5\.html">v2\.9\.5<\/a><svg class="spark"/);
    const page = await readFile(join(dirname(site.sitePath), 'release-v2.9.5.html'), 'utf8');
    assert.match(page, /<svg class="chart trend" id="trend-chart"[^>]* data-weeks="1" data-gaps="0">/);
    assert.match(page, /<svg class="chart trend" id="changes-chart"/);
  });

  it('writes the CSV even when the history beside it is damaged, and replaces the history', async (t) => {
    const h = await workspace(t);
    const activities = await scanRelease(h);
    await mkdir(h.reportsDir, { recursive: true });
    const path = join(h.reportsDir, `cves-${RELEASE}.history.json`);
    await writeFile(path, '<<<<<<< HEAD\n');
    const result = await run(activities.writeReleaseReport, { runKey: RUN, release: RELEASE });
    assert.equal(parseReportCsv(await h.readReport(RELEASE), result.csvPath).length, 5);
    assert.equal(parseReleaseHistory(await readFile(path, 'utf8'), path).history.entries.length, 1);
    assert.equal(await readFile(`${path}.damaged`, 'utf8'), '<<<<<<< HEAD\n');
  });
});
