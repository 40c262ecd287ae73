import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FolderResultStore, storeKeys } from '../../activities/store/result-store.js';
import { finding, releaseReport } from '../helpers/reports.js';
import { CLI } from '../helpers/processes.js';
import { tempDir } from '../helpers/harness.js';

const cli = (args: string[], env: Record<string, string> = {}) => promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });

describe('image-scanning images', () => {
  it('prints one JSON object per image and reports malformed lines with file and line', async () => {
    const dir = await tempDir('images-');
    await writeFile(join(dir, 'images.txt'), 'rancher/fleet:v0.9.6\r\nbad line\nregistry.example.com/rancher/coredns-coredns:1.10.1\n');
    await writeFile(join(dir, 'windows.txt'), 'rancher/rancher-agent:v2.9.0\n');
    await writeFile(join(dir, 'sources.txt'), 'rancher/fleet:v0.9.6 fleet:103.1.0,rancher\n');
    await writeFile(join(dir, 'mirror.txt'), 'coredns/coredns rancher/coredns-coredns 1.10.1\n');
    const run = cli(['images', '--images', join(dir, 'images.txt'), '--windows-images', join(dir, 'windows.txt'), '--sources', join(dir, 'sources.txt'), '--mirror-list', join(dir, 'mirror.txt'), '--json']);
    const failure = (await run.then(() => undefined, (e: unknown) => e)) as { code: number; stdout: string; stderr: string };
    assert.equal(failure.code, 1, 'a malformed line makes the exit code non-zero');
    assert.match(failure.stderr, /images\.txt:2: image reference "bad line" contains whitespace/);
    const lines = failure.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines, [
      { image: 'rancher/fleet:v0.9.6', registry: 'docker.io', repository: 'rancher/fleet', tag: 'v0.9.6', digest: null, windows: false, mirrored: false, projects: ['fleet:103.1.0', 'rancher'] },
      { image: 'registry.example.com/rancher/coredns-coredns:1.10.1', registry: 'registry.example.com', repository: 'rancher/coredns-coredns', tag: '1.10.1', digest: null, windows: false, mirrored: true, projects: [] },
      { image: 'rancher/rancher-agent:v2.9.0', registry: 'docker.io', repository: 'rancher/rancher-agent', tag: 'v2.9.0', digest: null, windows: true, mirrored: false, projects: [] },
    ]);
  });
});

describe('image-scanning issues plan', () => {
  it('plans from the newest stored reports without a token and changes nothing', async () => {
    const dir = await tempDir('issues-');
    const store = new FolderResultStore(join(dir, 'data'));
    const a = 'rancher/fleet:v0.9.6';
    await store.writeJson(storeKeys.latestReport('v2.9.0'), releaseReport('v2.9.0', { [a]: [finding(a, 'CVE-2024-1', 'CRITICAL')], 'rancher/shell:v1': 'clean' }));
    const env = { IMAGE_SCANNING_DATA_DIR: join(dir, 'data'), IMAGE_SCANNING_REPORTS_DIR: join(dir, 'reports'), GITHUB_TOKEN: '', GITHUB_REPOSITORY: '' };
    const { stdout } = await cli(['issues', 'plan', '--release', 'v2.9.0'], env);
    assert.match(stdout, /planned: 1 to create, 0 to update, 0 to reopen, 0 to close/);
    const plan = JSON.parse(await readFile(join(dir, 'reports', 'issue-plan.json'), 'utf8')) as { changes: { action: string; labels: string[] }[] };
    assert.deepEqual(plan.changes.map((c) => [c.action, c.labels]), [['create', ['critical-cves', 'cve-report', 'release/v2.9.0']]]);

    const apply = await cli(['issues', 'apply', '--release', 'v2.9.0', '--repo', 'rancher/cve-reports'], env).then(() => undefined, (e: unknown) => e as { code: number; stderr: string });
    assert.equal(apply?.code, 2);
    assert.match(apply?.stderr ?? '', /issues apply needs GITHUB_TOKEN/);
  });
});

describe('image-scanning worker --git-lists', () => {
  it('refuses to start without IMAGE_SCANNING_GIT_TASK_QUEUE, naming it (exit 2)', async () => {
    const failure = (await cli(['worker', '--git-lists'], { IMAGE_SCANNING_GIT_TASK_QUEUE: '', TEMPORAL_ADDRESS: '127.0.0.1:1' }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    assert.equal(failure.code, 2);
    assert.match(failure.stderr, /worker --git-lists needs IMAGE_SCANNING_GIT_TASK_QUEUE/);
  });
});
