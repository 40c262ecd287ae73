import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createGitHub } from '../../activities/github/github.js';
import { createActivities } from '../../activities/index.js';
import { startRun } from '../../client/scan.js';
import { issueTitle } from '../../core/issue-plan.js';
import { Harness, images } from '../helpers/harness.js';
import { createTestEnvironment, workflowBundle } from '../helpers/temporal.js';
import { startFakeGitHub } from '../fakes/github-server.js';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await createTestEnvironment();
  await workflowBundle();
});

after(async () => {
  await env?.teardown();
});

describe('the per-release issues switch', () => {
  it('gives an image in a head (issues on) and a tag (issues off) an issue listing only the head, and an image only in the tag none', async () => {
    const token = 'ghp_SWITCH_TEST_0123456789abcdefABCDEF';
    const fake = await startFakeGitHub({ token });
    try {
      const h = await Harness.create();
      const head = images('sw', 0, 3);
      const tag = images('sw', 2, 5);
      const deps = {
        ...h.deps(),
        github: createGitHub({ token, baseUrl: fake.url, retryAfterBaseValue: 1, pacing: { writeMs: 0, notificationMs: 0 } }),
        githubCanWrite: true,
        issueRepository: 'rancher/cve-reports',
      };
      const taskQueue = `test-${randomUUID()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        namespace: env.client.options.namespace,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: createActivities(deps),
      });
      const summary = await worker.runUntil(async () =>
        (
          await startRun(
            env.client,
            {
              releases: [
                { name: 'v2.13-head', images: await h.writeList('head.txt', head) },
                { name: 'v2.13.0', images: await h.writeList('tag.txt', tag), issues: false },
              ],
            },
            { taskQueue },
          )
        ).result(),
      );
      assert.deepEqual(
        summary.releases.map((r) => [r.release, r.status]),
        [
          ['v2.13-head', 'completed'],
          ['v2.13.0', 'completed'],
        ],
      );
      assert.equal((await h.readReport('v2.13.0')).includes('rancher/sw-4'), true, 'the tag still gets its CSV');
      const issues = fake.issues('rancher', 'cve-reports');
      assert.deepEqual(issues.map((i) => i.title).sort(), head.map(issueTitle).sort());
      const shared = issues.find((i) => i.title === issueTitle(head[2]!))!;
      assert.ok(shared.body?.includes('v2.13-head'), shared.body ?? '');
      assert.ok(!shared.body?.includes('v2.13.0'), 'the tag with issues off is not listed');
    } finally {
      await fake.close();
    }
  });
});
