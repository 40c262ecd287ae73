// Benchmark (not a test): merging a 200,000-row previous report with 200,000 new findings.
// npm run bench:merge
import { performance } from 'node:perf_hooks';
import type { Finding, Severity } from '../core/finding.js';
import { buildImageRecords, parseImageList } from '../core/image-list.js';
import { parseReportCsv, renderReportCsv } from '../core/render/csv.js';
import type { ImageScan } from '../core/scan.js';
import { mergeTriage } from '../core/triage.js';

const IMAGES = 2_000;
const PER_IMAGE = 100;
const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

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

function scansFor(week: number) {
  const names = Array.from({ length: IMAGES }, (_, i) => `rancher/image-${i}:v1.${i}.0`);
  const images = buildImageRecords({ images: parseImageList(names.join('\n'), 'rancher-images.txt') });
  const scans = new Map<string, ImageScan>(names.map((image, i) => [image, { image, outcome: 'findings', osScanned: true, findings: findingsOf(image, i, week) }]));
  return { images, scans };
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

// Last week's report, with a person's notes on one row in ten.
function lastWeeksCsv(): string {
  const report = mergeTriage({ release: 'v2.9.0', ...scansFor(1), previous: [], today: '2026-11-22' });
  for (const [i, row] of report.rows.entries()) {
    if (i % 10 === 0) {
      row.state = i % 20 === 0 ? 'ignore' : 'waiting';
      row.notes = `Checked by the release team, see https://github.com/rancher/rancher/issues/${i}; "not reachable", mostly`;
    }
  }
  return renderReportCsv(report);
}
// What the activity starts from: the previous file's text and this week's scans; nothing else stays alive.
const previousCsv = lastWeeksCsv();
const thisWeek = scansFor(2);
global.gc?.();
peakRss = process.memoryUsage().rss;
const rssBefore = peakRss;

const t0 = performance.now();
const previous = parseReportCsv(previousCsv, 'cves-v2.9.0.csv');
const t1 = performance.now();
const report = mergeTriage({ release: 'v2.9.0', ...thisWeek, previous, today: '2026-11-29' });
const t2 = performance.now();
const csv = renderReportCsv(report);
const t3 = performance.now();
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

const kept = report.rows.filter((r) => r.notes !== '').length;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
console.log('| measure | value |');
console.log('| --- | --- |');
console.log(`| previous rows / new findings | ${previous.length.toLocaleString('en')} / ${report.rows.length.toLocaleString('en')} |`);
console.log(`| parse previous CSV (${mib(previousCsv.length)}) | ${(t1 - t0).toFixed(0)} ms |`);
console.log(`| merge (triage carry-over) | ${(t2 - t1).toFixed(0)} ms |`);
console.log(`| render new CSV (${mib(csv.length)}) | ${(t3 - t2).toFixed(0)} ms |`);
console.log(`| **total** (target < 3 s) | **${((t3 - t0) / 1000).toFixed(2)} s** |`);
console.log(`| peak RSS of the process (target < 400 MB; inputs alone: ${mib(rssBefore)}) | ${mib(peakRss)} |`);
console.log(`| notes carried over / new / fixed | ${kept.toLocaleString('en')} / ${report.changes.new.toLocaleString('en')} / ${report.changes.fixed.toLocaleString('en')} |`);
