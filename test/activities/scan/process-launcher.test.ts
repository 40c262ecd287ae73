import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LauncherExitedError, ProcessLauncher } from '../../../activities/scan/process-launcher.js';
import { eventually } from '../../helpers/harness.js';

/** Gone, or a zombie nobody reaped yet: either way it runs no more. */
function stopped(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

async function pidsIn(file: string): Promise<number[]> {
  try {
    return (await readFile(file, 'utf8')).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const launchers: ProcessLauncher[] = [];
const dirs: string[] = [];
after(async () => {
  for (const launcher of launchers) launcher.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function setup(): Promise<{ launcher: ProcessLauncher; dir: string }> {
  const launcher = new ProcessLauncher();
  launchers.push(launcher);
  const dir = await mkdtemp(join(tmpdir(), 'launcher-test-'));
  dirs.push(dir);
  return { launcher, dir };
}

describe('the scanner launcher', () => {
  it('runs a process with the environment of the moment and returns its exit code, stdout and stderr', async () => {
    const { launcher } = await setup();
    process.env.LAUNCHER_TEST_VALUE = 'first';
    const first = await launcher.launch('/bin/sh', ['-c', 'echo "out $LAUNCHER_TEST_VALUE"; echo err >&2; exit 3']).exited;
    process.env.LAUNCHER_TEST_VALUE = 'second';
    const second = await launcher.launch('/bin/sh', ['-c', 'echo "out $LAUNCHER_TEST_VALUE"']).exited;
    delete process.env.LAUNCHER_TEST_VALUE;
    assert.deepEqual(first, { exitCode: 3, signal: null, stdout: 'out first\n', stderr: 'err\n' });
    assert.equal(second.stdout, 'out second\n', 'a variable set after the launcher started reaches the process');
    assert.notEqual(launcher.pid, process.pid);
  });

  it('rejects with ENOENT for a missing executable', async () => {
    const { launcher } = await setup();
    await assert.rejects(launcher.launch('/nonexistent/trivy', []).exited, (error: NodeJS.ErrnoException) => error.code === 'ENOENT');
  });

  it('kill() ends the process and what it started', async () => {
    const { launcher, dir } = await setup();
    const pids = join(dir, 'pids');
    const launched = launcher.launch('/bin/sh', ['-c', `sleep 300 & echo $! >> ${pids}; echo $$ >> ${pids}; wait`]);
    const [grandchild, child] = await eventually(async () => ((await pidsIn(pids)).length === 2 ? pidsIn(pids) : undefined), 10_000, 'the pids');
    launched.kill();
    const exited = await launched.exited;
    assert.equal(exited.signal, 'SIGKILL');
    await eventually(async () => stopped(child!) && stopped(grandchild!), 10_000, 'the process group to stop');
  });

  it('rejects the running processes when the launcher dies, and starts a new launcher for the next one', async () => {
    const { launcher } = await setup();
    const running = launcher.launch('/bin/sh', ['-c', 'sleep 300']);
    await eventually(async () => launcher.pid, 5_000, 'the launcher');
    process.kill(launcher.pid!, 'SIGKILL');
    await assert.rejects(running.exited, LauncherExitedError);
    const next = await launcher.launch('/bin/sh', ['-c', 'echo again']).exited;
    assert.equal(next.stdout, 'again\n');
  });

  it('kills every process it started when the worker is killed with SIGKILL', async () => {
    const { dir } = await setup();
    const pids = join(dir, 'pids');
    const module = fileURLToPath(new URL('../../../activities/scan/process-launcher.js', import.meta.url));
    // A stand-in worker: starts a long scan through its launcher, then is killed without warning.
    const script = `import { processLauncher } from ${JSON.stringify(module)};
processLauncher().launch('/bin/sh', ['-c', 'sleep 300 & echo $! >> ${pids}; echo $$ >> ${pids}; wait']);
setInterval(() => {}, 1000);`;
    const worker = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    const [grandchild, child] = await eventually(async () => ((await pidsIn(pids)).length === 2 ? pidsIn(pids) : undefined), 10_000, 'the scan to start');
    assert.ok(!stopped(child!) && !stopped(grandchild!), 'the scan runs');
    worker.kill('SIGKILL');
    await exited;
    await eventually(async () => stopped(child!) && stopped(grandchild!), 10_000, 'the scan to be killed after its worker');
  });
});
