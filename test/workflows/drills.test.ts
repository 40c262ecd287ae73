import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer, waitForServer } from '../../client/dev-server.js';
import { startRun } from '../../client/scan.js';
import { findTemporalCli } from '../../client/temporal-cli.js';
import { parseReportCsv } from '../../core/render/csv.js';
import { startFakeGitHub } from '../fakes/github-server.js';
import { eventually, Harness, images, TRIVY_STUB } from '../helpers/harness.js';
import { spawnWorker, type WorkerProcess } from '../helpers/processes.js';
import { createTestEnvironment } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
const workers: WorkerProcess[] = [];

before(async () => {
  env = await createTestEnvironment();
});

after(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await env?.teardown();
});

function workerEnv(h: Harness, address: string, taskQueue: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    IMAGE_SCANNING_DATA_DIR: join(h.dir, 'data'),
    IMAGE_SCANNING_REPORTS_DIR: h.reportsDir,
    TRIVY_BIN: TRIVY_STUB,
    TRIVY_CACHE_DIR: join(h.dir, 'trivy-cache'),
    // The stub needs no layer cache; a real one would be the embedded Redis under .data/.
    TRIVY_CACHE_BACKEND: 'memory',
    TRIVY_STUB_DIR: h.stubDir,
    // A worker killed with SIGKILL cannot remove its scratch folder: keep it inside the workspace.
    TMPDIR: h.dir,
    TRIVY_HEARTBEAT_SECONDS: '1',
    TRIVY_RATE_LIMIT_BACKOFF: '1',
    MAX_CONCURRENT_ACTIVITIES: '20',
    WORKER_SHUTDOWN_GRACE_SECONDS: '2',
    LOG_LEVEL: 'INFO',
    ...extra,
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('reliability drills', () => {
  it('finishes a 200-image run when one of two workers is killed with SIGKILL: no duplicate issue or CSV row', async (t) => {
    const h = await Harness.create();
    await h.scenarios({ default: { synthetic: 1, delayMs: 150 } });
    const fake = await startFakeGitHub({ token: 'drill-token' });
    try {
      const taskQueue = `drill-${randomUUID()}`;
      const github = { GITHUB_TOKEN: 'drill-token', GITHUB_API_URL: fake.url, GITHUB_REPOSITORY: 'rancher/cve-reports', GITHUB_WRITE_INTERVAL_MS: '0', GITHUB_CONTENT_WRITE_INTERVAL_MS: '0' };
      const a = await spawnWorker(workerEnv(h, env.address, taskQueue, github));
      const b = await spawnWorker(workerEnv(h, env.address, taskQueue, github));
      workers.push(a, b);
      const list = await h.writeList('images.txt', images('drill', 0, 200));
      const started = Date.now();
      const handle = await startRun(env.client, { releases: [{ name: 'v2.9.0', images: list }], maxConcurrentScans: 16 }, { taskQueue });
      await eventually(async () => (await h.calls()).filter((c) => c.kind === 'scan').length >= 40, 60_000, '40 scans');
      a.child.kill('SIGKILL');
      const summary = await handle.result();
      const scans = (await h.calls()).filter((c) => c.kind === 'scan');
      t.diagnostic(`200 images, 1 worker killed: ${Date.now() - started} ms; ${scans.length} scans for 200 images (${scans.length - 200} rescanned after the kill)`);
      assert.equal(summary.releases[0]?.result?.scanned, 200);
      assert.equal(summary.releases[0]?.result?.failed, 0);
      const rows = parseReportCsv(await h.readReport('v2.9.0'), 'cves-v2.9.0.csv');
      assert.equal(rows.length, 200, 'one row per image');
      assert.equal(new Set(rows.map((r) => `${r.image} ${r.vulnerabilityId}`)).size, 200, 'no duplicated row');
      const issues = fake.issues('rancher', 'cve-reports');
      assert.equal(issues.length, 200);
      assert.equal(new Set(issues.map((i) => i.title)).size, 200, 'no duplicate issue');
      assert.deepEqual(fake.violations, []);
    } finally {
      for (const w of workers.splice(0)) w.child.kill('SIGKILL');
      await fake.close();
    }
  });

  it('hands in-flight scans back when a worker gets SIGTERM, and another worker finishes the run', async (t) => {
    const h = await Harness.create();
    await h.scenarios({ default: { synthetic: 1, delayMs: 400 } });
    const taskQueue = `sigterm-${randomUUID()}`;
    const leaving = await spawnWorker(workerEnv(h, env.address, taskQueue));
    workers.push(leaving);
    try {
      const list = await h.writeList('images.txt', images('term', 0, 40));
      const handle = await startRun(env.client, { releases: [{ name: 'v1', images: list }], maxConcurrentScans: 8 }, { taskQueue });
      await eventually(async () => (await h.calls()).filter((c) => c.kind === 'scan').length >= 10, 60_000, '10 scans');
      const stopAt = Date.now();
      leaving.child.kill('SIGTERM');
      const code = await leaving.exited;
      const stopMs = Date.now() - stopAt;
      t.diagnostic(`worker exited with code ${code} ${stopMs} ms after SIGTERM (grace 2 s)`);
      assert.equal(code, 0);
      assert.ok(stopMs < 15_000, `stopped in ${stopMs} ms`);
      const staying = await spawnWorker(workerEnv(h, env.address, taskQueue));
      workers.push(staying);
      const summary = await handle.result();
      assert.equal(summary.releases[0]?.result?.scanned, 40);
      assert.equal(summary.releases[0]?.result?.failed, 0);
    } finally {
      for (const w of workers.splice(0)) w.child.kill('SIGKILL');
    }
  });

  it('resumes a run after the dev server is stopped and started again on the same SQLite file', async (t) => {
    const h = await Harness.create();
    await h.scenarios({ default: { synthetic: 1, delayMs: 100 } });
    const cli = await findTemporalCli({ install: true });
    const port = await freePort();
    // A port of its own: a UI port derived from the gRPC one (port % 1000 + 40000) was the gRPC
    // port itself whenever that fell in 40000-40999, and the server failed to bind.
    let uiPort = await freePort();
    while (uiPort === port) uiPort = await freePort();
    const address = `127.0.0.1:${port}`;
    const dbFile = join(h.dir, 'temporal.db');
    const start = () => startDevServer({ cli, dbFile, port, uiPort });
    let server = start();
    try {
      await waitForServer(address, 60_000, server);
      const taskQueue = `restart-${randomUUID()}`;
      const worker = await spawnWorker(workerEnv(h, address, taskQueue));
      workers.push(worker);
      const connection = await Connection.connect({ address });
      const client = new Client({ connection });
      const list = await h.writeList('images.txt', images('restart', 0, 120));
      const handle = await startRun(client, { releases: [{ name: 'v1', images: list }], maxConcurrentScans: 8 }, { taskQueue });
      await eventually(async () => (await h.calls()).filter((c) => c.kind === 'scan').length >= 30, 60_000, '30 scans');
      // SIGKILL: no chance to flush anything, as when the machine's processes are killed.
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      const stoppedAt = (await h.calls()).filter((c) => c.kind === 'scan').length;
      await new Promise((r) => setTimeout(r, 2000));
      server = start();
      await waitForServer(address, 60_000, server);
      const summary = await client.workflow.getHandle(handle.workflowId).result();
      t.diagnostic(`server stopped after ${stoppedAt} of 120 scans, restarted on ${dbFile}; run completed with ${summary.releases[0]?.result?.scanned} scanned`);
      assert.equal(summary.releases[0]?.result?.scanned, 120);
      const rows = parseReportCsv(await h.readReport('v1'), 'cves-v1.csv');
      assert.equal(new Set(rows.map((r) => r.image)).size, 120);
      await connection.close();
    } finally {
      for (const w of workers.splice(0)) w.child.kill('SIGKILL');
      server.kill('SIGKILL');
    }
  });
});
