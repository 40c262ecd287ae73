/**
 * Benchmark (not a test): merging a 200,000-row previous report with 200,000 new findings.
 *
 *   npm run bench:merge [-- --images 2000 --per-image 100]
 *
 * The parent writes what the report activity starts from: a run folder holding each image's
 * scan result (as the scan activity leaves it) and last week's CSV in the reports directory,
 * with a person's notes on one row in ten. Each measurement then runs in a fresh process, so
 * its peak RSS (VmHWM) is its own:
 *  - `activity`: loadReleaseScans + composeReleaseReport, the report activity's path
 *    (read the scans, read and parse the previous CSV, merge, render, write);
 *  - `phases`: the same steps called one by one, for where the time goes;
 *  - `floor`: csv-parse and csv-stringify alone over the same bytes, with no rules of ours.
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
import { composeReleaseReport, loadReleaseScans } from '../activities/release-report.js';
import { LocalReportStore } from '../activities/report-store.js';
import { csvFileName } from '../activities/reports.js';
import { FolderResultStore, runFolderKeys, writeFileAtomic } from '../activities/result-store.js';
import type { Finding, Severity } from '../core/finding.js';
import { buildImageRecords, parseImageList, type ImageRecord } from '../core/image-list.js';
import { parseReportCsv, renderReportCsv } from '../core/render/csv.js';
import type { ImageScan } from '../core/scan.js';
import { keepsPreviousRows, mergeTriage } from '../core/triage.js';
import { load, machine, MiB, table } from './support.js';

const RELEASE = 'v2.9.0';
const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

const { values: opts } = parseArgs({
  options: {
    images: { type: 'string', default: '2000' },
    'per-image': { type: 'string', default: '100' },
    /** Internal: measure one thing in this process and print JSON. */
    measure: { type: 'string' },
    dir: { type: 'string' },
  },
});
const IMAGES = Number(opts.images);
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

function imageRecords(): ImageRecord[] {
  const names = Array.from({ length: IMAGES }, (_, i) => `rancher/image-${i}:v1.${i}.0`);
  return buildImageRecords({ images: parseImageList(names.join('\n'), 'rancher-images.txt') });
}

function scansOf(records: ImageRecord[], week: number): Map<string, ImageScan> {
  return new Map(records.map((r, i) => [r.image, { image: r.image, outcome: 'findings', osScanned: true, findings: findingsOf(r.image, i, week) }]));
}

const paths = (dir: string) => ({ runFolder: join(dir, 'run'), reports: join(dir, 'reports') });

/** Last week's CSV (with notes) and this week's scan results, laid out as the activities leave them. */
async function writeInputs(dir: string): Promise<void> {
  const records = imageRecords();
  const lastWeek = mergeTriage({ release: RELEASE, images: records, scans: scansOf(records, 1), previous: [], today: '2026-11-22' });
  for (const [i, row] of lastWeek.rows.entries()) {
    if (i % 10 === 0) {
      row.state = i % 20 === 0 ? 'ignore' : 'waiting';
      row.notes = `Checked by the release team, see https://github.com/rancher/rancher/issues/${i}; "not reachable", mostly`;
    }
  }
  await writeFileAtomic(join(paths(dir).reports, csvFileName(RELEASE)), renderReportCsv(lastWeek));
  const runFolder = new FolderResultStore(paths(dir).runFolder);
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
  const { runFolder, reports } = paths(dir);
  const csvPath = join(reports, csvFileName(RELEASE));
  const base = await peakRss();
  if (kind === 'activity') {
    const t0 = performance.now();
    const { images, scans } = await loadReleaseScans(new FolderResultStore(runFolder), RELEASE);
    const t1 = performance.now();
    const rssAfterLoad = process.memoryUsage().rss;
    const composed = await composeReleaseReport({ release: RELEASE, images, scans, store: new LocalReportStore(reports), today: '2026-11-29', message: 'bench' });
    const t2 = performance.now();
    return {
      loadMs: t1 - t0,
      composeMs: t2 - t1,
      rssAfterLoad,
      peak: await peakRss(),
      base,
      rows: composed.report.rows.length,
      notes: composed.report.rows.filter((r) => r.notes !== '').length,
      new: composed.report.changes.new,
      fixed: composed.report.changes.fixed,
    };
  }
  if (kind === 'phases') {
    const { images, scans } = await loadReleaseScans(new FolderResultStore(runFolder), RELEASE);
    const t0 = performance.now();
    const text = await readFile(csvPath, 'utf8');
    const t1 = performance.now();
    const previous = parseReportCsv(text, csvPath, { keepCells: (image) => keepsPreviousRows(scans.get(image)) });
    const t2 = performance.now();
    const report = mergeTriage({ release: RELEASE, images, scans, previous, today: '2026-11-29' });
    const t3 = performance.now();
    const csv = renderReportCsv(report);
    const t4 = performance.now();
    await writeFileAtomic(csvPath, csv);
    const t5 = performance.now();
    return { readMs: t1 - t0, parseMs: t2 - t1, mergeMs: t3 - t2, renderMs: t4 - t3, writeMs: t5 - t4, bytes: Buffer.byteLength(text), previousRows: previous.length };
  }
  // floor: the two libraries alone, with the options our reader and writer use.
  const text = await readFile(csvPath, 'utf8');
  const t0 = performance.now();
  const records = parse(text, { bom: true, skip_empty_lines: true }) as string[][];
  const t1 = performance.now();
  stringify(records, { record_delimiter: '\n', quote_record_delimiter: true });
  const t2 = performance.now();
  return { parseMs: t1 - t0, stringifyMs: t2 - t1, bytes: Buffer.byteLength(text) };
}

function runChild(kind: string, dir: string): Measured {
  const self = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, [self, '--measure', kind, '--dir', dir, '--images', String(IMAGES), '--per-image', String(PER_IMAGE)], {
    encoding: 'utf8',
    maxBuffer: 16 * MiB,
  });
  if (result.status !== 0) throw new Error(`bench:merge ${kind} failed (exit ${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Measured;
}

async function main(): Promise<void> {
  if (opts.measure) {
    process.stdout.write(JSON.stringify(await measure(opts.measure, opts.dir!)));
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-merge-'));
  try {
    console.error(`[bench:merge] machine: ${machine()}; load average ${load()}`);
    console.error(`[bench:merge] writing ${IMAGES} scan results of ${PER_IMAGE} findings and last week's CSV into ${dir}`);
    await writeInputs(dir);
    // Fresh copies of the inputs for each run: the activity overwrites last week's CSV.
    const csvPath = join(paths(dir).reports, csvFileName(RELEASE));
    const lastWeek = await readFile(csvPath);
    const again = async () => writeFileAtomic(csvPath, lastWeek.toString('utf8'));
    const activity = runChild('activity', dir);
    await again();
    const phases = runChild('phases', dir);
    await again();
    const floor = runChild('floor', dir);
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const m = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
    const met = (ok: boolean) => (ok ? 'met' : '**missed**');
    console.log(`Merge benchmark: ${activity.rows!.toLocaleString('en-US')} findings in ${IMAGES.toLocaleString('en-US')} images against a ${phases.previousRows!.toLocaleString('en-US')}-row previous report (${m(phases.bytes!)}), each figure from a fresh process.\n`);
    console.log(
      table(
        ['measure', 'value', 'target'],
        [
          ['merge: read + parse previous CSV, merge, render, write (composeReleaseReport)', s(activity.composeMs!), `< 3 s: ${met(activity.composeMs! < 3000)}`],
          ['peak RSS of the process (load scans + merge)', m(activity.peak!), `< 400 MB: ${met(activity.peak! < 400 * 1000 * 1000)}`],
          ['  of which: RSS after loading the scans', m(activity.rssAfterLoad!), ''],
          ['load the scan results (2 readJson per image)', s(activity.loadMs!), ''],
          ['phase: read previous CSV', s(phases.readMs!), ''],
          ['phase: parse previous CSV (csv-parse)', s(phases.parseMs!), ''],
          ['phase: merge (triage carry-over)', s(phases.mergeMs!), ''],
          ['phase: render new CSV (csv-stringify)', s(phases.renderMs!), ''],
          ['phase: write new CSV', s(phases.writeMs!), ''],
          ['floor: csv-parse alone, same bytes', s(floor.parseMs!), ''],
          ['floor: csv-stringify alone, same records', s(floor.stringifyMs!), ''],
          ['notes carried over / new / fixed', `${activity.notes!.toLocaleString('en-US')} / ${activity.new!.toLocaleString('en-US')} / ${activity.fixed!.toLocaleString('en-US')}`, ''],
        ],
      ),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
