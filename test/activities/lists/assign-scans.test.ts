import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { createActivities } from '../../../activities/index.js';
import { storeKeys } from '../../../activities/store/result-store.js';
import type { ImageRecord } from '../../../core/image-list.js';
import type { Harness } from '../../helpers/harness.js';
import { run, workspace } from '../support.js';

const RUN = 'run-assign';

async function resolveTwoReleases(h: Harness) {
  const activities = createActivities(h.deps());
  const older = await h.writeList('v2.8.txt', ['rancher/a:v1', 'rancher/b:v1', 'rancher/c:v1']);
  // The same images, spelled differently, are still the same images.
  const newer = await h.writeList('v2.9.txt', ['docker.io/rancher/b:v1', 'rancher/c:v1', 'rancher/d:v1', 'rancher/e:v1']);
  await run(activities.resolveImages, { runKey: RUN, release: { name: 'v2.8.12', images: older } });
  await run(activities.resolveImages, { runKey: RUN, release: { name: 'v2.9.5', images: newer } });
  return activities;
}

async function assigned(h: Harness, release: string): Promise<string[]> {
  return ((await h.deps().store.readJson<ImageRecord[]>(storeKeys.assigned(RUN, release))) ?? []).map((r) => r.image);
}

describe('assignScans', () => {
  it('gives each image shared by two releases to the first release only, the same way every time', async (t) => {
    const h = await workspace(t);
    const activities = await resolveTwoReleases(h);
    const deps = h.deps();

    const counts = await run(activities.assignScans, { runKey: RUN, releases: ['v2.8.12', 'v2.9.5'] });
    assert.deepEqual(counts, { 'v2.8.12': 3, 'v2.9.5': 2 });
    assert.deepEqual(await assigned(h, 'v2.8.12'), ['rancher/a:v1', 'rancher/b:v1', 'rancher/c:v1']);
    assert.deepEqual(await assigned(h, 'v2.9.5'), ['rancher/d:v1', 'rancher/e:v1']);

    const bytes = async () => Promise.all(['v2.8.12', 'v2.9.5'].map((r) => readFile(deps.store.path(storeKeys.assigned(RUN, r)), 'utf8')));
    const before = await bytes();
    for (let i = 0; i < 3; i++) assert.deepEqual(await run(activities.assignScans, { runKey: RUN, releases: ['v2.8.12', 'v2.9.5'] }), counts);
    assert.deepEqual(await bytes(), before, 'a retry writes the same assignment');

    // The release lists themselves still hold every image for the reports.
    assert.equal((await deps.store.readJson<ImageRecord[]>(storeKeys.images(RUN, 'v2.9.5')))?.length, 4);

    // Scanning every release's assignment scans each unique image exactly once.
    for (const [release, n] of Object.entries(counts)) {
      for (let index = 0; index < n; index++) await run(activities.scanImage, { runKey: RUN, release, index });
    }
    const scanned = (await h.calls()).map((c) => c.image).sort();
    assert.deepEqual(scanned, ['rancher/a:v1', 'rancher/b:v1', 'rancher/c:v1', 'rancher/d:v1', 'rancher/e:v1']);
  });

  it('follows the order of the releases it is given', async (t) => {
    const h = await workspace(t);
    const activities = await resolveTwoReleases(h);
    assert.deepEqual(await run(activities.assignScans, { runKey: RUN, releases: ['v2.9.5', 'v2.8.12'] }), { 'v2.9.5': 4, 'v2.8.12': 1 });
    assert.deepEqual(await assigned(h, 'v2.8.12'), ['rancher/a:v1']);
  });
});
