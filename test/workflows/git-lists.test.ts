import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createGitHub } from '../../activities/github/github.js';
import { createActivities } from '../../activities/index.js';
import { storeKeys } from '../../activities/store/result-store.js';
import { startRun } from '../../client/scan.js';
import type { ImageRecord } from '../../core/image-list.js';
import type { GitSource, ScanReleasesInput } from '../../core/run.js';
import { createGitListsWorker } from '../../worker/worker.js';
import { startFakeGitHub } from '../fakes/github-server.js';
import { Harness, images, tempDir } from '../helpers/harness.js';
import { rancherGit, type RancherGit } from '../helpers/rancher-git.js';
import { createTestEnvironment, workflowBundle } from '../helpers/temporal.js';

/** mikefarah's yq v4, installed by .ci/run into .tools/yq (YQ_BIN overrides). */
const YQ = process.env.YQ_BIN ?? resolve('.tools', 'yq', 'yq');

let env: TestWorkflowEnvironment;
let repos: RancherGit;
const savedPath = process.env.PATH;

before(async () => {
  process.env.PATH = `${dirname(YQ)}${delimiter}${process.env.PATH}`;
  env = await createTestEnvironment();
  await workflowBundle();
  repos = await rancherGit(await tempDir('git-lists-workflow-'));
});

after(async () => {
  process.env.PATH = savedPath;
  await env?.teardown();
});

const source = (ref: string): GitSource => ({ repository: repos.repository, ref, kdm: repos.kdm, mirror: repos.mirror });

describe('git sources in the workflow (real Temporal server, real git, Rancher-like export script)', { skip: existsSync(YQ) ? false : `mikefarah yq not at ${YQ} (.ci/run installs it)` }, () => {
  it('generates a head in its own activity on the git task queue, keeps the lists out of history, and shows the commit in summary, site and issues', async () => {
    const h = await Harness.create();
    await h.scenarios({ default: { synthetic: 1 } });
    const deps = { ...h.deps(), gitCacheDir: join(h.dir, 'main-git-cache') };
    const gitCacheDir = join(h.dir, 'go-worker-git-cache');
    const taskQueue = `test-${randomUUID()}`;
    const gitTaskQueue = `${taskQueue}-git`;
    const main = await Worker.create({ connection: env.nativeConnection, namespace: env.client.options.namespace, taskQueue, workflowBundle: await workflowBundle(), activities: createActivities(deps) });
    // The worker that has Go: the product's own git-lists worker, sharing only the result store.
    const goWorker = await createGitListsWorker({ connection: env.nativeConnection, namespace: env.client.options.namespace, taskQueue: gitTaskQueue, deps: { store: deps.store, gitCacheDir } });
    const input: ScanReleasesInput = { releases: [{ name: 'v2.11-head', git: source('release/v2.11') }], gitTaskQueue };
    const { summary, workflowId } = await goWorker.runUntil(() =>
      main.runUntil(async () => {
        const handle = await startRun(env.client, input, { taskQueue });
        return { summary: await handle.result(), workflowId: handle.workflowId };
      }),
    );
    const release = summary.releases[0]!;
    assert.equal(release.status, 'completed', release.error);
    assert.equal(release.result?.commit, repos.head('release/v2.11'));
    const records = (await deps.store.readJson<ImageRecord[]>(storeKeys.images(summary.runKey, 'v2.11-head')))!;
    assert.ok(records.some((r) => r.image === 'rancher/fleet:v0.12.0'), records.map((r) => r.image).join(' '));
    assert.deepEqual(records.filter((r) => r.windows).map((r) => r.image), ['rancher/wins:v0.5.0']);

    const history = await env.client.workflow.getHandle(`${workflowId}/v2.11-head`).fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!);
    const generate = scheduled.find((a) => a.activityType?.name === 'generateGitLists');
    assert.equal(generate?.taskQueue?.name, gitTaskQueue, 'generated on the git task queue');
    assert.ok(scheduled.findIndex((a) => a.activityType?.name === 'generateGitLists') < scheduled.findIndex((a) => a.activityType?.name === 'resolveImages'));
    // Claim check: the lists are in the result store, never in history.
    const text = JSON.stringify(history);
    assert.ok(!text.includes('rancher/fleet') && !text.includes('rancher/wins'), 'no list line in the history');
    assert.ok(existsSync(join(gitCacheDir, 'lists', 'v2.11-head', 'rancher-images.txt')), 'the Go worker ran the script');
    assert.ok(!existsSync(deps.gitCacheDir), 'the main worker did not');

    // "v2.11-head at 1a2b3c4" on the release page and in each image's issue (here the plan, without a token).
    const shown = `v2.11-head at ${repos.head('release/v2.11').slice(0, 7)}`;
    const siteDir = dirname(summary.sitePath!);
    const page = (await readdir(siteDir)).find((f) => f.includes('v2.11-head') && f.endsWith('.html'))!;
    assert.ok((await readFile(join(siteDir, page), 'utf8')).includes(shown), `${shown} on ${page}`);
    const plan = JSON.parse(await readFile(join(deps.reportsDir, 'issue-plan.json'), 'utf8')) as { changes: { image: string; body?: string }[] };
    const fleet = plan.changes.find((c) => c.image === 'rancher/fleet:v0.12.0')!;
    assert.ok(fleet.body?.includes(`Releases: ${shown}`), fleet.body);
  });

  it('fails only the head whose script fails, naming repository and ref; the other release goes on and the head keeps its CSV and issues', async () => {
    const token = 'ghp_GITLISTS_TEST_0123456789abcdefABCDEF';
    const fake = await startFakeGitHub({ token });
    try {
      const h = await Harness.create();
      await h.scenarios({ default: { synthetic: 2 } });
      const deps = {
        ...h.deps(),
        gitCacheDir: join(h.dir, 'git-cache'),
        github: createGitHub({ token, baseUrl: fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } }),
        githubCanWrite: true,
        issueRepository: 'rancher/cve-reports',
      };
      const taskQueue = `test-${randomUUID()}`;
      const input: ScanReleasesInput = {
        releases: [
          { name: 'v2.13-head', git: source('release/v2.13') },
          { name: 'v2.12.0', images: await h.writeList('tag.txt', images('tagged', 0, 2)) },
        ],
      };
      const runOnce = async () => {
        const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.client.options.namespace, taskQueue, workflowBundle: await workflowBundle(), activities: createActivities(deps) });
        return worker.runUntil(async () => (await startRun(env.client, input, { taskQueue })).result());
      };

      const first = await runOnce();
      assert.deepEqual(first.releases.map((r) => r.status), ['completed', 'completed']);
      const csvBefore = await h.readReport('v2.13-head');
      const headIssues = () =>
        fake
          .issues('rancher', 'cve-reports')
          .filter((i) => i.body?.includes('v2.13-head'))
          .map((i) => ({ title: i.title, state: i.state, body: i.body }));
      const issuesBefore = headIssues();
      assert.ok(issuesBefore.some((i) => i.title.includes('rancher/fleet:v0.13.0')), 'the head has issues to keep');

      await repos.move('release/v2.13', { path: 'scripts/create-components-images-files.sh', text: '#!/usr/bin/env bash\necho exporting\necho "go: cannot build exporter" >&2\nexit 1\n' });
      const second = await runOnce();
      const [head, tag] = second.releases;
      assert.equal(head!.status, 'failed');
      assert.match(head!.error!, /GitListsFailed/);
      assert.match(head!.error!, /v2\.13-head: https:\/\/github\.com\/rancher\/rancher at release\/v2\.13: export script failed/);
      assert.match(head!.error!, /go: cannot build exporter/, 'the last lines');
      assert.equal(tag!.status, 'completed', 'the other release goes on');
      assert.equal(await h.readReport('v2.13-head'), csvBefore, "the head's previous CSV is untouched");
      assert.deepEqual(headIssues(), issuesBefore, "the head's issues are untouched");
    } finally {
      await fake.close();
    }
  });
});
