// The scan activity's re-match rules with the Trivy stub and a fake crane (a script printing a
// digest): an SBOM that reproduces its scan is trusted and re-matched next run; one that does not
// marks the image as needing full scans, listed with the reason, and never fails the scan.
import assert from 'node:assert/strict';
import { chmod, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createActivities } from '../../../activities/index.js';
import { storeKeys } from '../../../activities/store/result-store.js';
import { sbomKeys } from '../../../activities/store/sbom-store.js';
import type { StoredSbom } from '../../../core/rematch.js';
import type { ImageScan, ScanSummary } from '../../../core/scan.js';
import type { ReleaseReportSummary } from '../../../core/triage.js';
import { assign, record, run, workspace } from '../support.js';

const RELEASE = 'v2.10.1';
const IMAGE = 'rancher/fleet-agent:v0.10.4';
const DIGEST = `sha256:${'c'.repeat(64)}`;
const PINNED = `rancher/fleet-agent@${DIGEST}`;

async function fakeCrane(dir: string): Promise<string> {
  const path = join(dir, 'crane');
  await writeFile(path, `#!/bin/sh\necho ${DIGEST}\n`);
  await chmod(path, 0o755);
  return path;
}

describe('re-match rules in the scan activity (Trivy stub, fake crane)', () => {
  it('trusts an SBOM that reproduces the scan and re-matches it the next run without a pull', async (t) => {
    const h = await workspace(t);
    await h.scenarios({ default: { synthetic: 3 }, sbom: { sameAs: PINNED } });
    const deps = h.deps({ crane: await fakeCrane(h.dir), version: '0.74.0' });
    const { scanImage } = createActivities(deps);
    await assign(deps, 'run-1', RELEASE, [record(IMAGE)]);
    const first = await run(scanImage, { runKey: 'run-1', release: RELEASE, index: 0 }) as ScanSummary;
    assert.equal(first.scannedAs, 'pulled');
    assert.equal(first.digest, DIGEST);
    const stored = await deps.store.readJson<StoredSbom>(sbomKeys.sbom(DIGEST, '0.74.0'));
    assert.equal(stored?.verified, true);
    const calls = (await h.calls()).map((c) => c.kind);
    assert.deepEqual(calls, ['scan', 'convert', 'sbom'], 'a full scan, its SBOM made, then checked');
    // sbom and convert run with Go's collector off up to 1 GiB (bounded heaps, a fifth less CPU); image keeps Go's defaults.
    if (process.env.GOGC === undefined && process.env.GOMEMLIMIT === undefined) assert.deepEqual(await h.goGc(), ['(unset) (unset)', 'off 1GiB', 'off 1GiB']);
    assert.ok((await h.calls())[0]!.args.includes('--list-all-pkgs') && (await h.calls())[0]!.image === PINNED, 'the full scan is of repository@digest with every package');

    // Not seen for 120 days: the next run that resolves the digest starts its retention again.
    const sbomPath = deps.store.path(sbomKeys.sbom(DIGEST, '0.74.0'));
    const longAgo = new Date(Date.now() - 120 * 24 * 3600 * 1000);
    await utimes(sbomPath, longAgo, longAgo);
    await assign(deps, 'run-2', RELEASE, [record(IMAGE)]);
    const second = await run(scanImage, { runKey: 'run-2', release: RELEASE, index: 0 }) as ScanSummary;
    assert.equal(second.scannedAs, 'rematched');
    assert.ok((await stat(sbomPath)).mtimeMs > Date.now() - 60_000, 'the re-match touched the SBOM');
    await deps.store.prune(90);
    assert.equal((await deps.store.readJson<StoredSbom>(sbomKeys.sbom(DIGEST, '0.74.0')))?.verified, true, 'kept by the retention of a digest still seen');
    assert.deepEqual((await h.calls()).map((c) => c.kind).slice(3), ['sbom'], 'no image scan: no pull');
    const a = await deps.store.readJson<ImageScan>(storeKeys.result('run-1', record(IMAGE).canonical));
    const b = await deps.store.readJson<ImageScan>(storeKeys.result('run-2', record(IMAGE).canonical));
    assert.deepEqual(b!.findings, a!.findings, 'the same findings either way');
    assert.ok(a!.findings.every((f) => f.target.startsWith(`${IMAGE} (`)), 'the OS target is the image, not the digest');
  });

  it('matches the SBOM of the digest the tag had last time while the HEAD is made, and drops that match when the tag moved', async (t) => {
    const h = await workspace(t);
    await h.scenarios({ default: { synthetic: 3 }, sbom: { sameAs: PINNED } });
    const deps = h.deps({ crane: await fakeCrane(h.dir), version: '0.74.0' });
    await assign(deps, 'run-1', RELEASE, [record(IMAGE)]);
    await run(createActivities(deps).scanImage, { runKey: 'run-1', release: RELEASE, index: 0 });
    // The tag now points elsewhere: the early match of the old digest's SBOM is made, then not used.
    const moved = `sha256:${'d'.repeat(64)}`;
    const crane = join(h.dir, 'crane-moved');
    await writeFile(crane, `#!/bin/sh\necho ${moved}\n`);
    await chmod(crane, 0o755);
    // The stub's `trivy sbom` now gives what the new digest's scan gives.
    await h.scenarios({ default: { synthetic: 3 }, sbom: { sameAs: `rancher/fleet-agent@${moved}` } });
    const after = h.deps({ crane, version: '0.74.0' });
    await assign(after, 'run-2', RELEASE, [record(IMAGE)]);
    const second = (await run(createActivities(after).scanImage, { runKey: 'run-2', release: RELEASE, index: 0 })) as ScanSummary;
    assert.equal(second.scannedAs, 'pulled');
    assert.equal(second.digest, moved);
    const calls = (await h.calls()).slice(3);
    assert.deepEqual(calls.map((c) => c.kind), ['sbom', 'scan', 'convert', 'sbom'], 'the early match, then a full scan of the new digest and its SBOM');
    assert.equal(calls[1]!.image, `rancher/fleet-agent@${moved}`);
    // And the next run re-matches the new digest's SBOM.
    await assign(after, 'run-3', RELEASE, [record(IMAGE)]);
    const third = (await run(createActivities(after).scanImage, { runKey: 'run-3', release: RELEASE, index: 0 })) as ScanSummary;
    assert.equal(third.scannedAs, 'rematched');
    assert.deepEqual((await h.calls()).slice(7).map((c) => c.kind), ['sbom'], 'one Trivy process: the early match was the one');
  });

  it('marks an image whose SBOM does not reproduce its scan as needing full scans, and keeps pulling it', async (t) => {
    const h = await workspace(t);
    await h.scenarios({ default: { synthetic: 3 }, sbom: { synthetic: 0 } });
    const deps = h.deps({ crane: await fakeCrane(h.dir), version: '0.74.0' });
    const { scanImage } = createActivities(deps);
    await assign(deps, 'run-1', RELEASE, [record(IMAGE)]);
    const first = await run(scanImage, { runKey: 'run-1', release: RELEASE, index: 0 }) as ScanSummary;
    assert.equal(first.outcome, 'findings', 'the scan itself does not fail');
    const scan = await deps.store.readJson<ImageScan>(storeKeys.result('run-1', record(IMAGE).canonical));
    assert.match(scan!.needsFullScans ?? '', /does not reproduce its scan: outcome findings by the full scan, clean from the SBOM/);
    const stored = await deps.store.readJson<StoredSbom>(sbomKeys.sbom(DIGEST, '0.74.0'));
    assert.equal(stored?.verified, false);

    await assign(deps, 'run-2', RELEASE, [record(IMAGE)]);
    const second = await run(scanImage, { runKey: 'run-2', release: RELEASE, index: 0 }) as ScanSummary;
    assert.equal(second.scannedAs, 'pulled');
    assert.deepEqual((await h.calls()).map((c) => c.kind).slice(3), ['scan'], 'a full scan again, and no SBOM made again');
    const again = await deps.store.readJson<ImageScan>(storeKeys.result('run-2', record(IMAGE).canonical));
    assert.match(again!.needsFullScans ?? '', /does not reproduce/);
  });

  it('lists an image needing full scans, and why, in the release summary of every run', async (t) => {
    const h = await workspace(t);
    // The stub's `trivy sbom` finds nothing: no SBOM of this digest reproduces its scan.
    await h.scenarios({ default: { synthetic: 3 }, sbom: { synthetic: 0 } });
    const deps = h.deps({ crane: await fakeCrane(h.dir), version: '0.74.0' });
    const activities = createActivities(deps);
    const list = await h.writeList('rancher-images.txt', [IMAGE]);
    for (const runKey of ['run-1', 'run-2']) {
      await run(activities.resolveImages, { runKey, release: { name: RELEASE, images: list } });
      await run(activities.assignScans, { runKey, releases: [RELEASE] });
      await run(activities.scanImage, { runKey, release: RELEASE, index: 0 });
      await run(activities.writeReleaseReport, { runKey, release: RELEASE });
      const summary = JSON.parse(await readFile(join(h.reportsDir, `cves-${RELEASE}.summary.json`), 'utf8')) as ReleaseReportSummary;
      assert.deepEqual(summary.scanPaths, { rematched: 0, pulled: 1 }, `${runKey}: pulled`);
      assert.equal(summary.needsFullScans?.length, 1, `${runKey}: listed`);
      assert.equal(summary.needsFullScans![0]!.image, IMAGE);
      assert.match(summary.needsFullScans![0]!.reason, /does not reproduce its scan: outcome findings by the full scan, clean from the SBOM/);
    }
    assert.deepEqual((await h.calls()).map((c) => c.kind), ['scan', 'convert', 'sbom', 'scan'], 'full scans both runs, the SBOM made and checked once');
  });
});
