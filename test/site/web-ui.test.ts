// The Web UI of the embedded dev server, in headless Chromium: the query the README gives,
// typed into the workflow list, finds a run and its children. Before the rename, the search
// attribute was `Release`, a reserved word of the visibility query parser: the same query
// answered "invalid query" and found nothing.
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
});
