import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createActivities } from '../../../activities/index.js';
import { runDatabaseDir } from '../../../activities/scan/run-database.js';
import { freePort } from '../../../host/ports.js';
import { applicationFailure, argv, assign, flagValue, record, run, workspace } from '../support.js';

describe('prepareScanner', () => {
  it('downloads the vulnerability and Java DBs once into the shared cache dir', async (t) => {
    const h = await workspace(t);
    const deps = h.deps();
    assert.equal((await run(createActivities(deps).prepareScanner)).downloaded, true);
    const calls = await h.calls();
    assert.deepEqual(calls.map((c) => c.kind), ['db', 'javadb']);
    assert.ok(argv(calls[0]!).includes('--download-db-only'));
    assert.ok(argv(calls[1]!).includes('--download-java-db-only'));
    for (const call of calls) assert.equal(flagValue(argv(call), '--cache-dir'), deps.trivy.cacheDir);
    assert.ok(existsSync(deps.trivy.cacheDir), 'the cache dir is created');
  });

  it('with `repo` among the VEX sources, downloads the VEX repositories once into the shared cache; offline, the run goes on', async (t) => {
    const h = await workspace(t);
    const deps = h.deps({ vex: [{ kind: 'repo', name: 'repo' }] });
    await run(createActivities(deps).prepareScanner, { runKey: 'run-1' });
    const vex = (await h.calls()).filter((c) => c.kind === 'vexrepo');
    assert.equal(vex.length, 1);
    assert.equal(flagValue(argv(vex[0]!), '--cache-dir'), deps.trivy.cacheDir);
    await writeFile(join(h.stubDir, 'vex-offline'), '');
    assert.equal((await run(createActivities(deps).prepareScanner, { runKey: 'run-2' })).downloaded, true, 'a failed VEX download does not fail the run');
    assert.equal((await h.calls()).filter((c) => c.kind === 'vexrepo').length, 2);
  });

  it("copies the DB for the run, so a later update of the shared DB leaves the run's scans on the one they started with", async (t) => {
    const h = await workspace(t);
    const deps = h.deps();
    const shared = join(deps.trivy.cacheDir, 'db');
    await mkdir(shared, { recursive: true });
    await writeFile(join(shared, 'trivy.db'), 'week 1');
    await writeFile(join(shared, 'metadata.json'), JSON.stringify({ UpdatedAt: '2026-11-30T00:00:00Z' }));
    // A copy left by a run prepared three weeks ago is removed; a recent one is kept.
    const stale = runDatabaseDir(deps.trivy.cacheDir, 'run-old');
    const recent = runDatabaseDir(deps.trivy.cacheDir, 'run-recent');
    for (const dir of [stale, recent]) await mkdir(dir, { recursive: true });
    const weeksAgo = new Date(Date.now() - 21 * 24 * 3600 * 1000);
    await utimes(stale, weeksAgo, weeksAgo);

    const prepared = await run(createActivities(deps).prepareScanner, { runKey: 'run-1' });
    assert.deepEqual(prepared, { downloaded: true, db: { updatedAt: '2026-11-30T00:00:00Z' } });
    const copy = runDatabaseDir(deps.trivy.cacheDir, 'run-1');
    assert.equal(await readFile(join(copy, 'db', 'trivy.db'), 'utf8'), 'week 1');
    assert.ok(!existsSync(stale), 'the stale copy is removed');
    assert.ok(existsSync(recent), 'the recent copy is kept');

    // Next week's run updates the shared DB; run-1's remaining scans still open week 1's.
    await writeFile(join(shared, 'trivy.db'), 'week 2');
    await assign(deps, 'run-1', 'v2.10.1', [record('rancher/fleet:v0.11.2')]);
    await run(createActivities(deps).scanImage, { runKey: 'run-1', release: 'v2.10.1', index: 0 });
    const scan = (await h.calls()).find((c) => c.kind === 'scan')!;
    assert.equal(flagValue(argv(scan), '--cache-dir'), copy);
    assert.equal(await readFile(join(copy, 'db', 'trivy.db'), 'utf8'), 'week 1');
  });

  it('fails with CacheUnavailable, naming the cache without its password, when the layer cache does not answer', async (t) => {
    const h = await workspace(t);
    const port = await freePort();
    const failure = await applicationFailure(run(createActivities(h.deps({ cacheBackend: `redis://:pw-123@127.0.0.1:${port}` })).prepareScanner, { runKey: 'r' }));
    assert.equal(failure.type, 'CacheUnavailable');
    assert.match(failure.message, new RegExp(`the scan cache at redis://\\*\\*\\*\\*@127\\.0\\.0\\.1:${port} does not answer`));
    assert.doesNotMatch(failure.message, /pw-123/);
    assert.equal((await h.calls()).length, 0, 'Trivy did not run');

    const unset = await applicationFailure(run(createActivities(h.deps({ cacheBackend: 'unset' })).prepareScanner, { runKey: 'r' }));
    assert.equal(unset.type, 'CacheUnavailable');
    assert.equal(unset.nonRetryable, true, 'no cache configured is a setup error, not worth retrying');
  });

  it('is skipped with a Trivy server, and scans then go to the server instead of the local DB', async (t) => {
    const h = await workspace(t);
    const server = 'http://trivy.scanning.svc:4954';
    const deps = h.deps({ server });
    const activities = createActivities(deps);
    assert.deepEqual(await run(activities.prepareScanner), { downloaded: false });
    assert.equal((await h.calls()).length, 0);

    await assign(deps, 'run-server', 'v2.10.1', [record('rancher/fleet:v0.11.2')]);
    await run(activities.scanImage, { runKey: 'run-server', release: 'v2.10.1', index: 0 });
    const calls = await h.calls();
    assert.equal(calls.length, 1);
    const args = argv(calls[0]!);
    assert.equal(flagValue(args, '--server'), server);
    assert.ok(!args.includes('--skip-db-update'));
    assert.equal(args.at(-1), 'rancher/fleet:v0.11.2');
  });

  it('fails permanently with ScannerNotInstalled when the Trivy executable does not exist', async (t) => {
    const h = await workspace(t);
    const failure = await applicationFailure(run(createActivities(h.deps({ bin: '/nonexistent/trivy' })).prepareScanner));
    assert.equal(failure.type, 'ScannerNotInstalled');
    assert.equal(failure.nonRetryable, true);
  });
});
