import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { createActivities } from '../../../activities/index.js';
import { storeKeys } from '../../../activities/store/result-store.js';
import type { ImageScan } from '../../../core/scan.js';
import { eventually, processAlive } from '../../helpers/harness.js';
import { activityEnvironment, assign, record, workspace } from '../support.js';

const RUN = 'run-cancel';
const RELEASE = 'v2.10.1';
const IMAGE = 'rancher/rancher:v2.10.1';

describe('scanImage while Trivy runs', () => {
  it('heartbeats while Trivy runs, and on cancellation kills Trivy and rejects with CancelledFailure', async (t) => {
    const h = await workspace(t);
    await h.scenarios({ [IMAGE]: { hang: true } });
    const deps = h.deps({ heartbeatSeconds: 0.1 });
    const image = record(IMAGE);
    await assign(deps, RUN, RELEASE, [image]);

    const env = activityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const scan = env.run(createActivities(deps).scanImage, { runKey: RUN, release: RELEASE, index: 0 });
    // Settles the promise's state without an unhandled rejection while the test waits.
    const outcome = scan.then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );

    const call = await eventually(async () => (await h.calls()).find((c) => c.kind === 'scan'), 10_000, 'the stub to start');
    t.after(() => {
      // Only if the test failed: never leave the stub behind.
      if (processAlive(call.pid)) process.kill(call.pid, 'SIGKILL');
    });
    assert.ok(processAlive(call.pid), 'the stub runs');
    const beatsAtStart = beats.length;
    await eventually(async () => beats.length >= beatsAtStart + 3, 5_000, 'heartbeats while Trivy runs');
    assert.deepEqual(beats.at(-1), { image: IMAGE });

    const cancelledAt = Date.now();
    env.cancel();
    // A scan that ignored the cancellation would run until its kill timer (90 s): give up long before.
    const settled = await Promise.race([
      outcome,
      new Promise<{ ok: 'timeout' }>((resolve) => setTimeout(() => resolve({ ok: 'timeout' }), 5_000).unref()),
    ]);
    assert.notEqual(settled.ok, 'timeout', 'the scan settles promptly after cancellation');
    assert.equal(settled.ok, false, 'a cancelled scan does not complete');
    assert.ok(settled.ok === false && settled.error instanceof CancelledFailure, `rejects with CancelledFailure, got ${String(settled.ok === false && settled.error)}`);
    await eventually(async () => !processAlive(call.pid), 3_000, `stub pid ${call.pid} to be gone`);
    assert.ok(Date.now() - cancelledAt < 3_000);

    // A cancelled scan is not a result: nothing is recorded, and no more heartbeats follow.
    assert.equal(await deps.store.readJson<ImageScan>(storeKeys.result(RUN, image.canonical)), undefined);
    const beatsAfter = beats.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(beats.length, beatsAfter);
  });
});
