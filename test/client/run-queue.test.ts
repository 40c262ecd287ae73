/** An embedded `run` owns its task queue: a second run or a shared-queue worker on the same server takes none of its tasks. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TASK_QUEUE } from '../../workflows/messages.js';
import { eventually, images, tempDir, TRIVY_STUB } from '../helpers/harness.js';
import { CLI, spawnWorker, type WorkerProcess } from '../helpers/processes.js';
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

/** One person's set-up: its own data, reports, stub Trivy (with its own call log) and image list. */
interface Setup {
  dir: string;
  data: string;
  out: string;
  stub: string;
  list: string;
  env: Record<string, string>;
}

async function setup(name: string, imageNames: string[], delayMs: number): Promise<Setup> {
  const dir = await tempDir(`image-scanning-queue-${name}-`);
  const s = { dir, data: join(dir, 'data'), out: join(dir, 'out'), stub: join(dir, 'stub'), list: join(dir, 'images.txt') };
  await mkdir(s.stub, { recursive: true });
  await writeFile(join(s.stub, 'scenarios.json'), JSON.stringify({ default: { synthetic: 1, delayMs } }));
  await writeFile(s.list, imageNames.join('\n') + '\n');
  return {
    ...s,
    env: {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      IMAGE_SCANNING_DATA_DIR: s.data,
      IMAGE_SCANNING_REPORTS_DIR: join(dir, 'reports'),
      TRIVY_BIN: TRIVY_STUB,
      TRIVY_CACHE_DIR: join(dir, 'trivy-cache'),
      TRIVY_CACHE_BACKEND: 'memory',
      TRIVY_STUB_DIR: s.stub,
      TRIVY_HEARTBEAT_SECONDS: '1',
      MAX_CONCURRENT_ACTIVITIES: '8',
      TMPDIR: dir,
      LOG_LEVEL: 'INFO',
      GITHUB_TOKEN: '',
    },
  };
}

function runCli(s: Setup, release: string): Promise<{ code: number | null; output: string }> {
  const args = [CLI, 'run', '--release', release, '--images', s.list, '--out', s.out, '--concurrency', '4'];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...s.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/** The images the stub Trivy of a set-up was asked to scan. */
async function scanned(s: Setup): Promise<string[]> {
  const log = await readFile(join(s.stub, 'calls.log'), 'utf8').catch(() => '');
  return log
    .split('\n')
    .filter((l) => l.startsWith('scan '))
    .map((l) => l.split(' ')[2]!)
    .sort();
}

const listing = (dir: string) => readdir(dir).catch(() => [] as string[]);

describe('an embedded run on a shared server', () => {
  it('two runs at once and a shared-queue worker: each run writes only its own outputs, the worker takes nothing', async (t) => {
    const a = await setup('a', images('alpha', 0, 10), 600);
    const b = await setup('b', images('beta', 0, 10), 600);
    // A long-lived worker with other settings on the shared queue, as the README's Schedule section starts.
    const other = await setup('worker', [], 0);
    const worker = await spawnWorker({ ...other.env, TEMPORAL_TASK_QUEUE: TASK_QUEUE });
    workers.push(worker);

    const started = Date.now();
    const [ra, rb] = await Promise.all([runCli(a, 'v2.9.0'), runCli(b, 'v2.10.0')]);
    t.diagnostic(`two runs of 10 images (0.6 s a scan, 4 at a time) side by side: ${Date.now() - started} ms`);
    assert.equal(ra.code, 0, ra.output);
    assert.equal(rb.code, 0, rb.output);

    // Each run's scans ran on its own stub, all of them, once: no task went to the other run or the worker.
    assert.deepEqual(await scanned(a), images('alpha', 0, 10).sort());
    assert.deepEqual(await scanned(b), images('beta', 0, 10).sort());
    assert.deepEqual(await scanned(other), [], 'the shared-queue worker scanned nothing');
    const queueA = /on task queue (\S+):/.exec(ra.output)?.[1];
    const queueB = /on task queue (\S+):/.exec(rb.output)?.[1];
    assert.ok(queueA?.startsWith(`${TASK_QUEUE}-run-`) && queueB?.startsWith(`${TASK_QUEUE}-run-`), `${ra.output}\n${rb.output}`);
    assert.notEqual(queueA, queueB);

    // Outputs: each folder holds its own release only, with every image scanned.
    const outA = await listing(a.out);
    const outB = await listing(b.out);
    assert.ok(outA.includes('cves-v2.9.0.csv') && !outA.some((f) => f.includes('v2.10.0')), outA.join(' '));
    assert.ok(outB.includes('cves-v2.10.0.csv') && !outB.some((f) => f.includes('v2.9.0')), outB.join(' '));
    for (const [s, release] of [[a, 'v2.9.0'], [b, 'v2.10.0']] as const) {
      const summary = JSON.parse(await readFile(join(s.out, `cves-${release}.summary.json`), 'utf8')) as { failedImages?: unknown[] };
      assert.deepEqual(summary.failedImages ?? [], [], `${release}: 0 failed scans`);
    }
    // Data: each run's results in its own store, none in the worker's.
    assert.equal((await listing(join(a.data, 'runs'))).length, 1);
    assert.equal((await listing(join(b.data, 'runs'))).length, 1);
    assert.deepEqual(await listing(join(other.data, 'runs')), []);
    assert.doesNotMatch(worker.output(), /v2\.9\.0|v2\.10\.0|alpha|beta/, 'the worker log shows nothing of either run');

    // The run's workflow, children and activities all sit on its queue, and the release search still finds it.
    const [execution] = await eventually(async () => {
      const found = await collect(env.client.workflow.list({ query: `RancherRelease = 'v2.9.0'` }));
      return found.length ? found : undefined;
    }, 10_000, 'the run found by its release');
    assert.equal(execution.taskQueue, queueA);
    const history = await env.client.workflow.getHandle(`${execution.workflowId}/v2.9.0`).fetchHistory();
    const queues = new Set(
      (history.events ?? []).flatMap((e) => [e.activityTaskScheduledEventAttributes?.taskQueue?.name, e.workflowExecutionStartedEventAttributes?.taskQueue?.name]).filter((q): q is string => !!q),
    );
    assert.deepEqual([...queues], [queueA], 'the child and every activity inherit the run queue');
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
