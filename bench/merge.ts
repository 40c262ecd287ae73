/**
 * Benchmark (not a test): the release report activity at 50,000, 100,000 and 200,000 rows.
 *
 *   npm run bench:merge [-- --sizes 50000,100000,200000 --per-image 100 --profile DIR]
 *
 * For each size the parent writes what the activity starts from: a run folder holding each
 * image's scan result (as the scan activity leaves it) and last week's CSV in the reports
 * directory, with a person's notes on one row in ten, and one finding in fifty changed since.
 * Each measurement then runs in a fresh `node --optimize-for-size` process (the worker's own
 * setting), so its peak RSS (VmHWM) is its own:
 *  - `activity`: the writeReleaseReport activity itself (read the scans, stream-parse the
 *    previous CSV, merge, stream the new CSV to disk, copy it into the result store twice,
 *    the summary and OpenVEX beside it);
 *  - `floor`: csv-parse and csv-stringify alone (their sync API, the fastest use of them)
 *    over the same previous CSV, with no rules of ours; and, for reference, the same plus
 *    reading the scan results (readFile + JSON.parse), which the activity must also do;
 *  - `memory`: the merge as it was before it streamed (the whole CSV parsed, merged and
 *    rendered in memory), for the memory side by side;
 *  - `baseline`: a process that only loads the activity's modules.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../activities/deps.js';
import { csvFileName } from '../activities/report/report-paths.js';
import { FolderResultStore, runFolderKeys, withinRun, writeFileAtomic } from '../activities/store/result-store.js';
import { createWriteReleaseReport } from '../activities/report/write-release-report.js';
import type { Finding, Severity } from '../core/finding.js';
import type { ReleaseReportResult } from '../core/run.js';
import { buildImageRecords, parseImageList, type ImageRecord } from '../core/image-list.js';
import { parseReportCsv, renderReportCsv } from '../core/render/csv.js';
import type { ImageScan } from '../core/scan.js';
import { keepsPreviousRows, mergeTriage } from '../core/triage.js';
import { load, machine, MiB, pass, table } from './support.js';

const RELEASE = 'v2.9.0';
const RUN = 'bench-merge-run';
const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
const MB = 1000 * 1000;

const { values: opts } = parseArgs({
  options: {
    sizes: { type: 'string', default: '50000,100000,200000' },
    'per-image': { type: 'string', default: '100' },
    /** Internal: measure one thing in this process and print JSON. */
    measure: { type: 'string' },
    dir: { type: 'string' },
    /** Write V8 CPU profiles of the measuring processes into this folder. */
    profile: { type: 'string' },
    /** Extra node flags for the measuring processes, comma-separated. */
    'node-args': { type: 'string' },
    /** Keep the inputs (to measure one thing by hand: --measure activity --dir DIR). */
    keep: { type: 'boolean', default: false },
  },
});
const PER_IMAGE = Number(opts['per-image']);

function findingsOf(image: string, i: number, week: number): Finding[] {
  return Array.from({ length: PER_IMAGE }, (_, j) => {
    // One finding in fifty changes from one week to the next: fixed, and a new one in its place.
    const id = j % 50 === 0 ? `CVE-2025-${week}${i}${j}` : `CVE-2024-${i * PER_IMAGE + j}`;
    return {
      image,
      target: `${image} (debian 12.5)`,
      class: j % 3 === 0 ? 'lang-pkgs' : 'os-pkgs',
      type: j % 3 === 0 ? 'gobinary' : 'debian',
      packageName: `package-${j % 40}`,
      packagePath: j % 3 === 0 ? 'usr/bin/app' : '',
      installedVersion: `1.${j}.0`,
      fixedVersion: j % 2 ? `1.${j}.1` : '',
      vulnerabilityId: id,
      severity: SEVERITIES[j % 5]!,
      status: j % 2 ? 'fixed' : 'affected',
      title: `A vulnerability in package-${j % 40}, with a "quoted" word and a comma`,
      url: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
      publishedDate: '2024-03-01T00:00:00Z',
    };
  });
}

function imageRecords(images: number): ImageRecord[] {
  const names = Array.from({ length: images }, (_, i) => `rancher/image-${i}:v1.${i}.0`);
  return buildImageRecords({ images: parseImageList(names.join('\n'), 'rancher-images.txt') });
}

const scansOf = (records: ImageRecord[], week: number) =>
  new Map<string, ImageScan>(records.map((r, i) => [r.image, { image: r.image, outcome: 'findings', osScanned: true, findings: findingsOf(r.image, i, week) }]));

const paths = (dir: string) => ({ store: join(dir, 'store'), reports: join(dir, 'reports'), csv: join(dir, 'reports', csvFileName(RELEASE)) });

/** Last week's CSV (with notes) and this week's scan results, laid out as the activities leave them. */
async function writeInputs(dir: string, rows: number): Promise<void> {
  const records = imageRecords(rows / PER_IMAGE);
  const lastWeek = mergeTriage({ release: RELEASE, images: records, scans: scansOf(records, 1), previous: [], today: '2026-11-22' });
  for (const [i, row] of lastWeek.rows.entries()) {
    if (i % 10 === 0) {
      row.state = i % 20 === 0 ? 'ignore' : 'waiting';
      row.notes = `Checked by the release team, see https://github.com/rancher/rancher/issues/${i}; "not reachable", mostly`;
    }
  }
  await writeFileAtomic(paths(dir).csv, renderReportCsv(lastWeek));
  const runFolder = withinRun(new FolderResultStore(paths(dir).store), RUN);
  await runFolder.writeJson(runFolderKeys.images(RELEASE), records);
  for (const [i, record] of records.entries()) {
    const scan: ImageScan = { image: record.image, outcome: 'findings', osScanned: true, findings: findingsOf(record.image, i, 2) };
    await runFolder.writeJson(runFolderKeys.result(record.canonical), scan);
  }
}

/** Peak resident memory of this process so far, from the kernel's high-water mark. */
async function peakRss(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

type Measured = Record<string, number>;

async function measure(kind: string, dir: string): Promise<Measured> {
  const p = paths(dir);
  if (kind === 'baseline') return { peak: await peakRss() };
  if (kind === 'activity') {
    // The report activity reads only the stores; no scanner settings are needed.
    const deps = { store: new FolderResultStore(p.store), reportsDir: p.reports } as unknown as ActivityDeps;
    const t0 = performance.now();
    const result = (await new MockActivityEnvironment().run(createWriteReleaseReport(deps), { runKey: RUN, release: RELEASE })) as ReleaseReportResult;
    const ms = performance.now() - t0;
    return { ms, peak: await peakRss(), findings: result.findings, new: result.newFindings, fixed: result.fixedFindings };
  }
  if (kind === 'memory') {
    const store = withinRun(new FolderResultStore(p.store), RUN);
    const images = (await store.readJson<ImageRecord[]>(runFolderKeys.images(RELEASE)))!;
    const t0 = performance.now();
    const scans = new Map<string, ImageScan>();
    for (const r of images) scans.set(r.image, (await store.readJson<ImageScan>(runFolderKeys.result(r.canonical)))!);
    const text = await readFile(p.csv, 'utf8');
    const previous = parseReportCsv(text, p.csv, { keepCells: (image) => keepsPreviousRows(scans.get(image)) });
    const csv = renderReportCsv(mergeTriage({ release: RELEASE, images, scans, previous, today: '2026-11-29' }));
    await writeFileAtomic(`${p.csv}.in-memory`, csv);
    return { ms: performance.now() - t0, peak: await peakRss() };
  }
  // floor: the two libraries alone, with the options our reader and writer use.
  const text = await readFile(p.csv, 'utf8');
  const t0 = performance.now();
  const records = parse(text, { bom: true, skip_empty_lines: true }) as string[][];
  const t1 = performance.now();
  stringify(records, { record_delimiter: '\n', quote_record_delimiter: true });
  const t2 = performance.now();
  const store = withinRun(new FolderResultStore(p.store), RUN);
  const images = (await store.readJson<ImageRecord[]>(runFolderKeys.images(RELEASE)))!;
  for (const r of images) await store.readJson<ImageScan>(runFolderKeys.result(r.canonical));
  const t3 = performance.now();
  return { parseMs: t1 - t0, stringifyMs: t2 - t1, scansMs: t3 - t2, bytes: Buffer.byteLength(text) };
}

function runChild(kind: string, dir: string): Measured {
  const self = fileURLToPath(import.meta.url);
  const profile = opts.profile ? ['--cpu-prof', '--cpu-prof-dir', opts.profile, '--cpu-prof-name', `${kind}-${Date.now()}.cpuprofile`] : [];
  const extra = opts['node-args'] ? opts['node-args'].split(',') : [];
  const result = spawnSync(process.execPath, ['--optimize-for-size', ...extra, ...profile, self, '--measure', kind, '--dir', dir, '--per-image', String(PER_IMAGE)], { encoding: 'utf8', maxBuffer: 16 * MiB });
  if (result.status !== 0) throw new Error(`bench:merge ${kind} failed (exit ${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Measured;
}

async function main(): Promise<void> {
  if (opts.measure) {
    process.stdout.write(JSON.stringify(await measure(opts.measure, opts.dir!)));
    return;
  }
  const sizes = opts.sizes.split(',').map(Number);
  console.error(`[bench:merge] machine: ${machine()}; load average ${load()}`);
  const results: { rows: number; activity: Measured; floor: Measured; memory: Measured; baseline: Measured }[] = [];
  for (const rows of sizes) {
    const dir = await mkdtemp(join(tmpdir(), 'bench-merge-'));
    try {
      console.error(`[bench:merge] ${rows} rows: writing ${rows / PER_IMAGE} scan results of ${PER_IMAGE} findings and last week's CSV into ${dir}`);
      await writeInputs(dir, rows);
      // The activity replaces last week's CSV: the other measures read the copy kept here.
      const lastWeek = await readFile(paths(dir).csv, 'utf8');
      const floor = runChild('floor', dir);
      const memory = runChild('memory', dir);
      const baseline = runChild('baseline', dir);
      const activity = runChild('activity', dir);
      await writeFileAtomic(paths(dir).csv, lastWeek);
      results.push({ rows, activity, floor, memory, baseline });
    } finally {
      if (opts.keep) console.error(`[bench:merge] kept ${dir}`);
      else await rm(dir, { recursive: true, force: true });
    }
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const m = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
  console.log(`Merge benchmark: the writeReleaseReport activity, ${PER_IMAGE} findings an image, each figure from a fresh \`node --optimize-for-size\` process.\n`);
  console.log(
    table(
      ['rows', 'previous CSV', 'activity wall', 'floor: csv-parse + csv-stringify', 'ratio', 'floor + reading the scans', 'activity peak RSS', 'in-memory merge peak RSS', 'process baseline'],
      results.map(({ rows, activity, floor, memory, baseline }) => {
        const floorMs = floor.parseMs! + floor.stringifyMs!;
        return [
          rows.toLocaleString('en-US'),
          m(floor.bytes!),
          s(activity.ms!),
          `${s(floorMs)} (${s(floor.parseMs!)} + ${s(floor.stringifyMs!)})`,
          `${(activity.ms! / floorMs).toFixed(2)}x`,
          s(floorMs + floor.scansMs!),
          m(activity.peak!),
          m(memory.peak!),
          m(baseline.peak!),
        ];
      }),
    ),
  );
  const largest = results.at(-1)!;
  const smallest = results[0]!;
  const growth = largest.activity.peak! - smallest.activity.peak!;
  const worstRatio = Math.max(...results.map((r) => r.activity.ms! / (r.floor.parseMs! + r.floor.stringifyMs!)));
  console.log('');
  console.log(
    table(
      ['target', 'value', ''],
      [
        [`peak RSS at ${largest.rows.toLocaleString('en-US')} rows < 300 MB`, `${(largest.activity.peak! / MB).toFixed(0)} MB`, pass(largest.activity.peak! < 300 * MB)],
        [`growth ${smallest.rows.toLocaleString('en-US')} -> ${largest.rows.toLocaleString('en-US')} rows < 60 MB`, `${(growth / MB).toFixed(0)} MB`, pass(growth < 60 * MB)],
        ['wall <= 1.5x the floor, at every size', `${worstRatio.toFixed(2)}x`, pass(worstRatio <= 1.5)],
        ['findings / new / fixed at the largest size', `${largest.activity.findings!.toLocaleString('en-US')} / ${largest.activity.new!.toLocaleString('en-US')} / ${largest.activity.fixed!.toLocaleString('en-US')}`, ''],
      ],
    ),
  );
}

await main();
