import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createActivities } from '../../../activities/index.js';
import { storeKeys } from '../../../activities/store/result-store.js';
import type { ImageRecord } from '../../../core/image-list.js';
import { applicationFailure, run, workspace } from '../support.js';

const RUN = 'run-resolve';

describe('resolveImages', () => {
  it('fails permanently with ImageListNotFound, naming the file, when the main list is missing', async (t) => {
    const h = await workspace(t);
    const missing = join(h.dir, 'rancher-images.txt');
    const failure = await applicationFailure(run(createActivities(h.deps()).resolveImages, { runKey: RUN, release: { name: 'v2.9.5', images: missing } }));
    assert.equal(failure.type, 'ImageListNotFound');
    assert.equal(failure.nonRetryable, true);
    assert.ok(failure.message.includes(missing), failure.message);
    assert.ok(failure.message.includes('v2.9.5'), failure.message);
  });

  it('accepts a release whose optional Windows and sources lists are missing', async (t) => {
    const h = await workspace(t);
    const list = await h.writeList('rancher-images.txt', ['rancher/fleet:v0.10.4', 'rancher/shell:v0.2.1']);
    const resolved = await run(createActivities(h.deps()).resolveImages, {
      runKey: RUN,
      release: { name: 'v2.9.5', images: list, windowsImages: join(h.dir, 'rancher-windows-images.txt'), sources: join(h.dir, 'rancher-images-sources.txt') },
    });
    assert.deepEqual(resolved, { release: 'v2.9.5', total: 2, windows: 0, mirrored: 0, problems: 0, problemSample: [] });
  });

  it('keeps valid images, counts malformed lines with file:line, and marks Windows and mirrored images', async (t) => {
    const h = await workspace(t);
    const imagesPath = await h.writeList('rancher-images.txt', [
      '# Rancher v2.9.5',
      'rancher/fleet:v0.10.4',
      'rancher/mirrored-coredns-coredns:1.11.1',
      '',
      'rancher/Fleet-Agent:v0.10.4',
      'rancher/rancher-webhook:v0.5.3\r',
      'rancher/fleet:v0.10.4',
      'rancher/shell:v0.2.1 rancher/shell:v0.2.2',
      'registry.suse.com/rancher/mirrored-pause:3.7',
      'rancher/kubectl@sha256:xyz',
    ]);
    const windowsPath = await h.writeList('rancher-windows-images.txt', ['rancher/wins:v0.4.20', 'docker.io/rancher/fleet:v0.10.4', 'rancher/windows-agent:bad:tag']);
    const sourcesPath = await h.writeList('rancher-images-sources.txt', ['rancher/fleet:v0.10.4 fleet', 'rancher/wins:v0.4.20 rancher,wins', 'rancher/shell:v0.2.1']);
    const deps = h.deps();

    const resolved = await run(createActivities(deps).resolveImages, {
      runKey: RUN,
      release: { name: 'v2.9.5', images: imagesPath, windowsImages: windowsPath, sources: sourcesPath },
    });

    assert.equal(resolved.release, 'v2.9.5');
    assert.equal(resolved.total, 5);
    assert.equal(resolved.windows, 2, 'rancher/wins and rancher/fleet, listed for Windows too');
    assert.equal(resolved.mirrored, 2);
    assert.equal(resolved.problems, 5);
    assert.equal(resolved.problemSample.length, 5);
    for (const where of [`${imagesPath}:5:`, `${imagesPath}:8:`, `${imagesPath}:10:`, `${windowsPath}:3:`, `${sourcesPath}:3:`]) {
      assert.ok(resolved.problemSample.some((line) => line.startsWith(where)), `${where} in ${resolved.problemSample.join('\n')}`);
    }

    const records = await deps.store.readJson<ImageRecord[]>(storeKeys.images(RUN, 'v2.9.5'));
    assert.deepEqual(
      records?.map((r) => [r.image, r.windows, r.mirrored, r.projects]),
      [
        ['rancher/fleet:v0.10.4', true, false, ['fleet']],
        ['rancher/mirrored-coredns-coredns:1.11.1', false, true, []],
        ['rancher/rancher-webhook:v0.5.3', false, false, []],
        ['registry.suse.com/rancher/mirrored-pause:3.7', false, true, []],
        ['rancher/wins:v0.4.20', true, false, ['rancher', 'wins']],
      ],
    );
    assert.equal(records?.[0]?.canonical, 'docker.io/rancher/fleet:v0.10.4');
  });
});
