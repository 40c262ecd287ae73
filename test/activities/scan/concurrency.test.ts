import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDatabaseDir } from '../../../activities/scan/run-database.js';
import { createActivities } from '../../../activities/index.js';
import type { ImageScan, ScanSummary } from '../../../core/scan.js';
import { eventually, images } from '../../helpers/harness.js';
import { argv, flagValue, run, workspace } from '../support.js';

describe('concurrent scans', () => {
  it("runs 8 scans at once through one activities object, each image once, all on the run's copy of the DB and the configured layer cache", async (t) => {
    const h = await workspace(t);
    // Every stub waits for "go", which is only released once all 8 are running: proof they overlap.
    await h.scenarios({ default: { synthetic: 3, waitFor: 'go' } });
    const deps = h.deps();
    const activities = createActivities(deps);
    const list = images('conc', 0, 8);
    const runKey = 'run-concurrency';
    await run(activities.resolveImages, { runKey, release: { name: 'v2.9.5', images: await h.writeList('images.txt', list) } });
    assert.deepEqual(await run(activities.assignScans, { runKey, releases: ['v2.9.5'] }), { 'v2.9.5': 8 });

    const scans = Promise.all(list.map((_, index) => run(activities.scanImage, { runKey, release: 'v2.9.5', index })));
    try {
      await eventually(async () => (await h.calls()).length === 8, 15_000, 'all 8 stubs to be running');
    } finally {
      await h.release('go');
    }
    const summaries = await scans as ScanSummary[];

    assert.deepEqual(summaries.map((s) => s.image), list);
    assert.ok(summaries.every((s) => s.outcome === 'findings'));
    for (const s of summaries) assert.deepEqual((await deps.store.readJson<ImageScan>(s.resultKey))?.findings.length, 3);
    assert.equal(new Set(summaries.map((s) => s.resultKey)).size, 8);

    const calls = await h.calls();
    assert.equal(calls.length, 8);
    assert.deepEqual(calls.map((c) => c.image).sort(), [...list].sort(), 'each image scanned exactly once');
    const argvs = calls.map(argv);
    assert.deepEqual(new Set(argvs.map((a) => flagValue(a, '--cache-dir'))), new Set([runDatabaseDir(deps.trivy.cacheDir, runKey)]), "one DB folder, the run's");
    assert.ok(argvs.every((a) => !a.includes('--cache-backend')), 'the cache backend is not on the command line');
    assert.deepEqual(await h.cacheBackends(), Array(8).fill(deps.trivy.cacheBackend), 'every scan gets the configured layer cache');
    assert.ok(argvs.every((a) => a.includes('--skip-db-update')));
    assert.equal(new Set(argvs.map((a) => flagValue(a, '--output'))).size, 8, 'each scan writes its own report file');

    // Retries of the whole batch are answered from the store.
    await Promise.all(list.map((_, index) => run(activities.scanImage, { runKey, release: 'v2.9.5', index })));
    assert.equal((await h.calls()).length, 8);
  });
});
