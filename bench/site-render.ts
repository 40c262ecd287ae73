/**
 * How fast the release page of a large release first shows its table in headless
 * Chromium. Not a test: it prints figures for a person to read.
 *
 *   npm run bench:site [-- --findings 50000 --runs 3]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { publishSiteFromReports } from '../activities/site/publish-site.js';
import { SEVERITIES, type Finding } from '../core/finding.js';
import { buildImageRecords, parseImageList } from '../core/image-list.js';
import { releasePageName } from '../core/render/html.js';
import type { ImageScan } from '../core/scan.js';
import { mergeTriage, type PreviousRow, type ReleaseReport } from '../core/triage.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const RELEASE = 'v2.12.0';
const FINDINGS_PER_IMAGE = 100;
const PACKAGES = ['openssl', 'libcrypto3', 'busybox', 'zlib', 'curl', 'libxml2', 'stdlib', 'golang.org/x/net', 'github.com/docker/docker', 'k8s.io/apimachinery'];

/** A release shaped like a real one: many images, long titles, some triage with notes. */
function largeRelease(findings: number): ReleaseReport {
  const imageCount = Math.ceil(findings / FINDINGS_PER_IMAGE);
  const images = Array.from({ length: imageCount }, (_, i) => (i % 7 === 0 ? `rancher/mirrored-component-${i}:v1.${i % 13}.0` : `rancher/component-${i}:v2.${i % 11}.${i % 5}`));
  const scans = new Map<string, ImageScan>();
  const previous: PreviousRow[] = [];
  let made = 0;
  images.forEach((image, i) => {
    const rows: Finding[] = [];
    for (let n = 0; n < FINDINGS_PER_IMAGE && made < findings; n++, made++) {
      const id = `CVE-20${20 + (n % 5)}-${String(10_000 + i * FINDINGS_PER_IMAGE + n)}`;
      const packageName = PACKAGES[n % PACKAGES.length]!;
      rows.push({
        image,
        target: n % 3 ? 'usr/local/bin/app' : 'alpine 3.19.1',
        class: n % 3 ? 'lang-pkgs' : 'os-pkgs',
        type: n % 3 ? 'gobinary' : 'alpine',
        packageName,
        packagePath: '',
        installedVersion: `1.${n % 9}.${n % 4}-r${n % 3}`,
        fixedVersion: n % 4 ? `1.${n % 9}.${(n % 4) + 1}-r0` : '',
        vulnerabilityId: id,
        severity: SEVERITIES[n % SEVERITIES.length]!,
        status: n % 4 ? 'fixed' : 'affected',
        title: `${packageName}: a flaw in the handling of crafted input allows a remote attacker to cause a denial of service (${id})`,
        url: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
        publishedDate: '2024-01-01T00:00:00Z',
      });
      if (n % 20 === 0) previous.push({ image, packageName, vulnerabilityId: id, state: n % 40 ? 'waiting' : 'ignore', notes: `tracked upstream in https://github.com/rancher/component/issues/${n}`, firstSeen: '2024-12-01', cells: {} });
    }
    scans.set(image, { image, outcome: 'findings', osScanned: true, findings: rows });
  });
  return mergeTriage({ release: RELEASE, images: buildImageRecords({ images: parseImageList(images.join('\n'), 'bench') }), scans, previous, today: '2025-01-13' });
}

interface Measure {
  readyMs: number;
  wallMs: number;
  sortMs: number;
  filterMs: number;
  heapMiB: number;
}

/** Opens the page fresh, waits for the first rows, then times a sort and a text filter. */
async function measure(browser: Browser, url: string): Promise<Measure> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  let heap = 0;
  const sampleHeap = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    heap = Math.max(heap, metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
  };
  const start = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector('#findings[data-ready="true"] tbody tr', { timeout: 60_000 });
  const wallMs = Date.now() - start;
  const readyMs = Number(await page.getAttribute('#findings', 'data-ready-ms'));
  await sampleHeap();

  let t = Date.now();
  await page.click('#findings th[data-key="severity"]');
  await page.waitForSelector('#findings th[data-key="severity"][aria-sort="ascending"]');
  const sortMs = Date.now() - t;
  await sampleHeap();

  t = Date.now();
  await page.fill('#filters input[name=q]', 'openssl crafted');
  await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } } }).document.getElementById('match-count').textContent?.includes('matching'));
  // The script waits 150 ms for typing to pause; that pause is not work.
  const filterMs = Date.now() - t - 150;
  await sampleHeap();
  await page.close();
  return { readyMs, wallMs, sortMs, filterMs, heapMiB: heap / 2 ** 20 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { findings: { type: 'string', default: '50000' }, runs: { type: 'string', default: '3' } } });
  const findings = Number(values.findings);
  const runs = Number(values.runs);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium)`);

  const dir = await mkdtemp(join(tmpdir(), 'bench-site-'));
  try {
    let t = Date.now();
    const report = largeRelease(findings);
    const buildMs = Date.now() - t;
    t = Date.now();
    const site = await publishSiteFromReports(dir, [report], { generatedAt: new Date().toISOString() });
    const publishMs = Date.now() - t;
    const pagePath = join(dir, 'site', releasePageName(RELEASE));
    const size = (await stat(pagePath)).size;

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const results: Measure[] = [];
    try {
      for (let i = 0; i < runs; i++) results.push(await measure(browser, pathToFileURL(pagePath).href));
    } finally {
      await browser.close();
    }

    const row = (label: string, value: string) => `| ${label} | ${value} |`;
    const ms = (pick: (m: Measure) => number) => `${median(results.map(pick)).toFixed(0)} ms (runs: ${results.map((m) => pick(m).toFixed(0)).join(', ')})`;
    console.log(
      [
        `Site benchmark: ${report.rows.length.toLocaleString('en-US')} findings in ${report.images.records.length} images, ${runs} runs in headless Chromium (${browser.version()}), median.`,
        '',
        '| measure | value |',
        '| --- | --- |',
        row('first render of the table (navigation start → first page of rows, in-page clock)', ms((m) => m.readyMs)),
        row('goto → rows visible (wall clock, includes browser overhead)', ms((m) => m.wallMs)),
        row('sort by severity (click → re-rendered)', ms((m) => m.sortMs)),
        row('text filter over all rows (excluding the 150 ms typing pause)', ms((m) => m.filterMs)),
        row('peak sampled JS heap (used)', `${median(results.map((m) => m.heapMiB)).toFixed(1)} MiB`),
        row('release page HTML size', mib(size)),
        row('site generation (node: publishSiteFromReports)', `${publishMs} ms for ${site.pages} pages`),
        row('fixture build (node: mergeTriage)', `${buildMs} ms`),
      ].join('\n'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
