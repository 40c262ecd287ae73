import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createActivities } from '../../activities/index.js';
import { applicationFailure, argv, assign, flagValue, record, run, workspace } from './support.js';

describe('prepareScanner', () => {
  it('downloads the vulnerability and Java DBs once into the shared cache dir', async (t) => {
    const h = await workspace(t);
    const deps = h.deps();
    assert.deepEqual(await run(createActivities(deps).prepareScanner), { downloaded: true });
    const calls = await h.calls();
    assert.deepEqual(calls.map((c) => c.kind), ['db', 'javadb']);
    assert.ok(argv(calls[0]!).includes('--download-db-only'));
    assert.ok(argv(calls[1]!).includes('--download-java-db-only'));
    for (const call of calls) assert.equal(flagValue(argv(call), '--cache-dir'), deps.trivy.cacheDir);
    assert.ok(existsSync(deps.trivy.cacheDir), 'the cache dir is created');
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
