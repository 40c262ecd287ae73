import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding, Severity } from '../../core/finding.js';
import { buildImageRecords, parseImageList } from '../../core/image-list.js';
import { escapeHtml, releasePageName, renderIndexPage, renderReleasePage } from '../../core/render/html.js';
import type { ImageScan } from '../../core/scan.js';
import { mergeTriage, summarizeReport, type PreviousRow } from '../../core/triage.js';

function finding(image: string, vulnerabilityId: string, packageName: string, severity: Severity = 'HIGH', extra: Partial<Finding> = {}): Finding {
  return {
    image,
    target: 't',
    class: 'os-pkgs',
    type: 'alpine',
    packageName,
    packagePath: '',
    installedVersion: '1.0',
    fixedVersion: '1.1',
    vulnerabilityId,
    severity,
    status: 'fixed',
    title: `${vulnerabilityId} title`,
    url: `https://avd.aquasec.com/nvd/${vulnerabilityId.toLowerCase()}`,
    publishedDate: '',
    ...extra,
  };
}

const XSS = '<img src=x onerror=alert(1)>';

function sample() {
  const img = 'rancher/shell:v0.1.6';
  const images = buildImageRecords({
    images: parseImageList(`${img}\nrancher/broken:v1\nrancher/windows-agent:v1\nrancher/mirrored-pause:3.6`, 'images'),
    windowsImages: parseImageList('rancher/windows-agent:v1', 'windows'),
  });
  const findings = [
    finding(img, 'CVE-IGNORED', 'curl', 'CRITICAL'),
    finding(img, 'CVE-WAITING', 'busybox'),
    finding(img, 'CVE-BADIGNORE', 'zlib'),
    finding(img, 'CVE-XSS', XSS, 'MEDIUM', { title: XSS, url: 'javascript:alert(1)', installedVersion: '"><script>x</script>' }),
    finding(img, 'CVE-PLAIN', 'musl', 'LOW'),
  ];
  const previous: PreviousRow[] = [
    { image: img, packageName: 'curl', vulnerabilityId: 'CVE-IGNORED', state: 'ignore', notes: `not reachable ${XSS}`, firstSeen: '', cells: {} },
    { image: img, packageName: 'busybox', vulnerabilityId: 'CVE-WAITING', state: 'waiting', notes: 'upstream', firstSeen: '', cells: {} },
    { image: img, packageName: 'zlib', vulnerabilityId: 'CVE-BADIGNORE', state: 'ignore', notes: '', firstSeen: '', cells: {} },
  ];
  const scans = new Map<string, ImageScan>([
    [img, { image: img, outcome: 'findings', osScanned: true, findings }],
    ['rancher/broken:v1', { image: 'rancher/broken:v1', outcome: 'failed', osScanned: false, findings: [], failure: { type: 'ImageNotFound', permanent: true, summary: `image not found in the registry: ${XSS}` } }],
    ['rancher/windows-agent:v1', { image: 'rancher/windows-agent:v1', outcome: 'os-not-scanned', osScanned: false, findings: [] }],
    ['rancher/mirrored-pause:3.6', { image: 'rancher/mirrored-pause:3.6', outcome: 'clean', osScanned: true, findings: [] }],
  ]);
  const report = mergeTriage({ release: 'v2.9.0', images, scans, previous, today: '2025-01-13' });
  return { report, summary: summarizeReport(report) };
}

/** The <tr> of the findings table that mentions the given vulnerability id. */
function rowOf(html: string, id: string): string {
  const row = html.split('\n').find((l) => l.startsWith('<tr') && l.includes(`>${id}<`));
  assert.ok(row, `no row for ${id}`);
  return row;
}

describe('escapeHtml', () => {
  it('escapes the five HTML special characters', () => {
    assert.equal(escapeHtml(XSS), '&lt;img src=x onerror=alert(1)&gt;');
    assert.equal(escapeHtml(`a & b "c" 'd' <e>`), 'a &amp; b &quot;c&quot; &#39;d&#39; &lt;e&gt;');
    assert.equal(escapeHtml('&amp;'), '&amp;amp;', 'already-escaped text is escaped again, not trusted');
  });
});

describe('renderReleasePage', () => {
  // Rendered inside each test, so that a renderer that throws fails the tests rather than only the suite.
  const page = () => {
    const { report, summary } = sample();
    return renderReleasePage(summary, report.rows, 'cves-v2.9.0.csv');
  };

  it('contains no markup from the data', () => {
    const html = page();
    assert.ok(!html.includes(XSS));
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(html.includes('&quot;&gt;&lt;script&gt;x&lt;/script&gt;'));
  });

  it('does not turn a javascript: URL into a link, but links https URLs', () => {
    const html = page();
    assert.ok(!/href="javascript:/i.test(html));
    assert.ok(!html.includes('javascript:alert'));
    assert.ok(!rowOf(html, 'CVE-XSS').includes('<a '));
    assert.ok(rowOf(html, 'CVE-PLAIN').includes('<a href="https://avd.aquasec.com/nvd/cve-plain" rel="noopener noreferrer">CVE-PLAIN</a>'));
  });

  it('marks honoured ignores "ignored", waiting rows "waiting", unjustified ignores "invalid-ignore"', () => {
    const html = page();
    assert.match(rowOf(html, 'CVE-IGNORED'), /^<tr class="ignored">/);
    assert.match(rowOf(html, 'CVE-WAITING'), /^<tr class="waiting">/);
    assert.match(rowOf(html, 'CVE-BADIGNORE'), /^<tr class="invalid-ignore">/);
    assert.match(rowOf(html, 'CVE-PLAIN'), /^<tr>/);
    assert.match(html, /tr\.ignored td\{[^}]+\}/, 'the page styles ignored rows');
  });

  it('lists failed scans and images whose OS was not scanned', () => {
    const html = page();
    const failed = /<ul id="failed-scans">([\s\S]*?)<\/ul>/.exec(html)![1]!;
    assert.ok(failed.includes('rancher/broken:v1: ImageNotFound: image not found in the registry: &lt;img'), failed);
    const notScanned = /<ul id="os-not-scanned">([\s\S]*?)<\/ul>/.exec(html)![1]!;
    assert.equal(notScanned, '<li>rancher/windows-agent:v1</li>');
    assert.match(html, /5 findings in 4 images; 1 failed scans; 1 images whose OS was not scanned/);
  });

  it('says "none" when nothing failed and every OS was scanned', () => {
    const clean = summarizeReport(
      mergeTriage({
        release: 'v2.9.0',
        images: buildImageRecords({ images: parseImageList('rancher/a:v1', 'i') }),
        scans: new Map([['rancher/a:v1', { image: 'rancher/a:v1', outcome: 'clean', osScanned: true, findings: [] }]]),
        previous: [],
        today: '2025-01-13',
      }),
    );
    const page = renderReleasePage(clean, [], 'x.csv');
    assert.match(page, /<ul id="failed-scans"><li>none<\/li><\/ul>/);
    assert.match(page, /<ul id="os-not-scanned"><li>none<\/li><\/ul>/);
  });

  it('flags mirrored and windows images next to the image name', () => {
    const img = 'rancher/mirrored-win:v1';
    const images = buildImageRecords({ images: parseImageList(img, 'i'), windowsImages: parseImageList(img, 'w') });
    const r = mergeTriage({
      release: 'r',
      images,
      scans: new Map([[img, { image: img, outcome: 'findings', osScanned: true, findings: [finding(img, 'CVE-1', 'p')] }]]),
      previous: [],
      today: '2025-01-13',
    });
    const page = renderReleasePage(summarizeReport(r), r.rows, 'r.csv');
    assert.ok(rowOf(page, 'CVE-1').includes(`<td>${img} (mirrored) (windows)</td>`));
  });
});

describe('renderIndexPage and releasePageName', () => {
  it('links each release page and CSV with safe names, and escapes the release name', () => {
    const { summary } = sample();
    const hostile = { ...summary, release: 'v2.9.0/../<b>x</b>' };
    const html = renderIndexPage(
      [
        { summary, csvFile: 'cves-v2.9.0.csv' },
        { summary: hostile, csvFile: 'x.csv' },
      ],
      '2025-01-13T09:00:00Z',
    );
    assert.ok(html.includes(`<a href="${releasePageName('v2.9.0')}">v2.9.0</a>`));
    assert.ok(!html.includes('<b>x</b>'));
    assert.ok(html.includes('&lt;b&gt;x&lt;/b&gt;'));
    assert.ok(html.includes('<a href="cves-v2.9.0.csv">CSV</a>'));
    assert.match(releasePageName('v2.9.0/../<b>x</b>'), /^release-[A-Za-z0-9._-]+\.html$/);
    assert.ok(!releasePageName('../../etc/passwd').includes('/'));
  });

  it('shows the failed and OS-not-scanned counts per release', () => {
    const { summary } = sample();
    const html = renderIndexPage([{ summary, csvFile: 'c.csv' }], 'now');
    const row = html.split('\n').find((l) => l.startsWith('<tr><td><a href="release-v2.9.0.html">'))!;
    const cells = [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]);
    // Release, CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN, Images, Failed scans, OS not scanned, New, Fixed, Invalid ignores, CSV
    // New: the two findings without a previous row (CVE-XSS, CVE-PLAIN).
    assert.deepEqual(cells.slice(1, 12), ['1', '2', '1', '1', '0', '4', '1', '1', '2', '0', '1']);
  });
});
