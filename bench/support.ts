/**
 * Shared pieces of the benchmarks: the machine, Markdown tables, a minimal
 * stand-in scanner, the embedded dev server on free ports, and /proc readers.
 * Not a test: figures are printed for a person to read (see BENCHMARKS.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { devServerArgs, serverAnswers } from '../client/dev-server.js';
import { freePort } from '../host/ports.js';

export { freePort };

export const MiB = 1024 * 1024;

export function machine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} cores (${model}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB memory, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** The 1-minute load average: other work on the machine skews every figure. */
export function load(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(2)} MiB`;
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
export const pass = (ok: boolean): string => (ok ? 'met' : '**missed**');

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const mean = (values: number[]): number => (values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length);

/** A Trivy SchemaVersion 2 report with three findings (OS and language packages): what every stub scan returns. */
export const STUB_REPORT = {
  SchemaVersion: 2,
  ArtifactName: 'bench',
  ArtifactType: 'container_image',
  Metadata: { OS: { Family: 'debian', Name: '12.8' } },
  Results: [
    {
      Target: 'bench (debian 12.8)',
      Class: 'os-pkgs',
      Type: 'debian',
      Vulnerabilities: [
        { VulnerabilityID: 'CVE-2024-0727', PkgName: 'openssl', InstalledVersion: '3.0.11-1~deb12u2', FixedVersion: '3.0.13-1~deb12u1', Status: 'fixed', Severity: 'MEDIUM', Title: 'openssl: denial of service via null dereference', PrimaryURL: 'https://avd.aquasec.com/nvd/cve-2024-0727', PublishedDate: '2024-01-26T09:15:07.637Z' },
        { VulnerabilityID: 'CVE-2023-4911', PkgName: 'libc6', InstalledVersion: '2.36-9+deb12u3', FixedVersion: '2.36-9+deb12u4', Status: 'fixed', Severity: 'HIGH', Title: 'glibc: buffer overflow in ld.so leading to privilege escalation', PrimaryURL: 'https://avd.aquasec.com/nvd/cve-2023-4911', PublishedDate: '2023-10-03T18:15:10.223Z' },
      ],
    },
    {
      Target: 'usr/local/bin/app',
      Class: 'lang-pkgs',
      Type: 'gobinary',
      Vulnerabilities: [
        { VulnerabilityID: 'CVE-2023-45288', PkgName: 'golang.org/x/net', InstalledVersion: 'v0.17.0', FixedVersion: '0.23.0', Status: 'fixed', Severity: 'CRITICAL', Title: 'golang: net/http, x/net/http2: unlimited number of CONTINUATION frames', PrimaryURL: 'https://avd.aquasec.com/nvd/cve-2023-45288', PublishedDate: '2024-04-04T21:15:16.113Z' },
      ],
    },
  ],
};

/**
 * A Trivy stand-in as cheap as an executable can be: a `/bin/sh` script that
 * answers the DB downloads at once, and for a scan sleeps `delayMs` (one
 * `sleep` process) then writes the fixed report to the `--output` file with the
 * shell's builtin printf. The Node stub of the tests costs ~40 ms of CPU a scan.
 */
export async function writeStubScanner(dir: string, delayMs: number): Promise<string> {
  const path = join(dir, `trivy-stub-${delayMs}ms.sh`);
  const json = JSON.stringify(STUB_REPORT);
  if (json.includes("'")) throw new Error('the stub report must not contain a single quote');
  const script = [
    '#!/bin/sh',
    '# Benchmark stand-in for the Trivy CLI (written by bench/support.ts).',
    'out=',
    'prev=',
    'for a in "$@"; do',
    '  case "$a" in --download-db-only|--download-java-db-only) exit 0 ;; esac',
    '  if [ "$prev" = "--output" ]; then out="$a"; fi',
    '  prev="$a"',
    'done',
    delayMs > 0 ? `sleep ${(delayMs / 1000).toFixed(3)}` : ':',
    `if [ -n "$out" ]; then printf '%s\\n' '${json}' > "$out"; else printf '%s\\n' '${json}'; fi`,
    '',
  ].join('\n');
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

export interface DevServer {
  address: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The embedded dev server as `image-scanning run` starts it (SQLite file, Release search attribute), on free ports; tried up to three times. */
export async function startBenchDevServer(cli: string, dbFile: string, extraArgs: string[] = []): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryStartDevServer(cli, `${dbFile.replace(/\.db$/, '')}-${attempt}.db`, extraArgs);
    } catch (error) {
      if (attempt >= 3) throw error;
      process.stderr.write(`the dev server did not start (${(error as Error).message.split('\n')[0]}); trying again\n`);
    }
  }
}

async function tryStartDevServer(cli: string, dbFile: string, extraArgs: string[]): Promise<DevServer> {
  const port = await freePort();
  const uiPort = await freePort();
  const child = spawn(cli, [...devServerArgs({ cli, dbFile, port, uiPort }), ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8192)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await serverAnswers(address, 1000))) {
    if (child.exitCode !== null) throw new Error(`the dev server exited with code ${child.exitCode}:\n${stderr}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the dev server did not answer within 60 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { address, pid: child.pid!, child, stop };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds of a process (utime + stime) and of its reaped children (cutime + cstime), from /proc. */
export function cpuOf(pid: number): { self: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    const n = (field: number) => Number(fields[field - 3]);
    return { self: (n(14) + n(15)) / CLOCK_TICKS, children: (n(16) + n(17)) / CLOCK_TICKS };
  } catch {
    return { self: NaN, children: NaN };
  }
}

/**
 * CPU seconds of the scanner launchers a process forked (activities/scan/launcher-main.ts): their
 * own and their reaped children's, i.e. the cost of starting the scanners and the scanners.
 */
export function launcherCpuOf(pid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid || !readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('launcher-main')) continue;
      const cpu = cpuOf(Number(entry));
      if (!Number.isNaN(cpu.self)) total += cpu.self + cpu.children;
    } catch {
      // gone while we looked
    }
  }
  return total;
}

/**
 * CPU seconds of each thread of a process, keyed `name#n` (n-th thread of that name, in tid
 * order: `node#1` is the main JS thread, later `node#` threads are worker threads).
 */
export function threadsOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: number[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
  } catch {
    return out;
  }
  const seen = new Map<string, number>();
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(fields[14 - 3]) + Number(fields[15 - 3])) / CLOCK_TICKS;
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      out.set(`${name}#${n}`, cpu);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Sums `name#n` thread figures by name, keeping `node#1` (the main thread) apart. */
export function byThreadName(threads: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, cpu] of threads) {
    const name = key === 'node#1' ? 'node (main thread)' : key.replace(/#\d+$/, '');
    out.set(name, (out.get(name) ?? 0) + cpu);
  }
  return out;
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes. */
export async function memoryOf(pid: number): Promise<{ rss: number; hwm: number }> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** Resets a process's peak RSS (VmHWM) to its current RSS, so a peak can be taken over one phase only. */
export async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the highest sample and one sample a second. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number; timeline: number[] } {
  let peak = 0;
  const timeline: number[] = [];
  const started = Date.now();
  const timer = setInterval(() => {
    void memoryOf(pid).then(({ rss }) => {
      if (rss > peak) peak = rss;
      const second = Math.floor((Date.now() - started) / 1000);
      timeline[second] = Math.max(timeline[second] ?? 0, rss);
    });
  }, everyMs);
  return {
    timeline,
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
