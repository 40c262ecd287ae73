// Fidelity of re-matching with the real Trivy over the four sample images (Alpine, Debian, a Go
// binary, no OS): a run that re-matches every image from its stored SBOM and a run that pulls and
// scans every image in full (on a store of its own, so nothing carries over) give the same
// findings, outcome and OS per image, and a byte-identical CSV.
// Needs `npm run trivy-cli`, `npm run crane-cli` and scripts/build-e2e-fixtures.sh (CI runs all three).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findCrane } from '../../client/crane-cli.js';
import { startRun } from '../../client/scan.js';
import { trivyVersion } from '../../client/trivy-cli.js';
import type { ActivityDeps } from '../../activities/deps.js';
import { storeKeys } from '../../activities/store/result-store.js';
import type { ImageScan } from '../../core/scan.js';
import type { ReleaseReportSummary } from '../../core/triage.js';
import { Harness } from '../helpers/harness.js';
import { testWorker } from '../helpers/temporal.js';
import { copySampleCache, EXPECTED_FINDINGS, locateSample, SAMPLE_IMAGES } from './offline-sample.js';
import { useSampleServices } from './sample-services.js';

const sample = await locateSample();
const crane = await findCrane({ install: false }).catch((error: Error) => ({ missing: error.message }));
const skip = 'missing' in sample ? `re-match fidelity test skipped: ${sample.missing}` : typeof crane !== 'string' ? `re-match fidelity test skipped: ${crane.missing}` : false;
if (skip && process.env.IMAGE_SCANNING_E2E === 'required') throw new Error(`IMAGE_SCANNING_E2E=required, but ${skip}`);

const KEYS = ['alpine', 'debian', 'goApp', 'noOs'] as const;

describe('re-matching gives what a full scan gives, with the real Trivy over the four sample images', { skip }, () => {
  const services = useSampleServices();
  const trivy = 'trivy' in sample ? sample.trivy : '';

  async function setUp(fullScan: boolean) {
    const h = await Harness.create('image-scanning-fidelity-');
    const deps = h.deps({
      bin: trivy,
      crane: crane as string,
      version: trivyVersion(trivy),
      timeoutSeconds: 120,
      fullScan,
      cacheDir: await copySampleCache(join(h.dir, 'trivy-cache')),
    });
    const refs = KEYS.map((k) => `${services.registry.host}/${SAMPLE_IMAGES[k]}`);
    const list = await h.writeList('images.txt', refs);
    const run = async (runDeps: ActivityDeps = deps) => {
      const worker = await testWorker(services.env, runDeps, `fidelity-${randomUUID()}`, { maxConcurrentActivityTaskExecutions: 4 });
      const summary = await worker.runUntil(async () => (await startRun(services.env.client, { releases: [{ name: 'e2e', images: list }] }, { taskQueue: worker.options.taskQueue })).result());
      assert.equal(summary.releases[0]!.result?.failed, 0, JSON.stringify(summary.releases[0]));
      const scans = await Promise.all(refs.map(async (ref) => (await runDeps.store.readJson<ImageScan>(storeKeys.result(summary.runKey, ref)))!));
      const report = JSON.parse(await readFile(join(h.reportsDir, 'cves-e2e.summary.json'), 'utf8')) as ReleaseReportSummary;
      return { scans, csv: await h.readReport('e2e'), report };
    };
    return { h, deps, refs, run };
  }

  it('gives identical findings, outcome and CSV by the re-match path and by the full path', async (t) => {
    // The re-match path: a first run pulls and makes each SBOM, the second re-matches every image.
    const rematching = await setUp(false);
    const first = await rematching.run();
    assert.deepEqual(first.report.needsFullScans, [], 'every sample image has an SBOM that reproduces its scan');
    const rematched = await rematching.run();
    assert.deepEqual(rematched.scans.map((s) => s.scannedAs), KEYS.map(() => 'rematched'));

    // The full path, on a store and reports of its own: every image pulled and scanned in full.
    const full = await (await setUp(true)).run();
    assert.deepEqual(full.scans.map((s) => s.scannedAs), KEYS.map(() => 'pulled'));

    for (const [i, key] of KEYS.entries()) {
      const a = rematched.scans[i]!;
      const b = full.scans[i]!;
      t.diagnostic(`${key}: outcome ${a.outcome}/${b.outcome}, OS ${a.os ?? '-'}/${b.os ?? '-'}, ${a.findings.length}/${b.findings.length} findings`);
      assert.equal(a.outcome, b.outcome, `${key}: outcome`);
      assert.equal(a.osScanned, b.osScanned, `${key}: OS scanned`);
      assert.equal(a.os, b.os, `${key}: OS`);
      assert.deepEqual(a.findings, b.findings, `${key}: findings`);
      assert.equal(a.digest, b.digest, `${key}: the same digest was scanned`);
      // What the sample must produce (offline-sample.ts), so that "identical" is not "both empty".
      const expected = EXPECTED_FINDINGS.filter(([k]) => k === key).map(([, pkg, , id]) => `${id} ${pkg}`).sort();
      assert.deepEqual(a.findings.map((f) => `${f.vulnerabilityId} ${f.packageName}`).sort(), expected, `${key}: the sample's findings`);
    }
    assert.equal(rematched.csv, full.csv, 'the CSV is byte-identical');
    assert.equal(rematched.csv, first.csv, 'and the same as the first run, which pulled');
    assert.ok(!rematched.csv.includes('.cdx.json') && !rematched.csv.includes('@sha256:'), 'OS targets are the image, never a file or a digest');
  });
});
