/**
 * Benchmark (not a test): what starting one scanner process costs the process that starts it,
 * by that process's resident memory. The reason the worker starts Trivy through the scanner
 * launcher (activities/scan/launcher-main.ts) rather than itself.
 *
 *   npm run bench:spawn [-- --spawns 300]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ProcessLauncher } from '../activities/scan/process-launcher.js';
import { cpuOf, load, machine, MiB, table } from './support.js';

const { values: opts } = parseArgs({ options: { spawns: { type: 'string', default: '300' } } });
const SPAWNS = Number(opts.spawns);

/** CPU milliseconds of this process and its reaped children (/bin/sh) a start, and wall milliseconds a start. */
async function measure(start: () => Promise<unknown>): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu0 = cpuOf(process.pid);
  const t0 = performance.now();
  for (let i = 0; i < SPAWNS; i++) await start();
  const cpu = cpuOf(process.pid);
  return { cpuMs: ((cpu.self + cpu.children - cpu0.self - cpu0.children) * 1000) / SPAWNS, wallMs: (performance.now() - t0) / SPAWNS };
}

const direct = () => new Promise((resolve) => spawn('/bin/sh', ['-c', ':'], { stdio: 'ignore' }).once('exit', resolve));

const held: Buffer[] = [];
const rows: string[][] = [];
const launcher = new ProcessLauncher();
for (const mib of [0, 100, 300]) {
  // Resident memory like a worker's: touched pages, which a fork must map into the child.
  while (held.length < mib) held.push(Buffer.alloc(MiB, 1));
  const own = await measure(direct);
  await launcher.launch('/bin/true', []).exited;
  const before = cpuOf(launcher.pid!);
  const viaLauncher = await measure(() => launcher.launch('/bin/sh', ['-c', ':']).exited);
  const after = cpuOf(launcher.pid!);
  // The launcher's own CPU and its reaped children's: the start itself, and /bin/sh.
  const launcherMs = ((after.self + after.children - before.self - before.children) * 1000) / SPAWNS;
  rows.push([
    `${mib} MiB held (RSS ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB)`,
    `${own.cpuMs.toFixed(2)} ms CPU, ${own.wallMs.toFixed(2)} ms wall`,
    `${viaLauncher.cpuMs.toFixed(2)} ms CPU here + ${launcherMs.toFixed(2)} ms in the launcher, ${viaLauncher.wallMs.toFixed(2)} ms wall`,
  ]);
}
launcher.close();
console.log(`## Starting a process (\`npm run bench:spawn\`)\n\nMachine: ${machine()}; load average ${load()}. ${SPAWNS} starts of \`/bin/sh -c :\` each, one after another.\n`);
console.log(table(['starting process', 'spawn from this process', 'through the scanner launcher'], rows));
