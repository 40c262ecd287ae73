// End to end with nothing stubbed: the real Temporal dev server, a real worker,
// the real Trivy CLI scanning real images (built here, served on loopback)
// against a real, small vulnerability DB (built here), through the scan-image
// activity's own command line, down to the CSV and the issue plan.
//
// Needs `npm run trivy-cli` and scripts/build-e2e-fixtures.sh (CI runs both).
// Without them the suite is skipped with the reason, unless
// IMAGE_SCANNING_E2E=required, which turns the skip into a failure.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startRun } from '../../client/scan.js';
import { trivyVersion } from '../../client/trivy-cli.js';
import { parseReportCsv } from '../../core/render/csv.js';
import type { IssuePlan } from '../../core/issue-plan.js';
import type { ReleaseReportSummary } from '../../core/triage.js';
import { Harness } from '../helpers/harness.js';
import { capturedLogs, testWorker } from '../helpers/temporal.js';
import { copySampleCache, EXPECTED_FINDINGS, locateSample, SAMPLE_IMAGES } from './offline-sample.js';
import { useSampleServices } from './sample-services.js';

const sample = await locateSample();
const skip = 'missing' in sample ? `real Trivy end-to-end test skipped: ${sample.missing}` : false;
if (skip && process.env.IMAGE_SCANNING_E2E === 'required') throw new Error(`IMAGE_SCANNING_E2E=required, but ${skip}`);

describe('a run with the real Trivy, images and vulnerability DB built here', { skip }, () => {
  const services = useSampleServices();
  const trivy = 'trivy' in sample ? sample.trivy : '';

  it('reports exactly the expected CVEs, marks the OS-less image, and fails the missing image permanently', async (t) => {
    const h = await Harness.create('image-scanning-e2e-');
    const deps = h.deps({ bin: trivy, cacheDir: await copySampleCache(join(h.dir, 'trivy-cache')), timeoutSeconds: 120 });
    const ref = (key: keyof typeof SAMPLE_IMAGES) => services.registry.ref(SAMPLE_IMAGES[key]);
    const list = await h.writeList('images.txt', [ref('alpine'), ref('debian'), ref('noOs'), ref('goApp'), ref('missing')]);
    t.diagnostic(`Trivy ${trivyVersion(trivy) ?? '?'} at ${trivy}; registry ${services.registry.host}`);

    const started = Date.now();
    const taskQueue = `e2e-${randomUUID()}`;
    const worker = await testWorker(services.env, deps, taskQueue, { maxConcurrentActivityTaskExecutions: 8 });
    const { summary, childHistory } = await worker.runUntil(async () => {
      const handle = await startRun(services.env.client, { releases: [{ name: 'e2e', images: list }] }, { taskQueue });
      const summary = await handle.result();
      return { summary, childHistory: await services.env.client.workflow.getHandle(`${handle.workflowId}/e2e`).fetchHistory() };
    });
    t.diagnostic(`run of 5 images with the real Trivy: ${Date.now() - started} ms`);

    // The run: four images scanned, the missing one a permanent failure, tried once.
    const release = summary.releases[0]!;
    assert.equal(release.status, 'completed', release.error);
    assert.equal(release.result?.total, 5);
    assert.equal(release.result?.failed, 1);
    assert.deepEqual(release.result?.failedByType, { ImageNotFound: 1 });
    assert.match(release.result?.failedSample[0] ?? '', /e2e\/missing:1\.0: image not found/);
    // A failure the product handles is one WARN line, not the SDK's stack trace.
    const missingLines = capturedLogs.filter((l) => l.includes(ref('missing')));
    assert.ok(missingLines.some((l) => l.startsWith(`WARN scan of ${ref('missing')} failed (attempt 1, not retried): ImageNotFound`)), missingLines.join('\n'));
    assert.ok(!missingLines.some((l) => l.startsWith('WARN Activity failed')), 'no "Activity failed" trace for a handled failure');
    const attempts = (childHistory.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt).filter((a) => a != null);
    assert.ok(attempts.length >= 5, `scan attempts were recorded (${attempts.length})`);
    assert.ok(attempts.every((a) => a === 1), `no scan was retried, attempts: ${attempts.join(',')}`);

    // The CSV: the expected findings, and only those.
    const rows = parseReportCsv(await h.readReport('e2e'), 'cves-e2e.csv');
    const actual = rows.map((r) => [r.image, r.packageName, r.cells.installed_version, r.vulnerabilityId, r.cells.severity, r.cells.patched_version].join(' ')).sort();
    const expected = EXPECTED_FINDINGS.map(([key, ...rest]) => [ref(key), ...rest].join(' ')).sort();
    assert.deepEqual(actual, expected);
    const goRow = rows.find((r) => r.image === ref('goApp'))!;
    assert.equal(goRow.cells.target, 'usr/local/bin/fixture-goapp');
    assert.equal(goRow.cells.class, 'lang-pkgs');
    assert.ok(rows.filter((r) => r.image === ref('alpine')).every((r) => r.cells.class === 'os-pkgs' && /alpine 3\.19\.1/.test(r.cells.target ?? '')));
    assert.ok(rows.some((r) => r.cells.title === 'zlib: fixture heap overflow in inflate'), 'titles come from the DB');

    // The summary: OS-less images marked, the missing image listed as failed.
    const report = JSON.parse(await readFile(join(h.reportsDir, 'cves-e2e.summary.json'), 'utf8')) as ReleaseReportSummary;
    assert.deepEqual([...report.osNotScannedImages].sort(), [ref('goApp'), ref('noOs')].sort());
    assert.deepEqual(report.failedImages.map((f) => [f.image, f.type]), [[ref('missing'), 'ImageNotFound']]);
    assert.equal(report.findings, EXPECTED_FINDINGS.length);
    assert.deepEqual({ ...report.images }, { total: 5, withFindings: 3, clean: 0, osNotScanned: 2, failed: 1 });

    // The issue plan: one new issue per affected image; the missing image held, the OS-less one untouched.
    const plan = JSON.parse(await readFile(join(h.reportsDir, 'issue-plan.json'), 'utf8')) as IssuePlan;
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.image}`).sort(), [ref('alpine'), ref('debian'), ref('goApp')].map((i) => `create ${i}`).sort());
    assert.deepEqual(plan.held, [ref('missing')]);
    const alpineIssue = plan.changes.find((c) => c.image === ref('alpine'));
    assert.ok(alpineIssue?.action === 'create' && alpineIssue.body.includes('CVE-2099-1002'));
  });
});
