import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createActivities } from '../../../activities/index.js';
import { storeKeys } from '../../../activities/store/result-store.js';
import { eventually, processAlive } from '../../helpers/harness.js';
import { rancherGit } from '../../helpers/rancher-git.js';
import { activityEnvironment, applicationFailure, workspace } from '../support.js';

/** mikefarah's yq v4, installed by .ci/run into .tools/yq (YQ_BIN overrides). */
const YQ = process.env.YQ_BIN ?? resolve('.tools', 'yq', 'yq');

async function setup(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'git-lists-activity-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const saved = process.env.PATH;
  process.env.PATH = `${dirname(YQ)}${delimiter}${saved}`;
  t.after(() => {
    process.env.PATH = saved;
  });
  const repos = await rancherGit(dir);
  const h = await workspace(t);
  const deps = { ...h.deps(), gitCacheDir: join(dir, 'cache') };
  return { dir, repos, deps, activities: createActivities(deps), git: (ref: string) => ({ repository: repos.repository, ref, kdm: repos.kdm, mirror: repos.mirror }) };
}

describe('generateGitLists activity', { skip: existsSync(YQ) ? false : `mikefarah yq not at ${YQ} (.ci/run installs it)` }, () => {
  it('stores the lists in the result store and returns only their key and commit, heartbeating its steps; resolveImages reads them from there', async (t) => {
    const { repos, deps, activities, git } = await setup(t);
    const env = activityEnvironment();
    const beats: { step: string }[] = [];
    env.on('heartbeat', (d: { step: string }) => beats.push(d));
    const release = { name: 'v2.13-head', git: git('release/v2.13') };
    const ref = (await env.run(activities.generateGitLists, { runKey: 'r1', release })) as Awaited<ReturnType<typeof activities.generateGitLists>>;
    assert.deepEqual(ref, { key: storeKeys.gitLists('r1', 'v2.13-head'), commit: repos.head('release/v2.13'), generated: true });
    assert.ok(JSON.stringify(ref).length < 300, 'a claim check, not the lists');
    const stored = (await deps.store.readJson<{ images: string; commit: string }>(ref.key))!;
    assert.match(stored.images, /^rancher\/fleet:v0\.13\.0$/m);
    for (const step of ['checkout', 'charts', 'kdm', 'script']) assert.ok(beats.some((b) => b.step === step), `heartbeat at ${step}: ${JSON.stringify(beats)}`);

    // Another worker, without the checkout: the stored lists are all resolveImages has.
    await rm(deps.gitCacheDir, { recursive: true, force: true });
    const resolved = await activityEnvironment().run(activities.resolveImages, { runKey: 'r1', release, generated: ref });
    assert.equal((resolved as { commit?: string }).commit, ref.commit);
    assert.equal((resolved as { windows: number }).windows, 1);
    assert.ok(!existsSync(deps.gitCacheDir), 'resolveImages ran no script of its own');
  });

  it('is cancelled with its script: the process group dies', async (t) => {
    const { dir, repos, activities, git } = await setup(t);
    const pidFile = join(dir, 'script.pid');
    await repos.move('release/v2.11', { path: 'scripts/create-components-images-files.sh', text: `#!/usr/bin/env bash\necho $$ > ${pidFile}\nsleep 300\n` });
    const env = activityEnvironment();
    const running = env.run(activities.generateGitLists, { runKey: 'r2', release: { name: 'hang', git: git('release/v2.11') } });
    const pid = Number(await eventually(() => readFile(pidFile, 'utf8').catch(() => undefined), 30_000, 'the script to start'));
    env.cancel();
    await assert.rejects(running);
    await eventually(async () => !processAlive(pid), 10_000, 'the script to die');
  });

  it('fails the release for good as GitListsFailed, naming release, repository and ref', async (t) => {
    const { activities, git } = await setup(t);
    const failure = await applicationFailure(activityEnvironment().run(activities.generateGitLists, { runKey: 'r3', release: { name: 'v9-head', git: git('release/v9.99') } }) as Promise<unknown>);
    assert.equal(failure.type, 'GitListsFailed');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /release v9-head: https:\/\/github\.com\/rancher\/rancher at release\/v9\.99: unknown ref/);
  });
});
