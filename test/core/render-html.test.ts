import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Finding, Severity } from '../../core/finding.js';
import { buildImageRecords, parseImageList } from '../../core/image-list.js';
import {
  collectImageViews,
  escapeHtml,
  findingMark,
  imagePageName,
  releasePageName,
  renderImagePage,
  renderImagesIndex,
  imageIndexEntry,
  renderIndexPage,
  renderReleasePage,
  type SiteRelease,
} from '../../core/render/html.js';
import { embedJson } from '../../core/render/site-page.js';
import { FINDINGS_TABLE_SCRIPT, type TableData } from '../../core/render/site-table.js';
import type { ImageScan } from '../../core/scan.js';
import { mergeTriage, summarizeReport, type PreviousRow, type ReleaseReport } from '../../core/triage.js';

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
const BREAKOUT = '</script><script>alert(2)</script><!--';
const IMG = 'rancher/shell:v0.1.6';
const OPTIONS = { generatedAt: '2025-01-13T09:30:00Z' };

/** One release with every kind of row the site must tell apart, and hostile strings in every field a person or a scanner writes. */
function sample(): ReleaseReport {
  const images = buildImageRecords({
    images: parseImageList(`${IMG}\nrancher/broken:v1\nrancher/windows-agent:v1\nrancher/mirrored-pause:3.6`, 'images'),
    windowsImages: parseImageList('rancher/windows-agent:v1', 'windows'),
  });
  const findings = [
    finding(IMG, 'CVE-IGNORED', 'curl', 'CRITICAL'),
    finding(IMG, 'CVE-WAITING', 'busybox'),
    finding(IMG, 'CVE-BADIGNORE', 'zlib'),
    finding(IMG, 'CVE-XSS', XSS, 'MEDIUM', { title: XSS, url: 'javascript:alert(1)', installedVersion: BREAKOUT }),
    finding(IMG, 'CVE-PLAIN', 'musl', 'LOW', { title: 'line\u2028separator' }),
  ];
  const previous: PreviousRow[] = [
    { image: IMG, packageName: 'curl', vulnerabilityId: 'CVE-IGNORED', state: 'ignore', notes: `not reachable ${XSS}, see https://github.com/rancher/shell/issues/1.`, firstSeen: '', cells: {} },
    { image: IMG, packageName: 'busybox', vulnerabilityId: 'CVE-WAITING', state: 'waiting', notes: 'upstream javascript:alert(1)', firstSeen: '', cells: {} },
    { image: IMG, packageName: 'zlib', vulnerabilityId: 'CVE-BADIGNORE', state: 'ignore', notes: '', firstSeen: '', cells: {} },
  ];
  const scans = new Map<string, ImageScan>([
    [IMG, { image: IMG, outcome: 'findings', osScanned: true, findings }],
    ['rancher/broken:v1', { image: 'rancher/broken:v1', outcome: 'failed', osScanned: false, findings: [], failure: { type: 'ImageNotFound', permanent: true, summary: `image not found: ${XSS}` } }],
    ['rancher/windows-agent:v1', { image: 'rancher/windows-agent:v1', outcome: 'os-not-scanned', osScanned: false, findings: [] }],
    ['rancher/mirrored-pause:3.6', { image: 'rancher/mirrored-pause:3.6', outcome: 'findings', osScanned: true, findings: [finding('rancher/mirrored-pause:3.6', 'CVE-MIRROR', 'stdlib', 'UNKNOWN', { fixedVersion: '' })] }],
  ]);
  return mergeTriage({ release: 'v2.9.0', images, scans, previous, today: '2025-01-13' });
}

function entryOf(report: ReleaseReport, extra: Partial<SiteRelease> = {}): SiteRelease {
  return { summary: summarizeReport(report), csvFile: 'cves-v2.9.0.csv', scannedAt: '2025-01-13T09:00:00Z', ...extra };
}

const releasePage = (report = sample()) => renderReleasePage(report, entryOf(report), OPTIONS);

function allPages(): Record<string, string> {
  const report = sample();
  const views = collectImageViews([report], { [IMG]: 'https://github.com/o/r/issues/1', 'rancher/windows-agent:v1': 'javascript:alert(1)' });
  return {
    index: renderIndexPage([entryOf(report, { openVexFile: 'cves-v2.9.0.openvex.json' })], OPTIONS),
    release: releasePage(report),
    images: renderImagesIndex(views.map(imageIndexEntry), ['v2.9.0'], OPTIONS),
    ...Object.fromEntries(views.map((v) => [v.image, renderImagePage(v, OPTIONS)])),
  };
}

function embeddedData(html: string): TableData {
  const match = /<script type="application\/json" id="findings-data">([^<]*)<\/script>/.exec(html);
  assert.ok(match, 'the findings data is embedded, with no "<" inside it');
  return JSON.parse(match[1]!) as TableData;
}

/** The rows of the embedded data as objects, keyed by vulnerability id. */
function dataRows(html: string): Map<string, Record<string, unknown>> {
  const data = embeddedData(html);
  return new Map(data.rows.map((row) => [row[4], Object.fromEntries(data.fields.map((f, i) => [f, row[i]]))]));
}

/** The <tr> of a static table that mentions the given vulnerability id. */
function rowOf(html: string, id: string): string {
  const row = html.split('\n').find((l) => l.startsWith('<tr') && l.includes(`>${id}<`));
  assert.ok(row, `no row for ${id}`);
  return row;
}

const section = (html: string, id: string) => new RegExp(`<ul class="gaps" id="${id}">([\\s\\S]*?)</ul>`).exec(html)![1]!;

describe('escapeHtml', () => {
  it('escapes the five HTML special characters', () => {
    assert.equal(escapeHtml(XSS), '&lt;img src=x onerror=alert(1)&gt;');
    assert.equal(escapeHtml(`a & b "c" 'd' <e>`), 'a &amp; b &quot;c&quot; &#39;d&#39; &lt;e&gt;');
    assert.equal(escapeHtml('&amp;'), '&amp;amp;', 'already-escaped text is escaped again, not trusted');
  });
});

describe('embedded findings data', () => {
  it('cannot close its script element, and reads back exactly', () => {
    const html = releasePage();
    assert.ok(!html.includes(BREAKOUT));
    assert.ok(!html.includes(XSS));
    assert.equal(html.match(/<\/script>/g)?.length, 2, 'only the data and the table script close');
    const rows = dataRows(html);
    assert.equal(rows.get('CVE-XSS')!.installed, BREAKOUT);
    assert.equal(rows.get('CVE-XSS')!.title, XSS);
    assert.equal(rows.get('CVE-PLAIN')!.title, 'line\u2028separator');
    assert.ok(!html.includes('\u2028'), 'line separators are escaped');
  });

  it('escapes "<" in any value', () => {
    assert.equal(embedJson('d', { a: '</script><!--' }), '<script type="application/json" id="d">{"a":"\\u003c/script>\\u003c!--"}</script>');
  });

  it('keeps only http(s) URLs', () => {
    const rows = dataRows(releasePage());
    assert.equal(rows.get('CVE-XSS')!.url, '');
    assert.equal(rows.get('CVE-PLAIN')!.url, 'https://avd.aquasec.com/nvd/cve-plain');
  });

  it('marks honoured ignores, waiting rows and unjustified ignores', () => {
    const rows = dataRows(releasePage());
    assert.deepEqual(
      ['CVE-IGNORED', 'CVE-WAITING', 'CVE-BADIGNORE', 'CVE-PLAIN'].map((id) => rows.get(id)!.mark),
      ['ignored', 'waiting', 'invalid-ignore', ''],
    );
    assert.equal(findingMark({ ignored: false, state: ' Ignore ' }), 'invalid-ignore');
    assert.equal(findingMark({ ignored: false, state: 'WAITING' }), 'waiting');
    assert.equal(findingMark({ ignored: false, state: 'ignore', ignoreExpired: true }), 'ignore-expired');
    assert.equal(findingMark({ ignored: false, state: 'waiting', vexDisagreement: 'VEX says not affected' }), 'vex-disagreement');
    assert.equal(findingMark({ ignored: true, state: 'ignore' }), 'ignored', 'a VEX ignore is highlighted like any ignore');
  });

  it('describes each image once, with its page and its mirrored and Windows flags', () => {
    const data = embeddedData(releasePage());
    assert.deepEqual(data.images, [
      ['rancher/mirrored-pause:3.6', imagePageName('rancher/mirrored-pause:3.6'), 1, 0],
      [IMG, imagePageName(IMG), 0, 0],
    ]);
    assert.deepEqual(data.states, ['ignore', 'triaged', 'waiting']);
  });
});

describe('the findings table script', () => {
  it('can be inlined: it neither closes its element nor opens a comment', () => {
    assert.ok(!/<\/script|<!--/i.test(FINDINGS_TABLE_SCRIPT));
  });

  it('writes text, never markup', () => {
    assert.doesNotMatch(FINDINGS_TABLE_SCRIPT, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
  });

  it('is the only script the page may run', () => {
    const html = releasePage();
    const hash = createHash('sha256').update(FINDINGS_TABLE_SCRIPT).digest('base64');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!.replace(/&#39;/g, "'");
    assert.match(csp, /default-src 'none'/);
    assert.ok(csp.includes(`script-src 'sha256-${hash}';`), csp);
    assert.ok(!csp.includes('unsafe-inline'));
    assert.ok(html.includes(`<script>${FINDINGS_TABLE_SCRIPT}</script>`));
  });
});

describe('renderReleasePage', () => {
  it('styles ignored, waiting and unjustified-ignore rows differently', () => {
    const html = releasePage();
    const background = (cls: string) => new RegExp(`tr\\.${cls} td\\{background:([^;}]+)`).exec(html)?.[1];
    const colours = ['ignored', 'waiting', 'invalid-ignore'].map(background);
    assert.ok(colours.every(Boolean), String(colours));
    assert.equal(new Set(colours).size, 3);
  });

  it('shows the commit a generated release\'s lists came from ("v2.9.0 at 1a2b3c4"), escaped; nothing for a listed release', () => {
    assert.ok(!releasePage().includes('id="release-source"'));
    const report = { ...sample(), source: { repository: `https://git.example/${XSS}`, ref: `release/${BREAKOUT}`, commit: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d' } };
    const html = releasePage(report);
    const shown = /<span id="release-source">([\s\S]*?)<\/span>/.exec(html)?.[1] ?? '';
    assert.match(shown, /Lists generated at v2\.9\.0 at 1a2b3c4: <code title="1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d">1a2b3c4<\/code>/);
    assert.ok(shown.includes('&lt;img src=x onerror=alert(1)&gt;') && shown.includes('&lt;/script&gt;'), shown);
    assert.ok(!html.includes(XSS) && !html.includes(BREAKOUT));
  });

  it('lists failed scans and images whose OS was not scanned, escaped', () => {
    const html = releasePage();
    assert.equal(
      section(html, 'failed-scans'),
      `<li><a href="${imagePageName('rancher/broken:v1')}">rancher/broken:v1</a>: <strong>ImageNotFound</strong>: image not found: &lt;img src=x onerror=alert(1)&gt;</li>`,
    );
    assert.equal(section(html, 'os-not-scanned'), `<li><a href="${imagePageName('rancher/windows-agent:v1')}">rancher/windows-agent:v1</a><span class="badge windows">windows</span></li>`);
    assert.match(section(html, 'invalid-ignores'), /CVE-BADIGNORE in zlib: state is &quot;ignore&quot; but notes give no justification/);
    assert.match(html, /6 findings in 4 images \(2 with findings, 0 clean\); 1 ignored; 1 failed scans; 1 images whose OS was not scanned/);
  });

  it('says "none" when nothing failed and every OS was scanned', () => {
    const report = mergeTriage({
      release: 'v2.9.0',
      images: buildImageRecords({ images: parseImageList('rancher/a:v1', 'i') }),
      scans: new Map([['rancher/a:v1', { image: 'rancher/a:v1', outcome: 'clean', osScanned: true, findings: [] }]]),
      previous: [],
      today: '2025-01-13',
    });
    const html = releasePage(report);
    for (const id of ['failed-scans', 'os-not-scanned', 'invalid-ignores']) assert.equal(section(html, id), '<li class="none">none</li>');
    assert.deepEqual(embeddedData(html).rows, []);
  });

  it('links the CSV, and the OpenVEX file only when there is one', () => {
    const report = sample();
    assert.ok(releasePage(report).includes('<a href="cves-v2.9.0.csv">CSV</a></span>'));
    assert.ok(!releasePage(report).includes('OpenVEX'));
    assert.ok(renderReleasePage(report, entryOf(report, { openVexFile: 'cves-v2.9.0.openvex.json' }), OPTIONS).includes('<a href="cves-v2.9.0.openvex.json">OpenVEX</a>'));
  });
});

describe('renderIndexPage', () => {
  it('shows the counts of each release in named cells', () => {
    const html = renderIndexPage([entryOf(sample())], OPTIONS);
    const row = html.split('\n').find((l) => l.startsWith('<tr data-release="v2.9.0">'))!;
    const cells = Object.fromEntries([...row.matchAll(/data-field="(\w+)">(.*?)<\/t[dh]>/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual(
      ['findings', 'CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN', 'ignored', 'images', 'failed', 'osNotScanned', 'new', 'fixed', 'invalidIgnores'].map((f) => cells[f]),
      ['6', '1', '2', '1', '1', '1', '1', '4', '1', '1', '3', '0', '1'],
    );
    assert.equal(cells.scannedAt, '<time datetime="2025-01-13T09:00:00Z">2025-01-13 09:00 UTC</time>');
    assert.equal(cells.files, '<span class="files"><a href="cves-v2.9.0.csv">CSV</a></span>');
  });

  it('links each release page with a safe name, and escapes the release name', () => {
    const report = sample();
    const hostile = { ...entryOf(report), summary: { ...summarizeReport(report), release: 'v2.9.0/../<b>x</b>' } };
    const html = renderIndexPage([entryOf(report), hostile], OPTIONS);
    assert.ok(html.includes(`<a href="${releasePageName('v2.9.0')}">v2.9.0</a>`));
    assert.ok(!html.includes('<b>x</b>'));
    assert.ok(html.includes('&lt;b&gt;x&lt;/b&gt;'));
    assert.match(releasePageName('v2.9.0/../<b>x</b>'), /^release-[A-Za-z0-9._-]+\.html$/);
    assert.ok(!releasePageName('../../etc/passwd').includes('/'));
  });

  it('draws counts by severity as inline SVG, one bar per release', () => {
    const html = renderIndexPage([entryOf(sample())], OPTIONS);
    const svg = /<svg[\s\S]*?<\/svg>/.exec(html)![0];
    assert.equal(svg.match(/<rect class="bar-/g)?.length, 5 + 5, 'five severities present plus the legend');
    assert.match(svg, /<title>v2\.9\.0: 1 CRITICAL<\/title>/);
    assert.doesNotMatch(svg, /href|<image|<script/);
  });
});

describe('image view', () => {
  it('regroups findings by image across releases, with its issue link', () => {
    const a = sample();
    const b = { ...sample(), release: 'v2.10.0' };
    const views = collectImageViews([a, b], { [IMG]: 'https://github.com/o/r/issues/1' });
    const shell = views.find((v) => v.image === IMG)!;
    assert.deepEqual(shell.releases.map((r) => [r.release, r.rows.length]), [['v2.9.0', 5], ['v2.10.0', 5]]);
    assert.equal(shell.issueUrl, 'https://github.com/o/r/issues/1');
    const broken = views.find((v) => v.image === 'rancher/broken:v1')!;
    assert.equal(broken.releases[0]!.failed?.type, 'ImageNotFound');
    assert.equal(views.find((v) => v.image === 'rancher/windows-agent:v1')!.releases[0]!.osNotScanned, true);
    assert.deepEqual(views.map((v) => v.image), [...views.map((v) => v.image)].sort());
  });

  it('escapes every string, marks rows, and links only http(s)', () => {
    const pages = allPages();
    const shell = pages[IMG]!;
    assert.ok(!shell.includes(XSS) && !shell.includes(BREAKOUT));
    assert.match(rowOf(shell, 'CVE-IGNORED'), /^<tr class="ignored">/);
    assert.match(rowOf(shell, 'CVE-WAITING'), /^<tr class="waiting">/);
    assert.match(rowOf(shell, 'CVE-BADIGNORE'), /^<tr class="invalid-ignore">/);
    assert.match(rowOf(shell, 'CVE-PLAIN'), /^<tr>/);
    assert.ok(rowOf(shell, 'CVE-XSS').includes('<td class="vulnerability">CVE-XSS</td>'), 'a javascript: URL is not a link');
    assert.ok(rowOf(shell, 'CVE-IGNORED').includes('see <a href="https://github.com/rancher/shell/issues/1" rel="noopener noreferrer">https://github.com/rancher/shell/issues/1</a>.'));
    assert.ok(rowOf(shell, 'CVE-WAITING').includes('<td class="notes">upstream javascript:alert(1)</td>'));
    assert.ok(shell.includes('<a href="https://github.com/o/r/issues/1" rel="noopener noreferrer">GitHub issue</a>'));
    assert.ok(!pages['rancher/windows-agent:v1']!.includes('GitHub issue'), 'a javascript: issue link is dropped');
    assert.match(pages['rancher/broken:v1']!, /The scan failed in this run: <strong>ImageNotFound<\/strong>: image not found: &lt;img/);
    assert.match(pages['rancher/mirrored-pause:3.6']!, /<h1>rancher\/mirrored-pause:3\.6<span class="badge mirrored">mirrored<\/span><\/h1>/);
  });

  it('gives distinct images distinct, path-free page names', () => {
    assert.notEqual(imagePageName('rancher/a:v1'), imagePageName('rancher/a_v1'));
    assert.equal(imagePageName(IMG), imagePageName(IMG));
    assert.match(imagePageName(`../../${'x'.repeat(300)}:v1`), /^image-[A-Za-z0-9._-]{1,110}\.html$/);
  });
});

describe('every page', () => {
  it('links only to sibling files by relative name, or to http(s) URLs', () => {
    for (const [name, html] of Object.entries(allPages())) {
      for (const [, href] of html.matchAll(/\shref="([^"]*)"/g)) {
        const ok = /^[A-Za-z0-9._-]+\.(html|csv|json)$/.test(href!) || /^https?:\/\/[^/]/.test(href!) || href === 'data:,';
        assert.ok(ok, `${name}: ${href}`);
      }
    }
  });

  it('loads nothing: no src attribute, no external stylesheet, no CSS URL', () => {
    for (const [name, html] of Object.entries(allPages())) {
      assert.doesNotMatch(html, /<[a-z][^>]*\ssrc=|<link rel="stylesheet"|url\(|@import/i, name);
      assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/, name);
    }
  });
});

describe('release page: VEX and expired ignores', () => {
  it('lists expired ignores and VEX disagreements, the VEX source escaped, and counts them in the summary line', () => {
    const images = buildImageRecords({ images: parseImageList(IMG, 'images') });
    const vex = { status: 'not_affected', justification: 'component_not_present', source: `vex/${XSS}.json` };
    const findings = [finding(IMG, 'CVE-EXPIRED', 'curl'), finding(IMG, 'CVE-DISAGREE', 'zlib', 'HIGH', { vex }), finding(IMG, 'CVE-VEX', 'musl', 'HIGH', { vex })];
    const previous: PreviousRow[] = [
      { image: IMG, packageName: 'curl', vulnerabilityId: 'CVE-EXPIRED', state: 'ignore', notes: 'accepted', ignoreExpires: '2025-01-01', firstSeen: '', cells: {} },
      { image: IMG, packageName: 'zlib', vulnerabilityId: 'CVE-DISAGREE', state: 'waiting', notes: 'we ship it', firstSeen: '', cells: {} },
    ];
    const report = mergeTriage({ release: 'v2.9.0', images, scans: new Map([[IMG, { image: IMG, outcome: 'findings', osScanned: true, findings }]]), previous, today: '2025-01-13' });
    const html = renderReleasePage(report, entryOf(report), OPTIONS);
    assert.ok(!html.includes(XSS), 'the VEX source is escaped wherever it lands');
    const section = (id: string) => html.slice(html.indexOf(`id="${id}"`), html.indexOf('</ul>', html.indexOf(`id="${id}"`)));
    assert.match(section('expired-ignores'), /CVE-EXPIRED.*ignore expired on 2025-01-01/);
    assert.match(section('vex-disagreements'), /CVE-DISAGREE.*the person&#39;s decision wins|CVE-DISAGREE.*person/);
    assert.ok(!section('vex-disagreements').includes('CVE-VEX'));
    assert.match(html, /1 ignored \(1 by VEX statements\); 1 ignores expired; 1 VEX disagreements/);
  });
});

describe('how each image was scanned (re-matching)', () => {
  const PULLED = 'rancher/pulled:v1';
  const WAITING = 'rancher/waiting:v1';
  function rematchRun(): ReleaseReport {
    const images = buildImageRecords({ images: parseImageList([IMG, PULLED, WAITING].join('\n'), 'images') });
    const scans = new Map<string, ImageScan>([
      [IMG, { image: IMG, outcome: 'clean', osScanned: true, findings: [], scannedAs: 'rematched', digest: `sha256:${'1'.repeat(64)}` }],
      [PULLED, { image: PULLED, outcome: 'clean', osScanned: true, findings: [], scannedAs: 'pulled', digest: `sha256:${'2'.repeat(64)}`, needsFullScans: `the SBOM does not reproduce its scan ${XSS}` }],
      [WAITING, { image: WAITING, outcome: 'failed', osScanned: false, findings: [], failure: { type: 'RegistryRateLimited', permanent: false, summary: 'docker.io: still waiting at the deadline' } }],
    ]);
    return mergeTriage({ release: 'v2.9.0', images, scans, previous: [], today: '2025-01-13' });
  }

  it('counts paths and pulls per registry in the summary, in the singular where it is one', () => {
    const report = rematchRun();
    const html = renderReleasePage(report, entryOf(report), OPTIONS);
    const paths = /<p id="scan-paths">([^\n]*?)<\/p>/.exec(html)?.[1];
    assert.equal(paths, `1 image re-matched from its SBOM (no pull), 1 pulled (1 from docker.io); 1 need full scans: ${PULLED}.`);
  });

  it('badges each image on the images index: re-matched, pulled, or waiting on the registry', () => {
    const views = collectImageViews([rematchRun()]);
    const html = renderImagesIndex(views.map(imageIndexEntry), ['v2.9.0'], OPTIONS);
    const cellOf = (image: string) => html.split('\n').find((l) => l.includes(`>${image}<`)) ?? '';
    assert.match(cellOf(IMG), /class="badge scan-rematched">re-matched</);
    assert.match(cellOf(PULLED), /class="badge scan-pulled">pulled</);
    assert.match(cellOf(WAITING), /scan failed.*class="badge waiting">waiting on the registry</);
  });

  it('gives the digest and why an image needs full scans on its page, escaped', () => {
    const view = collectImageViews([rematchRun()]).find((v) => v.image === PULLED)!;
    const html = renderImagePage(view, OPTIONS);
    assert.ok(html.includes(`<p class="scan-path">Scanned this run: pulled and scanned in full; digest <code>sha256:${'2'.repeat(64)}</code>; needs full scans: the SBOM does not reproduce its scan ${escapeHtml(XSS)}</p>`));
    assert.ok(!html.includes(XSS));
  });

  it('says nothing of paths for a release scanned without re-matching', () => {
    const html = releasePage();
    assert.ok(!html.includes('id="scan-paths"') && !html.includes('scan-path') && !html.includes('re-matched'));
  });
});
