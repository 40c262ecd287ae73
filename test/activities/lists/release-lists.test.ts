import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGitHub } from '../../../activities/github/github.js';
import { ImageListNotFoundError, readReleaseLists } from '../../../activities/lists/release-lists.js';
import { startFakeGitHub, type FakeGitHub } from '../../fakes/github-server.js';

let fake: FakeGitHub;

before(async () => {
  fake = await startFakeGitHub();
  fake.addRelease('rancher', 'rancher', 'v2.9.3', {
    'rancher-images.txt': 'rancher/fleet:v0.10.4\r\nrancher/mirrored-pause:3.7\nregistry.example.com/rancher/shell:v0.2.1\nnot a valid line\n',
    'rancher-images-sources.txt': 'rancher/fleet:v0.10.4 fleet:104.0.3,rancher\nrancher/mirrored-pause:3.7 system\n',
    'rancher-windows-images.txt': 'rancher/rancher-agent:v2.9.3\n',
    'rancher-components.txt': '# Components\n',
  });
  fake.addRelease('rancher', 'rancher', 'v2.8.0', { 'rancher-images.txt': 'rancher/fleet:v0.9.0' });
  fake.addRelease('rancher', 'rancher', 'v2.7.0', { 'rancher-components.txt': '# Components\n' });
});

after(async () => {
  await fake.close();
});

const github = () => createGitHub({ baseUrl: fake.url, retryAfterBaseValue: 1 });

describe('release image lists from GitHub release assets', () => {
  it('reads the three lists of a release by tag through Octokit', async () => {
    const { records, problems } = await readReleaseLists({ name: 'v2.9.3' }, { github: github() });
    assert.deepEqual(
      records.map((r) => [r.image, r.registry, r.windows, r.mirrored, r.projects.join(',')]),
      [
        ['rancher/fleet:v0.10.4', 'docker.io', false, false, 'fleet:104.0.3,rancher'],
        ['rancher/mirrored-pause:3.7', 'docker.io', false, true, 'system'],
        ['registry.example.com/rancher/shell:v0.2.1', 'registry.example.com', false, false, ''],
        ['rancher/rancher-agent:v2.9.3', 'docker.io', true, false, ''],
      ],
    );
    assert.equal(problems.length, 1);
    assert.match(`${problems[0]!.source}:${problems[0]!.line}`, /rancher\/rancher@v2\.9\.3\/rancher-images\.txt:4/);
    assert.ok(fake.requests.some((r) => /\/releases\/tags\/v2\.9\.3$/.test(r.path)));
    assert.deepEqual(fake.violations, []);
  });

  it('accepts a release without the optional lists and a tag other than the name', async () => {
    const { records } = await readReleaseLists({ name: 'rancher-2.8', tag: 'v2.8.0', repository: 'rancher/rancher' }, { github: github() });
    assert.deepEqual(records.map((r) => r.image), ['rancher/fleet:v0.9.0']);
  });

  it('names the release when the release or its main list is missing', async () => {
    await assert.rejects(readReleaseLists({ name: 'v9.9.9' }, { github: github() }), (e: unknown) => e instanceof ImageListNotFoundError && /v9\.9\.9 of rancher\/rancher was not found/.test((e as Error).message));
    await assert.rejects(readReleaseLists({ name: 'v2.7.0' }, { github: github() }), (e: unknown) => e instanceof ImageListNotFoundError && /no asset rancher-images\.txt/.test((e as Error).message));
    assert.deepEqual(fake.violations, []);
  });
});
