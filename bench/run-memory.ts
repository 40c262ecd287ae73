/**
 * Benchmark (not a test): the whole product's memory on a large release.
 *
 *   npm run bench:run [-- --images 1000 --per-image 200]
 *
 * `image-scanning run` (dev server, in-process worker, every activity, the site) over one
 * release of 1,000 images whose every scan reports 200 findings, run twice on the same
 * reports directory, so that the second run merges the first's CSV. The scanner is a
 * `/bin/sh` stand-in that copies a prepared Trivy report per image; the rest is the product
 * as a user runs it, in the worker's own settings (`--optimize-for-size`). Each run's peak
 * RSS (VmHWM) is read by the process itself as it exits.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../host/paths.js';
import { findTemporalCli } from '../client/temporal-cli.js';
import { load, machine, MiB, pass, startBenchDevServer, table } from './support.js';

const { values: opts } = parseArgs({
  options: {
    images: { type: 'string', default: '1000' },
    'per-image': { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
  },
});
const IMAGES = Number(opts.images);
const PER_IMAGE = Number(opts['per-image']);
const RELEASE = 'v2.12.3';
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
const TARGET = 600 * MiB;

const imageName = (i: number) => `rancher/bench-image-${i}:v1.${i}.0`;
const fileSafe = (image: string) => image.replace(/[^A-Za-z0-9]/g, '_');

/** A Trivy report of `PER_IMAGE` findings for image `i`, as Trivy writes it (SchemaVersion 2). */
function trivyReport(i: number): string {
  const vulnerabilities = Array.from({ length: PER_IMAGE }, (_, j) => ({
    VulnerabilityID: `CVE-2024-${i * PER_IMAGE + j}`,
    PkgName: `package-${j % 40}`,
    InstalledVersion: `1.${j}.0`,
    FixedVersion: j % 2 ? `1.${j}.1` : '',
    Status: j % 2 ? 'fixed' : 'affected',
    Severity: SEVERITIES[j % 5],
    Title: `A vulnerability in package-${j % 40}, with a "quoted" word and a comma`,
    PrimaryURL: `https://avd.aquasec.com/nvd/cve-2024-${i * PER_IMAGE + j}`,
    PublishedDate: '2024-03-01T00:00:00Z',
  }));
  return JSON.stringify({
    SchemaVersion: 2,
    ArtifactName: imageName(i),
    ArtifactType: 'container_image',
    Metadata: { OS: { Family: 'debian', Name: '12.8' } },
    Results: [{ Target: `${imageName(i)} (debian 12.8)`, Class: 'os-pkgs', Type: 'debian', Vulnerabilities: vulnerabilities }],
  });
}

/** A stand-in for the Trivy CLI that answers DB downloads at once and copies the image's prepared report. */
async function writeScanner(dir: string, reports: string): Promise<string> {
  const path = join(dir, 'trivy-bench.sh');
  const script = [
    '#!/bin/sh',
    '# Benchmark stand-in for the Trivy CLI (written by bench/run-memory.ts).',
    'out=; prev=; last=',
    'for a in "$@"; do',
    '  case "$a" in --download-db-only|--download-java-db-only|--version) exit 0 ;; esac',
    '  if [ "$prev" = "--output" ]; then out="$a"; fi',
    '  prev="$a"; last="$a"',
    'done',
    `name=$(printf '%s' "$last" | tr -c 'A-Za-z0-9' '_')`,
    `cat "${reports}/$name.json" > "$out"`,
    '',
  ].join('\n');
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

/** Loaded with --require into the run: writes the process's peak RSS when it exits. */
const PEAK_PROBE = `const fs = require('node:fs');
process.on('exit', () => {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  fs.writeFileSync(process.env.BENCH_PEAK_FILE, String(Number(/VmHWM:\\s+(\\d+) kB/.exec(status)[1]) * 1024));
});
`;

async function runOnce(dir: string, env: Record<string, string>, label: string): Promise<{ peak: number; wallMs: number; exit: number | null; csvBytes: number }> {
  const peakFile = join(dir, `${label}.peak`);
  const cli = join(PROJECT_ROOT, 'lib', 'client', 'cli.js');
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--optimize-for-size', '--require', join(dir, 'peak-probe.cjs'), cli, 'run', '--config', join(dir, 'config.json'), '--out', join(dir, 'reports')], {
    env: { ...process.env, ...env, BENCH_PEAK_FILE: peakFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  const exit = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const wallMs = performance.now() - t0;
  if (exit !== 0) throw new Error(`run ${label} exited ${exit}:\n${output}`);
  const csvBytes = (await stat(join(dir, 'reports', `cves-${RELEASE}.csv`))).size;
  return { peak: Number(await readFile(peakFile, 'utf8')), wallMs, exit, csvBytes };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-run-'));
  const cli = await findTemporalCli({ install: true, log: (line: string) => console.error(`[bench:run] ${line}`) });
  const server = await startBenchDevServer(cli, join(dir, 'temporal.db'));
  try {
    console.error(`[bench:run] machine: ${machine()}; load average ${load()}`);
    console.error(`[bench:run] preparing ${IMAGES} reports of ${PER_IMAGE} findings in ${dir}`);
    const reports = join(dir, 'trivy-reports');
    await mkdir(reports, { recursive: true });
    const names = Array.from({ length: IMAGES }, (_, i) => imageName(i));
    for (const [i, image] of names.entries()) await writeFile(join(reports, `${fileSafe(image)}.json`), trivyReport(i));
    await writeFile(join(dir, 'rancher-images.txt'), `${names.join('\n')}\n`);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ releases: [{ name: RELEASE, images: join(dir, 'rancher-images.txt') }], maxConcurrentScans: 8 }));
    await writeFile(join(dir, 'peak-probe.cjs'), PEAK_PROBE);
    const env = {
      TEMPORAL_ADDRESS: server.address,
      TRIVY_BIN: await writeScanner(dir, reports),
      TRIVY_CACHE_BACKEND: 'memory',
      TRIVY_CACHE_DIR: join(dir, 'trivy-cache'),
      IMAGE_SCANNING_DATA_DIR: join(dir, 'data'),
      GITHUB_TOKEN: '',
      LOG_LEVEL: 'WARN',
    };
    const first = await runOnce(dir, env, 'first');
    const second = await runOnce(dir, env, 'second');
    const rows = IMAGES * PER_IMAGE;
    console.log(`Whole-run benchmark: \`image-scanning run\` (in-process worker, dev server, report, issue plan, site) over one release of ${IMAGES.toLocaleString('en-US')} images x ${PER_IMAGE} findings (${rows.toLocaleString('en-US')} rows, CSV ${(second.csvBytes / MiB).toFixed(0)} MiB), twice on the same reports directory. Node flags as the worker: --optimize-for-size.\n`);
    console.log(
      table(
        ['run', 'wall', 'peak RSS of the run process', 'target'],
        [
          ['first (no previous CSV)', `${(first.wallMs / 1000).toFixed(1)} s`, `${(first.peak / MiB).toFixed(0)} MiB`, `< 600 MiB: ${pass(first.peak < TARGET)}`],
          ['second (merges the first CSV)', `${(second.wallMs / 1000).toFixed(1)} s`, `${(second.peak / MiB).toFixed(0)} MiB`, `< 600 MiB: ${pass(second.peak < TARGET)}`],
        ],
      ),
    );
  } finally {
    await server.stop();
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
    else console.error(`[bench:run] kept ${dir}`);
  }
}

await main();
