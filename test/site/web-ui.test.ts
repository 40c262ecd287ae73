// The Web UI of the embedded dev server, in headless Chromium: the query the README gives,
// typed into the workflow list, finds a run and its children. Before the rename, the search
// attribute was `Release`, a reserved word of the visibility query parser: the same query
// answered "invalid query" and found nothing. Each scan is named by its image in the timeline,
// and a release waiting on a registry's pull quota says so in its timeline and current details.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { chromium, type Browser } from 'playwright-core';
import { createActivities } from '../../activities/index.js';
import { startDevServer, waitForServer } from '../../client/dev-server.js';
import { startRun } from '../../client/scan.js';
import { findTemporalCli } from '../../client/temporal-cli.js';
import { freePort } from '../../host/ports.js';
import { eventually, Harness, images } from '../helpers/harness.js';
import { quietRuntime, workflowBundle } from '../helpers/temporal.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium to run the browser tests`;

describe("the dev server's Web UI", { skip }, () => {
  let browser: Browser;
  let server: ReturnType<typeof startDevServer>;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let cli: string;
  let address: string;
  let ui: string;
  let workflowId: string;

  before(async () => {
    quietRuntime();
    cli = await findTemporalCli({ install: true });
    const h = await Harness.create('image-scanning-web-ui-');
    const port = await freePort();
    const uiPort = await freePort();
    address = `127.0.0.1:${port}`;
    ui = `http://127.0.0.1:${uiPort}`;
    // Started as `image-scanning run` starts it: the same search attributes.
    server = startDevServer({ cli, dbFile: join(h.dir, 'temporal.db'), port, uiPort });
    await waitForServer(address, 60_000, server);
    connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace: 'default' });
    await h.scenarios({ default: { synthetic: 1 } });
    const taskQueue = 'web-ui-test';
    nativeConnection = await NativeConnection.connect({ address });
    const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: createActivities(h.deps()) });
    const releases = [
      { name: 'v2.9.0', images: await h.writeList('a.txt', images('ui-a', 0, 3)) },
      { name: 'v2.10.0', images: await h.writeList('b.txt', images('ui-b', 0, 3)) },
    ];
    workflowId = await worker.runUntil(async () => {
      const handle = await startRun(client, { releases, skipPublish: true }, { taskQueue });
      await handle.result();
      return handle.workflowId;
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await connection?.close();
    await nativeConnection?.close();
    server?.kill('SIGTERM');
  });

  it('finds the run and its v2.9.0 child with the documented query typed into the workflow list', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const query = 'RancherRelease = "v2.9.0"';
    // Visibility is eventually consistent: ask again until the run is listed.
    const ids = await eventually(
      async () => {
        await page.goto(`${ui}/namespaces/default/workflows`);
        await page.getByTestId('toggle-manual-query').click();
        await page.getByTestId('manual-search-input').fill(query);
        await page.getByTestId('manual-search-button').click();
        await page.waitForTimeout(1000);
        const text = await page.locator('main').innerText();
        const found = [workflowId, `${workflowId}/v2.9.0`, `${workflowId}/v2.10.0`].filter((id) => text.includes(id));
        return found.length >= 2 ? found : undefined;
      },
      30_000,
      'the run in the Web UI',
    );
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-query.png') });
    assert.deepEqual(ids, [workflowId, `${workflowId}/v2.9.0`], 'the parent (it carries every release) and the v2.9.0 child, not the v2.10.0 one');
    assert.doesNotMatch(await page.locator('main').innerText(), /invalid query/i);
  });

  it('answers the same query on the command line, and shows why the old name was renamed', async () => {
    const list = (q: string) => promisify(execFile)(cli, ['workflow', 'list', '--address', address, '--query', q, '--output', 'json']);
    const { stdout } = await list('RancherRelease = "v2.9.0"');
    const found = (JSON.parse(stdout || '[]') as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId).sort();
    assert.deepEqual(found, [workflowId, `${workflowId}/v2.9.0`].sort());
    await assert.rejects(list('Release = "v2.9.0"'), /invalid query|not a valid search attribute/i);
    // The old name stays registered, so runs made before the rename are found with backticks.
    await list('`Release` = "v2.9.0"');
  });

  it("names each scan's image in the child's timeline, and one image's scan is found by its name", async () => {
    const client = new Client({ connection, namespace: 'default' });
    const childId = `${workflowId}/v2.9.0`;
    const child = await client.workflow.getHandle(childId).describe();
    // In history: each ActivityTaskScheduled of scanImage carries the image as its summary.
    const history = await client.workflow.getHandle(childId).fetchHistory();
    const { defaultPayloadConverter } = await import('@temporalio/common');
    const summaries = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'scanImage')
      .map((e) => (e.userMetadata?.summary ? defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary as never) : undefined));
    const expected = images('ui-a', 0, 3);
    assert.deepEqual([...summaries].sort(), [...expected].sort());
    const one = expected[1]!;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const text = await eventually(
      async () => {
        await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(childId)}/${child.runId}/history`);
        await page.waitForTimeout(1500);
        const body = await page.locator('main').innerText();
        return body.includes(one) ? body : undefined;
      },
      30_000,
      `the scan of ${one} in the timeline`,
    );
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-scan-summary.png'), fullPage: true });
    assert.ok(text.includes(one), `the timeline names ${one}`);
    assert.doesNotMatch(text, /scan one image with Trivy/, 'no scan reads only the generic summary');
  });

  it("says in the child's page which image waits on which registry's pull quota, while it waits", async () => {
    // The stub fails one scan with Docker Hub's 429 once: the registry is paused for 45 s (room for a
    // loaded machine) and the scan is put off (a timer, no slot held). The page is read while the timer runs.
    const h = await Harness.create('image-scanning-web-ui-quota-');
    const list = images('ui-q', 0, 3);
    const limited = list[1]!;
    await h.scenarios({
      default: { synthetic: 1 },
      [limited]: { fail: `FATAL image scan error: GET https://index.docker.io/v2/rancher/ui-q-1/manifests/v1.1.0: TOOMANYREQUESTS: You have reached your pull rate limit.`, times: 1 },
    });
    const taskQueue = 'web-ui-quota-test';
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(h.deps({ rateLimitBackoffSeconds: 45, rateLimitDeadlineSeconds: 600 })),
    });
    const client = new Client({ connection, namespace: 'default' });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const { summary, shown, details } = await worker.runUntil(async () => {
      const handle = await startRun(client, { releases: [{ name: 'v2.11.0', images: await h.writeList('q.txt', list) }], skipPublish: true }, { taskQueue });
      const childId = `${handle.workflowId}/v2.11.0`;
      const shown = await eventually(
        async () => {
          const child = await client.workflow.getHandle(childId).describe().catch(() => undefined);
          if (!child) return undefined;
          await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(childId)}/${child.runId}/history`);
          await page.waitForTimeout(1500);
          const body = await page.locator('main').innerText();
          return body.includes("waiting on docker.io's pull quota") && body.includes(limited) ? body : undefined;
        },
        25_000,
        `the wait for docker.io named on ${childId}'s page`,
      );
      await mkdir(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-quota-wait.png'), fullPage: true });
      // The workflow's current details (the SDK's metadata query), under "User Metadata", still waiting.
      // Its pane is the column under the heading (UI 2.42: heading, its bar, the column), and the
      // UI renders the details as Markdown in a sandboxed frame there.
      await page.getByText('User Metadata').click();
      const pane = page.getByText('Current Details', { exact: true }).locator('xpath=ancestor::*[3]');
      const details = await eventually(
        async () => {
          await page.waitForTimeout(500);
          const text = await pane.frameLocator('iframe').locator('body').innerText({ timeout: 1000 }).catch(() => '');
          return /waiting on docker\.io.s pull quota/.test(text) ? text : undefined;
        },
        12_000,
        'the current details of the waiting release',
      );
      await page.screenshot({ path: join(SCREENSHOTS, 'web-ui-quota-details.png'), fullPage: true });
      return { summary: await handle.result(), shown, details };
    });
    const waitLine = shown.split('\n').find((l) => l.includes("waiting on docker.io's pull quota")) ?? '';
    assert.match(waitLine, /1 image waiting on docker\.io's pull quota/, waitLine);
    assert.ok(!list.filter((i) => i !== limited).some((i) => waitLine.includes(i)) && waitLine.includes(limited), `only the put-off image is named: ${waitLine}`);
    const detailLine = details.split('\n').find((l) => /^\d+ images? waiting on /.test(l)) ?? '';
    assert.match(detailLine, new RegExp(`^1 image waiting on docker\\.io.s pull quota until \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z: ${limited.replace(/[.]/g, '\\.')}$`), detailLine);
    // Then the window opened, the scan ran, and nothing failed.
    assert.equal(summary.releases[0]?.result?.failed, 0, JSON.stringify(summary.releases[0]));
    assert.equal((await h.calls()).filter((c) => c.kind === 'scan' && c.image === limited).length, 2, 'refused once, scanned once after the wait');
  });
});
