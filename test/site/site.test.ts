import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { publishSiteFromReports } from '../../activities/site/publish-site.js';
import type { Finding, Severity } from '../../core/finding.js';
import { buildImageRecords, parseImageList } from '../../core/image-list.js';
import { renderReportCsv } from '../../core/render/csv.js';
import { releasePageName } from '../../core/render/html.js';
import type { ImageScan } from '../../core/scan.js';
import { mergeTriage, type PreviousRow, type ReleaseReport } from '../../core/triage.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const XSS = '<img src=x onerror=alert(1)>';
const SCRIPT_BREAKOUT = '</script><script>alert(2)</script>';
const OPENVEX = '{"@context":"https://openvex.dev/ns/v0.2.0","statements":[]}\n';

function finding(image: string, vulnerabilityId: string, packageName: string, severity: Severity, extra: Partial<Finding> = {}): Finding {
  return {
    image,
    target: 'alpine 3.19.1',
    class: 'os-pkgs',
    type: 'alpine',
    packageName,
    packagePath: '',
    installedVersion: '1.0.0',
    fixedVersion: '1.0.1',
    vulnerabilityId,
    severity,
    status: 'fixed',
    title: `${packageName}: flaw tracked as ${vulnerabilityId}`,
    url: `https://avd.aquasec.com/nvd/${vulnerabilityId.toLowerCase()}`,
    publishedDate: '2024-01-01T00:00:00Z',
    ...extra,
  };
}

function previous(image: string, vulnerabilityId: string, packageName: string, state: string, notes: string): PreviousRow {
  return { image, packageName, vulnerabilityId, state, notes, firstSeen: '2024-12-01', cells: {} };
}

const withFindings = (image: string, findings: Finding[], osScanned = true): ImageScan => ({ image, outcome: 'findings', osScanned, findings });
const scansOf = (...scans: ImageScan[]) => new Map(scans.map((s) => [s.image, s]));

const SHELL_OLD = 'rancher/shell:v0.1.6';
const SHELL_NEW = 'rancher/shell:v0.1.7';
const PAUSE = 'rancher/mirrored-pause:3.6';
const WINDOWS = 'rancher/windows-agent:v1';
const CLEAN = 'rancher/clean:v1';
const BROKEN = 'rancher/broken:v1';
const SHELL_NEW_DIGEST = `sha256:${'a'.repeat(64)}`;
const CLEAN_DIGEST = `sha256:${'b'.repeat(64)}`;

/**
 * v2.9.0: 9 findings (2 CRITICAL, 3 HIGH, 2 MEDIUM, 1 LOW, 1 UNKNOWN), one ignored, one
 * waiting, one unjustified ignore, a hostile row, a Windows image whose OS was not
 * scanned, and one CVE fixed since the previous report. v2.10.0: a tag bump that
 * keeps its triage, one failed scan, 3 findings of which one is new.
 */
function twoReleases(): ReleaseReport[] {
  const v29 = mergeTriage({
    release: 'v2.9.0',
    images: buildImageRecords({ images: parseImageList([SHELL_OLD, PAUSE, WINDOWS, CLEAN].join('\n'), 'images'), windowsImages: parseImageList(WINDOWS, 'windows') }),
    scans: scansOf(
      withFindings(SHELL_OLD, [
        finding(SHELL_OLD, 'CVE-2024-0001', 'curl', 'CRITICAL'),
        finding(SHELL_OLD, 'CVE-2024-0002', 'busybox', 'HIGH'),
        finding(SHELL_OLD, 'CVE-2024-0003', 'zlib', 'HIGH'),
        finding(SHELL_OLD, 'CVE-2024-0004', 'xss-pkg', 'MEDIUM', { title: XSS, url: 'javascript:alert(1)', installedVersion: SCRIPT_BREAKOUT }),
        finding(SHELL_OLD, 'CVE-2024-0005', 'musl', 'LOW'),
        finding(SHELL_OLD, 'CVE-2024-0006', 'openssl', 'CRITICAL'),
      ]),
      withFindings(PAUSE, [
        finding(PAUSE, 'CVE-2024-0007', 'golang.org/x/net', 'MEDIUM', { class: 'lang-pkgs', type: 'gobinary' }),
        finding(PAUSE, 'CVE-2024-0008', 'stdlib', 'UNKNOWN', { class: 'lang-pkgs', type: 'gobinary', fixedVersion: '' }),
      ]),
      withFindings(WINDOWS, [finding(WINDOWS, 'CVE-2024-0009', 'github.com/docker/docker', 'HIGH', { class: 'lang-pkgs', type: 'gobinary' })], false),
      { image: CLEAN, outcome: 'clean', osScanned: true, findings: [] },
    ),
    previous: [
      previous(SHELL_OLD, 'CVE-2024-0001', 'curl', 'ignore', 'not reachable: curl is never run, see https://github.com/rancher/shell/issues/12.'),
      previous(SHELL_OLD, 'CVE-2024-0002', 'busybox', 'waiting', 'fixed upstream, waiting for the next base image'),
      previous(SHELL_OLD, 'CVE-2024-0003', 'zlib', 'ignore', ''),
      previous(SHELL_OLD, 'CVE-2023-9999', 'libc', 'triaged', ''),
    ],
    today: '2025-01-13',
  });
  const v210 = mergeTriage({
    release: 'v2.10.0',
    images: buildImageRecords({ images: parseImageList([SHELL_NEW, BROKEN, CLEAN, WINDOWS].join('\n'), 'images'), windowsImages: parseImageList(WINDOWS, 'windows') }),
    scans: scansOf(
      // Re-matching is on for v2.10.0: one image pulled, two re-matched from their SBOMs.
      { ...withFindings(SHELL_NEW, [finding(SHELL_NEW, 'CVE-2024-0001', 'curl', 'CRITICAL'), finding(SHELL_NEW, 'CVE-2024-0006', 'openssl', 'CRITICAL'), finding(SHELL_NEW, 'CVE-2024-0010', 'expat', 'HIGH')]), scannedAs: 'pulled', digest: SHELL_NEW_DIGEST },
      { image: BROKEN, outcome: 'failed', osScanned: false, findings: [], failure: { type: 'ImageNotFound', permanent: true, summary: `manifest unknown ${XSS}` } },
      { image: CLEAN, outcome: 'clean', osScanned: true, findings: [], scannedAs: 'rematched', digest: CLEAN_DIGEST },
      { image: WINDOWS, outcome: 'os-not-scanned', osScanned: false, findings: [], scannedAs: 'rematched', digest: `sha256:${'c'.repeat(64)}` },
    ),
    previous: [previous(SHELL_OLD, 'CVE-2024-0001', 'curl', 'ignore', 'not reachable: curl is never run'), previous(SHELL_OLD, 'CVE-2024-0006', 'openssl', 'triaged', '')],
    today: '2025-01-13',
  });
  return [v29, v210];
}

/** One release with enough rows to need several pages. */
function bigRelease(rows: number): ReleaseReport {
  const images = Array.from({ length: 10 }, (_, i) => `rancher/big-${i}:v1`);
  const severities: Severity[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'UNKNOWN'];
  const scans = images.map((image, i) =>
    withFindings(
      image,
      Array.from({ length: rows / images.length }, (_, n) => finding(image, `CVE-2024-${String(i * 1000 + n).padStart(5, '0')}`, `pkg-${n % 37}`, severities[n % 5]!)),
    ),
  );
  return mergeTriage({ release: 'v2.11.0', images: buildImageRecords({ images: parseImageList(images.join('\n'), 'images') }), scans: scansOf(...scans), previous: [], today: '2025-01-13' });
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.csv': 'text/csv; charset=utf-8', '.json': 'application/json' };

/** Serves the site under a sub-path, as GitHub Pages does for a project site. */
async function serve(root: string, prefix: string): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (!path.startsWith(prefix)) return void res.writeHead(404).end();
    const file = normalize(join(root, path.slice(prefix.length) || 'index.html'));
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}` };
}

/** Every request a page makes, and every dialog it opens, so a test can prove none left the site and none ran. */
function watch(page: Page): { requests: string[]; dialogs: string[] } {
  const seen = { requests: [] as string[], dialogs: [] as string[] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  return seen;
}

async function openTable(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('#findings[data-ready="true"]', { timeout: 10_000 });
}

const visibleIds = (page: Page) => page.$$eval('#findings tbody tr:not(.empty) td.vulnerability', (cells) => cells.map((c) => c.textContent ?? ''));
const matching = async (page: Page) => Number(await page.getAttribute('#match-count', 'data-matching'));

/** The little of the DOM these tests read inside the page: the project compiles without the DOM library. */
interface PageGlobals {
  document: {
    getElementById(id: string): { getAttribute(name: string): string | null } | null;
    querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
  };
  getComputedStyle(element: unknown): { backgroundColor: string };
}

async function waitForMatching(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => (globalThis as unknown as PageGlobals).document.getElementById('match-count')?.getAttribute('data-matching') === String(n),
    count,
    { timeout: 5_000 },
  );
}

/** Waits until exactly these findings are on screen (in any order); fails with the difference otherwise. */
async function waitForIds(page: Page, ids: string[]): Promise<void> {
  const expected = JSON.stringify([...ids].sort());
  await page
    .waitForFunction(
      (want) => {
        const cells = (globalThis as unknown as PageGlobals).document.querySelectorAll('#findings tbody td.vulnerability');
        return JSON.stringify(Array.from(cells, (c) => c.textContent).sort()) === want;
      },
      expected,
      { timeout: 5_000 },
    )
    .catch(() => undefined);
  assert.deepEqual((await visibleIds(page)).sort(), [...ids].sort());
}

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium to run the browser tests`;

describe('the published site in headless Chromium', { skip }, () => {
  let browser: Browser;
  let dir: string;
  let site: string;
  let http: { server: Server; base: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'site-test-'));
    const reports = twoReleases();
    // v2.9.0 has its CSV and OpenVEX file written beside it, as a run leaves them; v2.10.0 has neither.
    await writeFile(join(dir, 'cves-v2.9.0.csv'), renderReportCsv(reports[0]!));
    await writeFile(join(dir, 'cves-v2.9.0.openvex.json'), OPENVEX);
    // Left by an earlier publication: a release that is gone, and a file someone added by hand.
    await mkdir(join(dir, 'site'));
    await writeFile(join(dir, 'site', 'release-v2.8.0.html'), 'stale');
    await writeFile(join(dir, 'site', 'CNAME'), 'cves.example.org');
    // Handed over newest first: the site orders them itself.
    await publishSiteFromReports(dir, [...reports].reverse(), {
      generatedAt: '2025-01-13T09:30:00Z',
      scannedAt: '2025-01-13T09:00:00Z',
      issueLinks: { [SHELL_OLD]: 'https://github.com/rancher/image-scanning/issues/1', [WINDOWS]: 'javascript:alert(3)' },
    });
    site = join(dir, 'site');
    http = await serve(site, '/image-scanning/');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    http?.server.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function newPage(): Promise<{ page: Page; seen: ReturnType<typeof watch> }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    return { page, seen: watch(page) };
  }

  it('shows the right counts per release on the index, and a chart drawn in the page', async () => {
    const { page, seen } = await newPage();
    await page.goto(`${http.base}index.html`);
    const cells = (release: string) =>
      page.$$eval(`#releases tr[data-release="${release}"] [data-field]`, (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-field'), (e.textContent ?? '').trim()])));
    const order = await page.$$eval('#releases tr[data-release]', (rows) => rows.map((r) => r.getAttribute('data-release')));
    assert.deepEqual(order, ['v2.9.0', 'v2.10.0'], 'releases in version order, not string order');
    const v29 = await cells('v2.9.0');
    assert.deepEqual(
      [v29.findings, v29.CRITICAL, v29.HIGH, v29.MEDIUM, v29.LOW, v29.UNKNOWN, v29.ignored, v29.images, v29.failed, v29.osNotScanned, v29.new, v29.fixed, v29.invalidIgnores],
      ['9', '2', '3', '2', '1', '1', '1', '4', '0', '1', '6', '1', '1'],
    );
    assert.equal(v29.scannedAt, '2025-01-13 09:00 UTC');
    const v210 = await cells('v2.10.0');
    assert.deepEqual(
      [v210.findings, v210.CRITICAL, v210.HIGH, v210.MEDIUM, v210.LOW, v210.UNKNOWN, v210.ignored, v210.images, v210.failed, v210.osNotScanned, v210.new, v210.fixed, v210.invalidIgnores],
      ['3', '2', '1', '0', '0', '0', '1', '4', '1', '1', '1', '0', '0'],
    );
    assert.equal(v29.files, 'CSV · OpenVEX');
    assert.equal(v210.files, 'CSV', 'no OpenVEX file was written for v2.10.0');
    assert.equal(await page.locator('#severity-chart rect.bar-CRITICAL').count(), 2 + 1, 'one CRITICAL bar per release, plus its legend');
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'site-index.png'), fullPage: true });
    assert.ok(seen.requests.every((u) => u.startsWith(http.base)), `requests left the site: ${seen.requests.join(', ')}`);
    await page.close();
  });

  it('sorts by severity with CRITICAL first, and reverses on a second click', async () => {
    const { page } = await newPage();
    await openTable(page, `${http.base}${releasePageName('v2.9.0')}`);
    const severities = () => page.$$eval('#findings tbody td.severity', (cells) => cells.map((c) => c.textContent));
    assert.equal((await severities())[0], 'MEDIUM', 'the report order starts with the mirrored image');
    await page.click('#findings th[data-key="severity"]');
    assert.deepEqual(await severities(), ['CRITICAL', 'CRITICAL', 'HIGH', 'HIGH', 'HIGH', 'MEDIUM', 'MEDIUM', 'LOW', 'UNKNOWN']);
    assert.equal(await page.getAttribute('#findings th[data-key="severity"]', 'aria-sort'), 'ascending');
    await page.click('#findings th[data-key="severity"]');
    assert.equal((await severities())[0], 'UNKNOWN');
    await page.close();
  });

  it('filters by text, severity, state, image and fix, updating the rows and the count', async () => {
    const { page } = await newPage();
    await openTable(page, `${http.base}${releasePageName('v2.9.0')}`);
    assert.equal(await matching(page), 9);
    assert.equal(await page.textContent('#match-count'), 'Showing 1–9 of 9 findings.');

    await page.fill('#filters input[name=q]', 'OpenSSL');
    await waitForIds(page, ['CVE-2024-0006']);
    assert.equal(await page.textContent('#match-count'), 'Showing 1–1 of 1 matching findings (9 in this release).');
    await page.fill('#filters input[name=q]', 'not reachable');
    await waitForIds(page, ['CVE-2024-0001']); // found in its notes
    await page.fill('#filters input[name=q]', '');
    await waitForMatching(page, 9);

    for (const severity of ['CRITICAL', 'MEDIUM', 'LOW', 'UNKNOWN']) await page.uncheck(`#filters input[name=severity][value=${severity}]`);
    await waitForIds(page, ['CVE-2024-0002', 'CVE-2024-0003', 'CVE-2024-0009']);
    assert.equal(await matching(page), 3);
    assert.equal(await page.textContent('#filters .count[data-severity=CRITICAL]'), '(2)', 'unticked severities still say how many they hold');

    await page.selectOption('#filters select[name=state]', { label: 'waiting' });
    await waitForIds(page, ['CVE-2024-0002']);

    await page.click('#filters button[type=reset]');
    await waitForMatching(page, 9);
    await page.selectOption('#filters select[name=image]', { label: PAUSE });
    await waitForMatching(page, 2);
    await page.check('#filters input[name=fix]');
    await waitForIds(page, ['CVE-2024-0007']);

    await page.fill('#filters input[name=q]', 'no such thing');
    await waitForMatching(page, 0);
    assert.equal(await page.textContent('#findings tbody tr.empty'), 'No finding matches these filters.');
    await page.close();
  });

  it('highlights ignored, waiting and unjustified-ignore rows, and marks mirrored and Windows images', async () => {
    const { page } = await newPage();
    await openTable(page, `${http.base}${releasePageName('v2.9.0')}`);
    const row = (id: string) => page.locator('#findings tbody tr', { has: page.locator('td.vulnerability', { hasText: new RegExp(`^${id}$`) }) });
    const background = (id: string) => row(id).locator('td.package').evaluate((td) => (globalThis as unknown as PageGlobals).getComputedStyle(td).backgroundColor);
    assert.equal(await row('CVE-2024-0001').getAttribute('class'), 'ignored');
    assert.equal(await row('CVE-2024-0002').getAttribute('class'), 'waiting');
    assert.equal(await row('CVE-2024-0003').getAttribute('class'), 'invalid-ignore');
    const plain = await background('CVE-2024-0005');
    for (const id of ['CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0003']) assert.notEqual(await background(id), plain, `${id} is not highlighted`);
    assert.equal(new Set([await background('CVE-2024-0001'), await background('CVE-2024-0002'), await background('CVE-2024-0003')]).size, 3);
    assert.match((await row('CVE-2024-0003').locator('td.state').textContent()) ?? '', /not honoured/);
    assert.equal(await row('CVE-2024-0001').locator('td.notes a').getAttribute('href'), 'https://github.com/rancher/shell/issues/12', 'a URL in notes is a link');
    assert.equal(await row('CVE-2024-0007').locator('td.image .badge.mirrored').count(), 1);
    assert.equal(await row('CVE-2024-0009').locator('td.image .badge.windows').count(), 1);
    assert.match((await page.textContent('#os-not-scanned')) ?? '', /rancher\/windows-agent:v1/);
    await page.close();
  });

  it('renders hostile titles and URLs as text and never runs them', async () => {
    const { page, seen } = await newPage();
    await openTable(page, `${http.base}${releasePageName('v2.9.0')}`);
    const row = page.locator('#findings tbody tr', { has: page.locator('td.vulnerability:text-is("CVE-2024-0004")') });
    assert.equal(await row.locator('td.title').textContent(), XSS);
    assert.equal(await row.locator('td.version').first().textContent(), SCRIPT_BREAKOUT);
    assert.equal(await row.locator('td.vulnerability a').count(), 0, 'a javascript: URL is not a link');
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('script').count(), 2, 'the data and the table script, nothing injected');

    await page.goto(`${http.base}${releasePageName('v2.10.0')}`);
    await page.waitForSelector('#findings[data-ready="true"]');
    assert.match((await page.textContent('#failed-scans')) ?? '', /rancher\/broken:v1: ImageNotFound: manifest unknown <img src=x onerror=alert\(1\)>/);
    await page.screenshot({ path: join(SCREENSHOTS, 'site-release-v2.10.0.png'), fullPage: true });

    await page.goto(`${http.base}images.html`);
    await page.click(`a:text-is("${SHELL_OLD}")`);
    assert.equal(await page.locator('table.image-findings tr.ignored').count(), 1);
    assert.equal(await page.locator('td.title', { hasText: XSS }).count(), 1);
    await page.screenshot({ path: join(SCREENSHOTS, 'site-image.png'), fullPage: true });
    assert.equal(await page.getAttribute('a:text-is("GitHub issue")', 'href'), 'https://github.com/rancher/image-scanning/issues/1');
    await page.goto(`${http.base}images.html`);
    await page.click(`a:text-is("${WINDOWS}")`);
    assert.equal(await page.locator('a:text-is("GitHub issue")').count(), 0, 'a javascript: issue link is not a link');

    await page.waitForTimeout(200);
    assert.deepEqual(seen.dialogs, []);
    assert.ok(seen.requests.every((u) => u.startsWith(http.base)), `requests left the site: ${seen.requests.join(', ')}`);
    await page.close();
  });

  it('says how each image was scanned this run and which digest, where re-matching was on', async () => {
    const { page } = await newPage();
    await page.goto(`${http.base}${releasePageName('v2.10.0')}`);
    assert.equal((await page.textContent('#scan-paths'))?.trim(), '2 images re-matched from their SBOMs (no pull), 1 pulled (1 from docker.io).');
    await page.goto(`${http.base}${releasePageName('v2.9.0')}`);
    assert.equal(await page.locator('#scan-paths').count(), 0, 'a release scanned without re-matching says nothing of it');

    await page.goto(`${http.base}images.html`);
    const cell = (image: string, column: number) => page.locator('#images tbody tr', { has: page.locator(`td.image a:text-is("${image}")`) }).locator('td').nth(column);
    // Releases in version order, as on the index, though they were handed over newest first.
    assert.deepEqual(await page.$$eval('#images thead th', (ths) => ths.map((th) => th.textContent)), ['Image', 'v2.9.0', 'v2.10.0', 'Issue']);
    assert.match((await cell(CLEAN, 2).textContent()) ?? '', /re-matched/);
    assert.match((await cell(SHELL_NEW, 2).textContent()) ?? '', /pulled/);
    assert.doesNotMatch((await cell(CLEAN, 1).textContent()) ?? '', /re-matched|pulled/);

    await page.click(`a:text-is("${CLEAN}")`);
    await page.waitForSelector('h1');
    const paths = await page.$$eval('p.scan-path', (ps) => ps.map((p) => p.textContent ?? ''));
    assert.deepEqual(paths, [`Scanned this run: re-matched from its stored SBOM (no pull); digest ${CLEAN_DIGEST}`]);
    await page.goto(`${http.base}images.html`);
    await page.click(`a:text-is("${SHELL_NEW}")`);
    await page.waitForSelector('h1');
    assert.deepEqual(await page.$$eval('p.scan-path', (ps) => ps.map((p) => p.textContent ?? '')), [`Scanned this run: pulled and scanned in full; digest ${SHELL_NEW_DIGEST}`]);
    await page.close();
  });

  it('reads at 1280 px without scrolling the page sideways: the index (every column on screen) and a release page', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    for (const name of ['index.html', releasePageName('v2.9.0')]) {
      await page.goto(`${http.base}${name}`);
      await page.waitForSelector('table');
      // A string: the test's compiler has no DOM types; the page evaluates it.
      const layout = (await page.evaluate(`(() => {
        const table = document.querySelector('table#releases') ?? document.querySelector('table');
        const lastHeader = table.querySelector('thead th:last-child').getBoundingClientRect();
        return { scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth, lastHeaderRight: lastHeader.right };
      })()`)) as { scrollWidth: number; clientWidth: number; lastHeaderRight: number };
      assert.ok(layout.scrollWidth <= layout.clientWidth, `${name}: the page is ${layout.scrollWidth} px wide in a ${layout.clientWidth} px window`);
      assert.ok(layout.lastHeaderRight <= layout.clientWidth, `${name}: the last column ends at ${layout.lastHeaderRight} px, past ${layout.clientWidth} px`);
      await page.screenshot({ path: join(SCREENSHOTS, `width-1280-${name.replace(/\.html$/, '')}.png`), fullPage: false });
    }
    await page.close();
  });

  it('works when opened from file://', async () => {
    const { page, seen } = await newPage();
    const base = pathToFileURL(`${site}/`).href;
    await page.goto(`${base}index.html`);
    await page.click('#releases a:text-is("v2.9.0")');
    await page.waitForSelector('#findings[data-ready="true"]');
    assert.equal(await matching(page), 9);
    await page.click('#findings th[data-key="severity"]');
    assert.deepEqual((await visibleIds(page)).slice(0, 2).sort(), ['CVE-2024-0001', 'CVE-2024-0006']);
    await page.screenshot({ path: join(SCREENSHOTS, 'site-release-v2.9.0.png'), fullPage: true });
    const csv = await page.getAttribute('nav.crumbs a:text-is("CSV")', 'href');
    assert.equal(csv, 'cves-v2.9.0.csv');
    assert.equal(await readFile(join(site, csv), 'utf8'), await readFile(join(dir, csv), 'utf8'), 'the CSV is a copy of the report');
    assert.equal(await page.getAttribute('nav.crumbs a:text-is("OpenVEX")', 'href'), 'cves-v2.9.0.openvex.json');
    assert.equal(await readFile(join(site, 'cves-v2.9.0.openvex.json'), 'utf8'), OPENVEX);
    assert.ok(existsSync(join(site, '.nojekyll')));
    assert.ok(!existsSync(join(site, 'release-v2.8.0.html')), 'pages of releases no longer published are removed');
    assert.ok(existsSync(join(site, 'CNAME')), 'files the site does not generate are left alone');
    await page.click(`#findings a:text-is("${PAUSE}")`);
    await page.waitForSelector('h1');
    assert.match((await page.textContent('h1')) ?? '', /rancher\/mirrored-pause:3\.6/);
    assert.ok(seen.requests.every((u) => u.startsWith(base)), `requests left the site: ${seen.requests.join(', ')}`);
    assert.deepEqual(seen.dialogs, []);
    await page.close();
  });

  it('pages through a release larger than one page, keeping the sort', async () => {
    const bigDir = await mkdtemp(join(tmpdir(), 'site-test-big-'));
    try {
      await publishSiteFromReports(bigDir, [bigRelease(1_230)], { generatedAt: '2025-01-13T09:30:00Z' });
      const { page } = await newPage();
      await openTable(page, pathToFileURL(join(bigDir, 'site', releasePageName('v2.11.0'))).href);
      assert.equal(await page.locator('#findings tbody tr').count(), 100);
      assert.equal(await page.textContent('#page-status'), 'Page 1 of 13');
      await page.click('#findings th[data-key="severity"]');
      await page.click('#pager button[data-page="last"]');
      assert.equal(await page.textContent('#page-status'), 'Page 13 of 13');
      assert.equal(await page.locator('#findings tbody tr').count(), 30);
      assert.deepEqual(new Set(await page.$$eval('#findings tbody td.severity', (c) => c.map((e) => e.textContent))), new Set(['UNKNOWN']));
      assert.equal(await page.textContent('#match-count'), 'Showing 1,201–1,230 of 1,230 findings.');
      await page.selectOption('#page-size', '1000');
      assert.equal(await page.locator('#findings tbody tr').count(), 1000);
      assert.equal(await page.isDisabled('#pager button[data-page="prev"]'), true);
      await page.close();
    } finally {
      await rm(bigDir, { recursive: true, force: true });
    }
  });
});
