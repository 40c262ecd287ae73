// VEX end to end with the real Trivy: a VEX file given to every scan suppresses one sample CVE
// for one image, the suppressed finding stays in the CSV as a VEX ignore and out of the issue,
// and comes back as an open finding when the statement goes away; our own OpenVEX output, fed
// back to Trivy, gives the same ignores as the people's ignores it was written from (the proof
// that Trivy accepts and matches the file we publish).
//
// Needs what test/e2e/real-trivy.test.ts needs; skipped the same way without it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startRun } from '../../client/scan.js';
import type { ActivityDeps } from '../../activities/deps.js';
import type { IssuePlan } from '../../core/issue-plan.js';
import { parseReportCsv } from '../../core/render/csv.js';
import type { ReleaseReportSummary } from '../../core/triage.js';
import { Harness } from '../helpers/harness.js';
import { testWorker } from '../helpers/temporal.js';
import { copySampleCache, locateSample, SAMPLE_IMAGES } from './offline-sample.js';
import { useSampleServices } from './sample-services.js';

const sample = await locateSample();
const skip = 'missing' in sample ? `VEX end-to-end test skipped: ${sample.missing}` : false;
if (skip && process.env.IMAGE_SCANNING_E2E === 'required') throw new Error(`IMAGE_SCANNING_E2E=required, but ${skip}`);

const RELEASE = 'vex-e2e';

describe('VEX sources with the real Trivy, images and vulnerability DB built here', { skip }, () => {
  const services = useSampleServices();
  const trivy = 'trivy' in sample ? sample.trivy : '';

  const ref = (key: keyof typeof SAMPLE_IMAGES) => services.registry.ref(SAMPLE_IMAGES[key]);

  async function run(h: Harness, deps: ActivityDeps, list: string) {
    const taskQueue = `e2e-vex-${randomUUID()}`;
    const worker = await testWorker(services.env, deps, taskQueue, { maxConcurrentActivityTaskExecutions: 4 });
    const summary = await worker.runUntil(async () => (await startRun(services.env.client, { releases: [{ name: RELEASE, images: list }] }, { taskQueue })).result());
    assert.equal(summary.releases[0]!.status, 'completed', summary.releases[0]!.error);
    const rows = parseReportCsv(await h.readReport(RELEASE), `cves-${RELEASE}.csv`);
    const report = JSON.parse(await readFile(join(h.reportsDir, `cves-${RELEASE}.summary.json`), 'utf8')) as ReleaseReportSummary;
    const plan = JSON.parse(await readFile(join(h.reportsDir, 'issue-plan.json'), 'utf8')) as IssuePlan;
    const openVex = await readFile(join(h.reportsDir, `cves-${RELEASE}.openvex.json`), 'utf8');
    return { rows, report, plan, openVex };
  }

  /** (image, package, id) of every row that is an honoured ignore, judged from the CSV alone. */
  const ignoredKeys = (rows: { image: string; packageName: string; vulnerabilityId: string; state: string }[]) =>
    rows.filter((r) => r.state === 'ignore').map((r) => `${r.image} ${r.packageName} ${r.vulnerabilityId}`).sort();

  it('a VEX file suppresses one CVE for one image: a VEX ignore in the CSV, out of the issue, open again without the statement', async (t) => {
    const h = await Harness.create('image-scanning-e2e-vex-');
    const cacheDir = await copySampleCache(join(h.dir, 'trivy-cache'));
    const list = await h.writeList('images.txt', [ref('alpine'), ref('debian')]);
    // zlib's CVE-2099-1002 (CRITICAL) in the alpine image only; the debian image has no such CVE, and the
    // statement names the alpine repository, so nothing else may be touched.
    const vexFile = join(h.dir, 'suse.openvex.json');
    const product = `pkg:oci/alpine-vulnerable?repository_url=${services.registry.host}/e2e/alpine-vulnerable`;
    await writeFile(
      vexFile,
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        '@id': 'urn:test:suse',
        author: 'SUSE <security@suse.com>',
        timestamp: '2026-11-01T00:00:00Z',
        version: 1,
        statements: [{ vulnerability: { name: 'CVE-2099-1002' }, products: [{ '@id': product }], status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }],
      }),
    );
    const withVex = await run(h, h.deps({ bin: trivy, cacheDir, timeoutSeconds: 120, vex: [{ kind: 'file', name: 'suse.openvex.json', path: vexFile }] }), list);
    const zlib = withVex.rows.find((r) => r.vulnerabilityId === 'CVE-2099-1002')!;
    t.diagnostic(`VEX-written note: ${zlib.notes}`);
    assert.equal(zlib.image, ref('alpine'));
    assert.equal(zlib.state, 'ignore');
    assert.equal(zlib.notes, 'VEX not_affected (vulnerable_code_not_in_execute_path) [source: suse.openvex.json]');
    assert.equal(zlib.cells.severity, 'CRITICAL');
    assert.deepEqual(ignoredKeys(withVex.rows), [`${ref('alpine')} zlib CVE-2099-1002`], 'only that finding is ignored');
    assert.equal(withVex.rows.length, 5, 'every finding of both images is still a row');
    assert.equal(withVex.report.vexIgnored, 1);
    assert.equal(withVex.report.ignored, 1);
    const alpineIssue = withVex.plan.changes.find((c) => c.image === ref('alpine'));
    assert.ok(alpineIssue?.action === 'create');
    assert.ok(!alpineIssue.body.includes('CVE-2099-1002'), 'the VEX ignore is left out of the issue');
    assert.ok(alpineIssue.body.includes('CVE-2099-1001'));
    assert.ok(!alpineIssue.labels.includes('critical-cves'), 'its only CRITICAL is ignored');
    assert.equal((JSON.parse(withVex.openVex) as { statements: unknown[] }).statements.length, 0, 'a VEX-written ignore is not restated as ours');

    // The statement is gone (the source is no longer configured): the finding is open again.
    const without = await run(h, h.deps({ bin: trivy, cacheDir, timeoutSeconds: 120 }), list);
    const back = without.rows.find((r) => r.vulnerabilityId === 'CVE-2099-1002')!;
    assert.deepEqual([back.state, back.notes], ['triaged', '']);
    assert.equal(without.report.vexIgnored, 0);
    const reopened = without.plan.changes.find((c) => c.image === ref('alpine'));
    assert.ok(reopened && 'body' in reopened && reopened.body.includes('CVE-2099-1002'), 'the issue lists it again');
  });

  it("our OpenVEX output fed back to Trivy gives the same ignores as the people's it was written from", async (t) => {
    const people = await Harness.create('image-scanning-e2e-vex-people-');
    const list = await people.writeList('images.txt', [ref('alpine'), ref('goApp'), ref('debian')]);
    // A legacy ten-column CSV written by people: libssl3 ignored but not libcrypto3 (same CVE,
    // another package: the statement must name the package), and the Go module in the binary.
    const legacy = [
      'image,package_name,type,vulnerability_id,severity,url,patched_version,mirrored,state,notes',
      `${ref('alpine')},libssl3,alpine,CVE-2099-1001,HIGH,,,false,ignore,"TLS is terminated by the proxy, never in this image"`,
      `${ref('goApp')},golang.org/x/text,gobinary,CVE-2099-3001,HIGH,,,false,ignore,the binary never parses language tags`,
    ].join('\n');
    await mkdir(people.reportsDir, { recursive: true });
    await writeFile(join(people.reportsDir, `cves-${RELEASE}.csv`), `${legacy}\n`);
    const first = await run(people, people.deps({ bin: trivy, cacheDir: await copySampleCache(join(people.dir, 'trivy-cache')), timeoutSeconds: 120 }), list);
    const expected = [`${ref('alpine')} libssl3 CVE-2099-1001`, `${ref('goApp')} golang.org/x/text CVE-2099-3001`];
    assert.deepEqual(ignoredKeys(first.rows), expected);
    assert.equal(first.report.ignored, 2);
    const doc = JSON.parse(first.openVex) as { statements: { products: { '@id': string; subcomponents?: { '@id': string }[] }[] }[] };
    assert.equal(doc.statements.length, 2);
    t.diagnostic(`our statements: ${doc.statements.map((s) => `${s.products[0]!['@id']} / ${s.products[0]!.subcomponents?.[0]?.['@id']}`).join('; ')}`);

    // A fresh place with no CSV of its own: only our OpenVEX file decides.
    const fed = await Harness.create('image-scanning-e2e-vex-fed-');
    const vexFile = join(fed.dir, 'ours.openvex.json');
    await writeFile(vexFile, first.openVex);
    const fedList = await fed.writeList('images.txt', [ref('alpine'), ref('goApp'), ref('debian')]);
    const second = await run(
      fed,
      fed.deps({ bin: trivy, cacheDir: await copySampleCache(join(fed.dir, 'trivy-cache')), timeoutSeconds: 120, vex: [{ kind: 'file', name: 'ours.openvex.json', path: vexFile }] }),
      fedList,
    );
    assert.deepEqual(ignoredKeys(second.rows), expected, 'Trivy suppressed exactly the findings people ignored');
    assert.ok(second.rows.filter((r) => r.state === 'ignore').every((r) => r.notes === 'VEX not_affected [source: ours.openvex.json]'), 'each ignore names our file');
    assert.equal(second.report.vexIgnored, 2);
    assert.deepEqual(
      second.rows.map((r) => `${r.image} ${r.packageName} ${r.vulnerabilityId}`).sort(),
      first.rows.map((r) => `${r.image} ${r.packageName} ${r.vulnerabilityId}`).sort(),
      'the same findings, suppressed ones included',
    );
  });
});
