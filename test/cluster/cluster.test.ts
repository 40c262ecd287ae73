// The deployment beyond one machine, run for real: `image-scanning cluster up` starts PostgreSQL,
// the Temporal server 1.29.1 on it, the UI server, the scan cache and 3 workers on the PostgreSQL
// result store, as processes; then a multi-release run, and drills that kill a worker, the
// server, and stop PostgreSQL mid-run. Each ends with every image scanned once in the results,
// the CSVs complete and no duplicate issue on the fake GitHub.
//
// Needs the cluster binaries (`npm run cluster-binaries`, which CI runs), PostgreSQL's server
// binaries and redis-server; skipped with the reason otherwise, unless IMAGE_SCANNING_E2E=required.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { PostgresResultStore } from '../../activities/store/postgres-result-store.js';
import { storeKeys } from '../../activities/store/result-store.js';
import { findRedisServer } from '../../cache/embedded-redis.js';
import { findClusterBinaries } from '../../cluster/binaries.js';
import { startPostgres, stopPostgres } from '../../cluster/postgres.js';
import { alive, pidOf } from '../../cluster/processes.js';
import { layout, loadState, MAX_FRONTEND_PORT, ports, processOf, storeUrl } from '../../cluster/state.js';
import { startRun } from '../../client/scan.js';
import { parseImageRef } from '../../core/image-ref.js';
import { parseReportCsv } from '../../core/render/csv.js';
import type { RunSummary } from '../../core/run.js';
import { startFakeGitHub } from '../fakes/github-server.js';
import { eventually, Harness, images, tempDir } from '../helpers/harness.js';
import { CLI } from '../helpers/processes.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { quietRuntime } from '../helpers/temporal.js';

async function why(): Promise<string | false> {
  const missing = await postgresAvailable();
  if (missing) return missing;
  try {
    await findClusterBinaries({ install: false });
    await findRedisServer({ install: false });
  } catch (error) {
    return `cluster tests skipped: ${(error as Error).message}`;
  }
  return false;
}
const skip = await why();
if (skip && process.env.IMAGE_SCANNING_E2E === 'required') throw new Error(`IMAGE_SCANNING_E2E=required, but ${skip}`);

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A frontend port whose fixed offsets (cluster/state.ts) are all free. */
async function clusterPort(): Promise<number> {
  for (;;) {
    const f = 20_000 + Math.floor(Math.random() * (MAX_FRONTEND_PORT - 20_000));
    const offsets = [0, 1, 2, 3, 10, 100, 101, 102, 103, 200, 300, 301, 401, 402, 403, 1000];
    if ((await Promise.all(offsets.map((o) => portFree(f + o)))).every(Boolean)) return f;
  }
}

describe('the cluster as processes: Temporal on PostgreSQL, its Web UI, the scan cache, 3 workers', { skip }, () => {
  let dir: string;
  let h: Harness;
  let fake: Awaited<ReturnType<typeof startFakeGitHub>>;
  let client: Client;
  let connection: Connection;
  let store: PostgresResultStore;
  const taskQueue = `cluster-${randomUUID()}`;
  let env: NodeJS.ProcessEnv;

  const cluster = async (...args: string[]) => {
    const started = Date.now();
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'cluster', ...args], { env, maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr, ms: Date.now() - started };
  };

  before(async () => {
    quietRuntime();
    dir = await tempDir('image-scanning-cluster-');
    h = await Harness.create('image-scanning-cluster-stub-');
    await h.scenarios({ default: { synthetic: 1, delayMs: 150 } });
    fake = await startFakeGitHub({ token: 'cluster-token' });
    env = {
      ...process.env,
      IMAGE_SCANNING_CLUSTER_DIR: join(dir, 'cluster'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      TRIVY_BIN: h.deps().trivy.bin,
      TRIVY_STUB_DIR: h.stubDir,
      TRIVY_HEARTBEAT_SECONDS: '1',
      WORKER_SHUTDOWN_GRACE_SECONDS: '2',
      MAX_CONCURRENT_ACTIVITIES: '12',
      GITHUB_TOKEN: 'cluster-token',
      GITHUB_API_URL: fake.url,
      GITHUB_REPOSITORY: 'rancher/cve-reports',
      GITHUB_WRITE_INTERVAL_MS: '0',
      GITHUB_CONTENT_WRITE_INTERVAL_MS: '0',
    };
  });

  after(async () => {
    await connection?.close();
    await store?.close();
    if (env) await cluster('down').catch(() => undefined);
    await fake?.close();
  });

  const state = () => loadState(env.IMAGE_SCANNING_CLUSTER_DIR!);

  it('comes up healthy, every listener on loopback, and `up` again starts nothing new', async (t) => {
    const port = await clusterPort();
    const up = await cluster('up', '--workers', '3', '--port', String(port));
    t.diagnostic(`cluster up (PostgreSQL initialised, schemas, server, UI, cache, 3 workers): ${up.ms} ms`);
    const exports = up.stdout;
    assert.match(exports, new RegExp(`^export TEMPORAL_ADDRESS='127\\.0\\.0\\.1:${port}'$`, 'm'));
    assert.match(exports, /^export IMAGE_SCANNING_STORE='postgres:\/\/image_scanning:[0-9a-f]+@127\.0\.0\.1:\d+\/image_scanning'$/m);
    assert.match(exports, /^export TEMPORAL_UI_URL='http:\/\/127\.0\.0\.1:\d+'$/m);
    const status = await cluster('status');
    assert.equal(status.stdout.split('\n').filter((l) => l.startsWith('up ')).length, 7, status.stdout);
    const pids = [1, 2, 3].map((i) => pidOf(processOf(env.IMAGE_SCANNING_CLUSTER_DIR!, `worker-${i}`)));
    const again = await cluster('up');
    t.diagnostic(`cluster up on a running cluster: ${again.ms} ms`);
    assert.deepEqual([1, 2, 3].map((i) => pidOf(processOf(env.IMAGE_SCANNING_CLUSTER_DIR!, `worker-${i}`))), pids, 'the workers were left running');
    // Nothing listens beyond loopback.
    const listening = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).filter((l) => l.trim().split(/\s+/)[3] === '0A');
    const p = ports(state());
    for (const line of listening) {
      const [addr, portHex] = line.trim().split(/\s+/)[1]!.split(':') as [string, string];
      const listenPort = parseInt(portHex, 16);
      if (listenPort >= p.frontend && listenPort <= p.ui) assert.equal(addr, '0100007F', `port ${listenPort} listens on ${addr}, not 127.0.0.1`);
    }
    connection = await Connection.connect({ address: `127.0.0.1:${p.frontend}` });
    client = new Client({ connection, namespace: 'default' });
    store = new PostgresResultStore(storeUrl(state()));
  });

  /** A run of two releases sharing 20 images; returns its summary once done. */
  const scanCalls = async (name?: string) => (await h.calls()).filter((c) => c.kind === 'scan' && (name === undefined || c.image.includes(name)));

  /** Mid-run: once `count` scans of run `name` have started. */
  const afterScans = (name: string, count = 20) => eventually(async () => (await scanCalls(name)).length >= count, 60_000, `${count} scans of ${name}`);

  /** How long from `since` until a scan starts that had not when this is called. */
  async function resumedAfter(since: number, timeoutMs: number): Promise<number> {
    const before = (await scanCalls()).length;
    await eventually(async () => (await scanCalls()).length > before, timeoutMs, 'scans to resume');
    return Date.now() - since;
  }

  async function multiRelease(name: string, during?: () => Promise<void>) {
    const a = images(`${name}-a`, 0, 40);
    const shared = images(`${name}-shared`, 0, 20);
    const b = images(`${name}-b`, 0, 40);
    const lists = { one: await h.writeList(`${name}-1.txt`, [...a, ...shared]), two: await h.writeList(`${name}-2.txt`, [...shared, ...b]) };
    const releases = [{ name: `${name}-1`, images: lists.one }, { name: `${name}-2`, images: lists.two }];
    const callsBefore = (await scanCalls()).length;
    const handle = await startRun(client, { releases, maxConcurrentScans: 8 }, { taskQueue });
    if (during) await during();
    const summary: RunSummary = await handle.result();
    const scans = (await scanCalls()).slice(callsBefore);
    const unique = [...a, ...shared, ...b];
    return { summary, scans, unique, releases, runKey: summary.runKey };
  }

  async function assertComplete(run: Awaited<ReturnType<typeof multiRelease>>) {
    for (const r of run.summary.releases) assert.equal(r.status, 'completed', r.error);
    assert.equal(run.summary.releases.reduce((n, r) => n + (r.result?.failed ?? 0), 0), 0);
    // Every image has its one result in the shared PostgreSQL store.
    for (const image of run.unique) {
      const result = await store.readJson<{ outcome: string }>(storeKeys.result(run.runKey, parseImageRef(image).canonical));
      assert.equal(result?.outcome, 'findings', `${image} has its result in PostgreSQL`);
    }
    // Each CSV lists each of its images once.
    const reports = layout(env.IMAGE_SCANNING_CLUSTER_DIR!).reports;
    for (const [i, release] of run.releases.entries()) {
      const rows = parseReportCsv(readFileSync(join(reports, `cves-${release.name}.csv`), 'utf8'), release.name);
      assert.equal(rows.length, 60, `${release.name}: one row per image`);
      assert.equal(new Set(rows.map((r) => r.image)).size, 60, `${release.name}: no image twice (${i})`);
    }
    const issues = fake.issues('rancher', 'cve-reports');
    assert.equal(new Set(issues.map((x) => x.title)).size, issues.length, 'no duplicate issue');
    assert.deepEqual(fake.violations, []);
  }

  it('runs two releases on 3 workers over the PostgreSQL store, each image scanned once; the workers export metrics', async (t) => {
    const p = ports(state());
    const scrape = () => Promise.all([1, 2, 3].map((i) => fetch(`http://127.0.0.1:${p.workerMetrics(i)}/metrics`).then((r) => r.text())));
    let scraped = '';
    const run = await multiRelease('full', async () => {
      // Scrape every worker while the run goes on.
      await eventually(async () => {
        const texts = await scrape();
        scraped = texts.join('\n');
        return texts.filter((x) => /image_scanning_scans\{[^}]*outcome="findings"/.test(x)).length >= 2;
      }, 60_000, 'scans counted by at least two workers');
    });
    t.diagnostic(`2 releases, 100 unique images, 3 workers: ${run.scans.length} scans`);
    await assertComplete(run);
    assert.deepEqual(run.scans.map((c) => c.image).sort(), [...run.unique].sort(), 'each unique image scanned exactly once');
    assert.match(scraped, /temporal_activity_execution_latency/, "the SDK's own metrics");
    assert.match(scraped, /image_scanning_trivy_seconds/);
    // The issue writes come after the scans: one worker counted them.
    assert.match((await scrape()).join('\n'), /image_scanning_github_writes\{[^}]*method="POST"[^}]*\} [1-9]/);
  });

  it('finishes when a worker is SIGKILLed mid-run, and `up` brings it back', async (t) => {
    const worker = processOf(env.IMAGE_SCANNING_CLUSTER_DIR!, 'worker-1');
    let killedAt = 0;
    const run = await multiRelease('wkill', async () => {
      await afterScans('wkill');
      process.kill(pidOf(worker)!, 'SIGKILL');
      killedAt = Date.now();
    });
    t.diagnostic(`worker killed: run finished ${Date.now() - killedAt} ms after the kill; ${run.scans.length} scans for ${run.unique.length} images`);
    await assertComplete(run);
    assert.ok(run.scans.length <= run.unique.length + 12, 'only scans in flight on the killed worker ran again');
    const up = await cluster('up');
    t.diagnostic(`cluster up after the kill: ${up.ms} ms`);
    assert.ok(alive(pidOf(worker)), 'worker 1 is back');
  });

  it('finishes when the Temporal server is SIGKILLed mid-run and started again', async (t) => {
    const server = processOf(env.IMAGE_SCANNING_CLUSTER_DIR!, 'temporal-server');
    let recoveredMs = 0;
    const run = await multiRelease('skill', async () => {
      await afterScans('skill');
      process.kill(pidOf(server)!, 'SIGKILL');
      const killedAt = Date.now();
      await new Promise((r) => setTimeout(r, 2000));
      await cluster('up');
      recoveredMs = await resumedAfter(killedAt, 60_000);
    });
    t.diagnostic(`server killed, down 2 s, restarted by \`cluster up\`: scans resumed ${recoveredMs} ms after the kill`);
    await assertComplete(run);
    assert.ok(run.scans.length <= run.unique.length + 12, `${run.scans.length} scans for ${run.unique.length} images`);
  });

  it('finishes when PostgreSQL is stopped mid-run and started again: workers and server reconnect by themselves', async (t) => {
    const s = state();
    const pg = { dataDir: layout(env.IMAGE_SCANNING_CLUSTER_DIR!).postgres, port: ports(s).postgres, superPassword: s.passwords.postgres };
    let recoveredMs = 0;
    const run = await multiRelease('pgstop', async () => {
      await afterScans('pgstop');
      await stopPostgres(pg, 'fast');
      const stoppedAt = Date.now();
      await new Promise((r) => setTimeout(r, 3000));
      await startPostgres(pg);
      recoveredMs = await resumedAfter(stoppedAt, 120_000);
    });
    t.diagnostic(`PostgreSQL stopped (fast), down 3 s: scans resumed ${recoveredMs} ms after the stop`);
    await assertComplete(run);
  });

  it('stops everything on `down` and keeps the data for the next `up`', async (t) => {
    const dirOf = env.IMAGE_SCANNING_CLUSTER_DIR!;
    const pids = ['temporal-server', 'temporal-ui', 'scan-cache', 'worker-1', 'worker-2', 'worker-3'].map((n) => pidOf(processOf(dirOf, n)));
    const down = await cluster('down');
    t.diagnostic(`cluster down: ${down.ms} ms`);
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} is gone`);
    await assert.rejects(cluster('status'));
    const up = await cluster('up');
    t.diagnostic(`cluster up on kept data: ${up.ms} ms`);
    await store.close();
    store = new PostgresResultStore(storeUrl(state()));
    const reports = await store.list('releases');
    assert.ok(reports.length >= 2, 'the reports of earlier runs are still in PostgreSQL');
  });
});
