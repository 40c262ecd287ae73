import { describeReleaseSource, shortCommit } from '../release-source.js';
import { SEVERITIES, countBySeverity } from '../finding.js';
import type { ReleaseHistory } from '../history.js';
import { imagesOfReleases, type FailedImage, type ImageScanWay, type ReleaseReport, type ReleaseReportHead, type ReleaseReportSummary, type TriagedFinding } from '../triage.js';
import type { TriageListEntry } from '../triage-state.js';
import { safeHttpUrl } from './markdown.js';
import { renderSeverityChart } from './site-chart.js';
import { TREND_CHART_STYLE, renderIndexTrends, renderReleaseTrends } from './trend-chart.js';
import {
  badge,
  escapeHtml,
  formatCount,
  imageBadges,
  linkOrText,
  notesHtml,
  renderPage,
  shortHash,
  siteLink,
  timeHtml,
} from './site-page.js';
import { FINDINGS_TABLE_SCRIPT, findingMark, findingsTableData, findingsTableFrameHtml, ROWS_SLOT, tableRowJson, type TableFrame } from './site-table.js';

/**
 * The static CVE site: an index of releases, a page per release, an index of
 * images and a page per image. Every page is self-contained (inline CSS and
 * script, no request leaves the site) and links only to sibling files by
 * relative name, so it works from `file://` and from any sub-path.
 */

export { escapeHtml } from './site-page.js';
export { findingMark } from './site-table.js';

export const INDEX_PAGE = 'index.html';
export const IMAGES_PAGE = 'images.html';

const safeFileName = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, '_');

/** File name of a release's page, safe on any file system and as a relative link. */
export function releasePageName(release: string): string {
  return `release-${safeFileName(release)}.html`;
}

/** File name of an image's page: readable, and unique even when two references differ only in punctuation. */
export function imagePageName(image: string): string {
  return `image-${safeFileName(image).slice(0, 80)}-${shortHash(image)}.html`;
}

const STYLE = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;--link:#0969da;
--CRITICAL:#8e1519;--HIGH:#d1242f;--MEDIUM:#bf8700;--LOW:#1a7f37;--UNKNOWN:#6e7781}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;padding:1rem 1.5rem 3rem;color:var(--fg);max-width:120rem}
a{color:var(--link)}
h1{font-size:1.6rem;margin:.4rem 0 .6rem}
h2{font-size:1.2rem;margin:1.6rem 0 .5rem}
nav.crumbs{display:flex;gap:1rem;color:var(--muted);font-size:.9rem}
.muted,.meta{color:var(--muted)}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{background:var(--head);position:sticky;top:0;z-index:1;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.zero{color:#afb8c1}
td.alert-cell{color:#cf222e;font-weight:600}
th button{all:unset;cursor:pointer;font-weight:600}
th button:focus-visible{outline:2px solid var(--link)}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
td.image{overflow-wrap:anywhere;min-width:10rem}
td.package,td.version{overflow-wrap:anywhere;min-width:4.5rem}
td.fixed:empty::before{content:"no fix";color:var(--muted);font-style:italic}
td[data-field=scannedAt],td[data-field=files]{white-space:nowrap}
#releases{font-size:.93rem}
#releases th,#releases td{padding:.3rem .35rem}
#releases thead th{white-space:normal;vertical-align:bottom}
#releases th[data-field=release]{overflow-wrap:anywhere;min-width:6rem}
#releases td[data-field=scannedAt]{white-space:normal;min-width:6.5rem}
#releases td[data-field=files]{white-space:normal;min-width:6rem}
#releases td[data-field=files] a{white-space:nowrap}
td.notes,td.title{overflow-wrap:anywhere;min-width:8rem;max-width:32rem}
#findings th,#findings td{padding:.3rem .35rem}
td.vulnerability,td.severity{white-space:nowrap}
.sev{display:inline-block;font-weight:600;font-size:.72rem;padding:0 .45rem;border-radius:1rem;color:#fff;white-space:nowrap}
.sev-CRITICAL{background:var(--CRITICAL)}.sev-HIGH{background:var(--HIGH)}.sev-MEDIUM{background:var(--MEDIUM)}.sev-LOW{background:var(--LOW)}.sev-UNKNOWN{background:var(--UNKNOWN)}
.badge{display:inline-block;margin-left:.35rem;padding:0 .4rem;border-radius:.6rem;font-size:.7rem;border:1px solid currentColor;white-space:nowrap;vertical-align:baseline}
.badge.mirrored{color:#8250df}.badge.windows{color:#0550ae}.badge.ignored{color:var(--muted)}.badge.invalid-ignore{color:#cf222e;font-weight:600}.badge.ignore-expired{color:#9a6700;font-weight:600}.badge.vex-disagreement{color:#8250df;font-weight:600}
.badge.failed{color:#cf222e;font-weight:600}.badge.os-not-scanned{color:#9a6700}
tr.ignored td{background:#eaeef2;color:var(--muted)}
tr.ignored td:first-child{box-shadow:inset 4px 0 #8c959f}
tr.waiting td{background:#fff8c5}
tr.waiting td:first-child{box-shadow:inset 4px 0 #d4a72c}
tr.invalid-ignore td{background:#ffebe9}
tr.invalid-ignore td:first-child{box-shadow:inset 4px 0 #cf222e}
tr.ignore-expired td{background:#fff1e5}
tr.ignore-expired td:first-child{box-shadow:inset 4px 0 #bc4c00}
tr.vex-disagreement td:first-child{box-shadow:inset 4px 0 #8250df}
tr.empty td{text-align:center;color:var(--muted);padding:1.5rem}
.swatch{display:inline-block;padding:0 .5rem;margin-right:.4rem;border-left:4px solid}
.swatch.ignored{background:#eaeef2;border-color:#8c959f}.swatch.waiting{background:#fff8c5;border-color:#d4a72c}.swatch.invalid-ignore{background:#ffebe9;border-color:#cf222e}.swatch.ignore-expired{background:#fff1e5;border-color:#bc4c00}.swatch.vex-disagreement{border-color:#8250df}
.legend{font-size:.85rem;color:var(--muted)}
.alert{background:#ffebe9;border:1px solid #ff818266;border-radius:6px;padding:.5rem .8rem}
.warn{background:#fff8c5;border:1px solid #d4a72c66;border-radius:6px;padding:.5rem .8rem}
.ok{color:var(--LOW)}
ul.gaps{max-height:16rem;overflow:auto;margin:.3rem 0;padding-left:1.4rem}
.gaps-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1rem}
.gaps-grid section{border:1px solid var(--line);border-radius:6px;padding:0 .8rem .5rem}
.gaps-grid section.alert,.gaps-grid section.warn{border-width:1px}
.gaps-grid h2{font-size:1rem;margin:.6rem 0 .3rem}
.counts{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;margin:.5rem 0;padding:0;list-style:none}
form#filters{display:flex;flex-wrap:wrap;gap:.5rem 1.2rem;align-items:center;background:var(--head);border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem}
form#filters fieldset{border:0;margin:0;padding:0;display:flex;gap:.6rem;align-items:center}
form#filters legend{float:left;margin-right:.4rem;padding:0}
form#filters input[type=search]{width:18rem}
form#filters select[name=image]{max-width:22rem}
.toolbar{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;margin:.6rem 0}
.toolbar p{margin:0;font-weight:600}
#pager{display:flex;gap:.35rem;align-items:center}
#pager label{margin-left:.8rem}
svg.chart{max-width:100%;height:auto;font:12px system-ui,sans-serif}
svg.chart .total,svg.chart .label{fill:var(--fg)}
.bar-CRITICAL{fill:var(--CRITICAL)}.bar-HIGH{fill:var(--HIGH)}.bar-MEDIUM{fill:var(--MEDIUM)}.bar-LOW{fill:var(--LOW)}.bar-UNKNOWN{fill:var(--UNKNOWN)}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
` + TREND_CHART_STYLE;

const page = (parts: Parameters<typeof renderPage>[1]) => renderPage(STYLE, parts);

function crumbs(links: string[]): string {
  return `<nav class="crumbs">${links.join('')}</nav>`;
}

function footer(generatedAt: string): string {
  return `<footer>Generated ${timeHtml(generatedAt)} by image-scanning from Trivy scans. Every finding is also in each release's CSV.</footer>`;
}

/** What the site knows about a release beyond its report: its files and when it was scanned. */
export interface SiteRelease {
  summary: ReleaseReportSummary;
  csvFile: string;
  openVexFile?: string;
  scannedAt?: string;
  /** The release's weekly history, for its trend charts. */
  history?: ReleaseHistory;
}

export interface SiteOptions {
  generatedAt: string;
}

function numberCell(field: string, n: number, alertWhenNonZero = false): string {
  const cls = ['num', n === 0 ? 'zero' : alertWhenNonZero ? 'alert-cell' : ''].filter(Boolean).join(' ');
  return `<td class="${cls}" data-field="${field}">${formatCount(n)}</td>`;
}

function releaseFiles(entry: SiteRelease): string {
  const files = [siteLink('CSV', entry.csvFile)];
  if (entry.openVexFile) files.push(siteLink('OpenVEX', entry.openVexFile));
  return `<span class="files">${files.join(' · ')}</span>`;
}

function indexRow(entry: SiteRelease): string {
  const s = entry.summary;
  return [
    `<tr data-release="${escapeHtml(s.release)}">`,
    `<th scope="row" data-field="release">${siteLink(s.release, releasePageName(s.release))}</th>`,
    numberCell('findings', s.findings),
    ...SEVERITIES.map((sev) => numberCell(sev, s.bySeverity[sev])),
    numberCell('ignored', s.ignored),
    numberCell('images', s.images.total),
    numberCell('failed', s.images.failed, true),
    numberCell('osNotScanned', s.images.osNotScanned, true),
    numberCell('new', s.changes.new),
    numberCell('fixed', s.changes.fixed),
    numberCell('invalidIgnores', s.invalidIgnores, true),
    `<td data-field="scannedAt">${timeHtml(entry.scannedAt)}</td>`,
    `<td data-field="files">${releaseFiles(entry)}</td>`,
    '</tr>',
  ].join('');
}

export function renderIndexPage(releases: SiteRelease[], options: SiteOptions): string {
  const header = ['Release', 'Findings', ...SEVERITIES, 'Ignored', 'Images', 'Failed scans', 'OS not scanned', 'New', 'Fixed', 'Invalid ignores', 'Scanned', 'Files'];
  const numeric = (h: string) => h !== 'Release' && h !== 'Scanned' && h !== 'Files';
  const chart = releases.length
    ? renderSeverityChart(releases.map((r) => ({ label: r.summary.release, counts: r.summary.bySeverity })))
    : '<p class="muted">No release has been reported yet.</p>';
  return page({
    title: 'CVE inventory',
    body: `${crumbs([siteLink('Images', IMAGES_PAGE)])}
<h1>CVE inventory</h1>
<p class="meta">${formatCount(releases.length)} release${releases.length === 1 ? '' : 's'}. New and fixed count changes since the previous run of each release.</p>
${chart}
${renderIndexTrends(releases, releasePageName)}
<table id="releases"><thead><tr>${header.map((h) => `<th${numeric(h) ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${releases.map(indexRow).join('\n')}
</tbody></table>
${footer(options.generatedAt)}`,
  });
}

function severityCounts(counts: Record<string, number>): string {
  return `<ul class="counts">${SEVERITIES.map((s) => `<li><span class="sev sev-${s}">${s}</span> ${formatCount(counts[s] ?? 0)}</li>`).join('')}</ul>`;
}

function failedItem(f: FailedImage): string {
  return `<li>${siteLink(f.image, imagePageName(f.image))}: <strong>${escapeHtml(f.type)}</strong>: ${escapeHtml(f.summary)}</li>`;
}

/** Images the report could not fully vouch for, always shown, so a gap never reads as "no CVEs". */
function triageItem(e: TriageListEntry): string {
  return `<li>${siteLink(e.image, imagePageName(e.image))}: ${escapeHtml(e.vulnerabilityId)} in ${escapeHtml(e.packageName)} (${escapeHtml(e.severity)}): ${escapeHtml(e.detail)}</li>`;
}

function scanGapsHtml(report: ReleaseReportHead, summary?: ReleaseReportSummary): string {
  const { failed, osNotScanned, records } = report.images;
  const windows = new Set(records.filter((r) => r.windows).map((r) => r.image));
  const notScanned = osNotScanned.map((image) => `<li>${siteLink(image, imagePageName(image))}${windows.has(image) ? badge('windows', 'windows') : ''}</li>`);
  const problems = report.problems.map(
    (p) => `<li>${siteLink(p.image, imagePageName(p.image))}: ${escapeHtml(p.vulnerabilityId)} in ${escapeHtml(p.packageName)}: ${escapeHtml(p.message)}</li>`,
  );
  const section = (id: string, title: string, items: string[], kind: string, explain: string) =>
    `<section class="${items.length ? kind : ''}" aria-labelledby="${id}-title"><h2 id="${id}-title">${title} (${formatCount(items.length)})</h2>
<p class="meta">${explain}</p>
<ul class="gaps" id="${id}">${items.join('\n') || '<li class="none">none</li>'}</ul></section>`;
  return `<div class="gaps-grid">
${section('failed-scans', 'Failed scans', failed.map(failedItem), 'alert', 'Not scanned this run; their previous findings are kept in the CSV and their issues stay open.')}
${section('os-not-scanned', 'OS not scanned', notScanned, 'warn', 'Trivy could not analyse the operating system (Windows, unknown distribution); language packages were scanned.')}
${section('invalid-ignores', 'Invalid ignores', problems, 'alert', '<code>state=ignore</code> without a justification in notes, or an <code>ignore_expires</code> that is not a YYYY-MM-DD date: the finding is still reported.')}
${section('expired-ignores', 'Ignores expired', (summary?.expiredIgnores ?? []).map(triageItem), 'warn', 'Ignores whose <code>ignore_expires</code> date has come: the findings count again and their issues list them.')}
${section('vex-disagreements', 'VEX disagreements', (summary?.vexDisagreements ?? []).map(triageItem), 'warn', 'A VEX statement says not affected, but a person wrote another state for the finding: the person\'s state wins.')}
</div>`;
}

function releaseSummary(report: ReleaseReportHead, s: ReleaseReportSummary): string {
  const vex = s.vexIgnored ? ` (${formatCount(s.vexIgnored)} by VEX statements)` : '';
  const expired = s.expiredIgnores?.length ? `; ${formatCount(s.expiredIgnores.length)} ignores expired` : '';
  const disagree = s.vexDisagreements?.length ? `; ${formatCount(s.vexDisagreements.length)} VEX disagreements` : '';
  const ignored = (s.ignored ? `; ${formatCount(s.ignored)} ignored${vex}` : '') + expired + disagree;
  const pulls = Object.entries(s.pullsByRegistry ?? {}).map(([registry, n]) => `${formatCount(n)} from ${escapeHtml(registry)}`);
  const paths = s.scanPaths
    ? `<p id="scan-paths">${formatCount(s.scanPaths.rematched)} ${s.scanPaths.rematched === 1 ? 'image re-matched from its SBOM' : 'images re-matched from their SBOMs'} (no pull), ${formatCount(s.scanPaths.pulled)} pulled${pulls.length ? ` (${pulls.join(', ')})` : ''}${s.needsFullScans?.length ? `; ${formatCount(s.needsFullScans.length)} need full scans: ${s.needsFullScans.map((n) => escapeHtml(n.image)).join(', ')}` : ''}.</p>`
    : '';
  return `${paths}<p id="release-summary">${formatCount(s.findings)} findings in ${formatCount(s.images.total)} images (${formatCount(s.images.withFindings)} with findings, ${formatCount(s.images.clean)} clean)${ignored}; ${formatCount(s.images.failed)} failed scans; ${formatCount(s.images.osNotScanned)} images whose OS was not scanned; ${formatCount(report.changes.new)} new and ${formatCount(report.changes.fixed)} fixed since the previous run.</p>`;
}

/**
 * The release page around its rows: the page is `before`, the rows' JSON (comma-separated
 * `tableRowJson`s), then `after`, so a large release's page is written with its rows streamed
 * from a file rather than held.
 */
export function releasePageParts(report: ReleaseReportHead, entry: SiteRelease, options: SiteOptions, frame: TableFrame): { before: string; after: string } {
  const s = entry.summary;
  const html = page({
    title: `CVEs in ${s.release}`,
    body: `${crumbs([siteLink('All releases', INDEX_PAGE), siteLink('Images', IMAGES_PAGE), releaseFiles(entry)])}
<h1>CVEs in ${escapeHtml(s.release)}</h1>
<p class="meta">Scanned ${timeHtml(entry.scannedAt)}.${report.source ? ` <span id="release-source">Lists generated at ${escapeHtml(describeReleaseSource(s.release, report.source))}: <code title="${escapeHtml(report.source.commit)}">${escapeHtml(shortCommit(report.source.commit))}</code> of ${escapeHtml(report.source.repository)} ${escapeHtml(report.source.ref)}.</span>` : ''}</p>
${severityCounts(s.bySeverity)}
${releaseSummary(report, s)}
${scanGapsHtml(report, s)}
${renderReleaseTrends(entry.history)}
<h2 id="findings-title">Findings</h2>
${findingsTableFrameHtml(frame)}
${footer(options.generatedAt)}`,
    scripts: [FINDINGS_TABLE_SCRIPT],
  });
  // The last one: only the page's own footer and script follow the slot, never external text.
  const at = html.lastIndexOf(ROWS_SLOT);
  return { before: html.slice(0, at), after: html.slice(at + ROWS_SLOT.length) };
}

/** The release page in memory. */
export function renderReleasePage(report: ReleaseReportHead & { rows?: TriagedFinding[] }, entry: SiteRelease, options: SiteOptions): string {
  const data = findingsTableData(report.rows ?? [], imagePageName);
  const { before, after } = releasePageParts(report, entry, options, { total: data.rows.length, states: data.states, images: data.images });
  return before + data.rows.map(tableRowJson).join(',') + after;
}

/** One image as seen by one release. */
export interface ImageInRelease {
  release: string;
  failed?: FailedImage;
  /** How it was scanned this run (re-matched or pulled) and the digest, when re-matching is on. */
  scan?: ImageScanWay;
  osNotScanned: boolean;
  rows: TriagedFinding[];
}

/** One image across every release that ships it. */
export interface ImageView {
  image: string;
  mirrored: boolean;
  windows: boolean;
  projects: string[];
  issueUrl?: string;
  releases: ImageInRelease[];
}

/** The releases' heads indexed for building image views one image at a time. */
export class ImageViewIndex {
  private readonly releases: { release: string; records: Map<string, ReleaseReportHead['images']['records'][number]>; failed: Map<string, FailedImage>; osNotScanned: Set<string>; scans: Map<string, ImageScanWay> }[];

  constructor(
    heads: Pick<ReleaseReportHead, 'release' | 'images'>[],
    private readonly issueLinks: Record<string, string> = {},
  ) {
    this.releases = heads.map((h) => ({
      release: h.release,
      records: new Map(h.images.records.map((r) => [r.image, r])),
      failed: new Map(h.images.failed.map((f) => [f.image, f])),
      osNotScanned: new Set(h.images.osNotScanned),
      scans: new Map((h.images.scans ?? []).map((w) => [w.image, w])),
    }));
  }

  /** The view of one image, with its rows per release (by release index; releases not shipping it are skipped). */
  view(image: string, rowsOf: (releaseIndex: number) => TriagedFinding[]): ImageView {
    const view: ImageView = { image, mirrored: false, windows: false, projects: [], issueUrl: this.issueLinks[image], releases: [] };
    const projects = new Set<string>();
    this.releases.forEach((r, i) => {
      const record = r.records.get(image);
      if (!record) return;
      view.mirrored ||= record.mirrored;
      view.windows ||= record.windows;
      record.projects.forEach((p) => projects.add(p));
      view.releases.push({ release: r.release, failed: r.failed.get(image), osNotScanned: r.osNotScanned.has(image), scan: r.scans.get(image), rows: rowsOf(i) });
    });
    view.projects = [...projects].sort();
    return view;
  }
}

/** Regroups the releases' reports by image; `issueLinks` maps an image to its GitHub issue. */
export function collectImageViews(reports: ReleaseReport[], issueLinks: Record<string, string> = {}): ImageView[] {
  const rowsByImage = reports.map((report) => {
    const byImage = new Map<string, TriagedFinding[]>();
    for (const row of report.rows) {
      const rows = byImage.get(row.image);
      if (rows) rows.push(row);
      else byImage.set(row.image, [row]);
    }
    return byImage;
  });
  const index = new ImageViewIndex(reports, issueLinks);
  return imagesOfReleases(reports).map((image) => index.view(image, (i) => rowsByImage[i]!.get(image) ?? []));
}

/** What the images index shows of an image in a release, without its rows. */
export interface ImageStatus {
  release: string;
  failed?: FailedImage;
  scan?: ImageScanWay;
  osNotScanned: boolean;
  findings: number;
  openCritical: number;
}

export type ImageIndexEntry = Omit<ImageView, 'releases'> & { releases: ImageStatus[] };

/** An image view reduced to the images index's counts, so the index never needs the rows. */
export function imageIndexEntry(view: ImageView): ImageIndexEntry {
  return {
    ...view,
    releases: view.releases.map(({ rows, ...r }) => ({ ...r, findings: rows.length, openCritical: rows.filter((row) => row.severity === 'CRITICAL' && !row.ignored).length })),
  };
}

function issueLink(view: Pick<ImageView, 'issueUrl'>): string {
  return view.issueUrl && safeHttpUrl(view.issueUrl) ? linkOrText('GitHub issue', view.issueUrl) : '<span class="muted">no issue</span>';
}

/** Re-matched, pulled, or (a quota deadline passed) waiting on the registry; nothing when re-matching is off. */
function scanPathBadge(entry: Pick<ImageStatus, 'scan' | 'failed'>): string {
  if (entry.failed?.type === 'RegistryRateLimited') return badge('waiting', 'waiting on the registry');
  if (!entry.scan) return '';
  return badge(`scan-${entry.scan.scannedAs}`, entry.scan.scannedAs === 'rematched' ? 're-matched' : 'pulled');
}

/** A short status for an image in a release: its finding count, or why there is none. */
function statusHtml(entry: ImageStatus): string {
  if (entry.failed) return badge('failed', 'scan failed') + scanPathBadge(entry);
  const count = entry.findings ? `${formatCount(entry.findings)}` : '<span class="ok">clean</span>';
  const critical = entry.openCritical;
  return count + (critical ? ` <span class="sev sev-CRITICAL">${formatCount(critical)} CRITICAL</span>` : '') + (entry.osNotScanned ? badge('os-not-scanned', 'OS not scanned') : '') + scanPathBadge(entry);
}

export function renderImagesIndex(views: ImageIndexEntry[], releases: string[], options: SiteOptions): string {
  const header = ['Image', ...releases.map(escapeHtml), 'Issue'].map((h) => `<th>${h}</th>`).join('');
  const rows = views.map((view) => {
    const byRelease = new Map(view.releases.map((r) => [r.release, r]));
    const cells = releases.map((release) => {
      const entry = byRelease.get(release);
      return `<td>${entry ? statusHtml(entry) : '<span class="muted">—</span>'}</td>`;
    });
    return `<tr><td class="image">${siteLink(view.image, imagePageName(view.image))}${imageBadges(view)}</td>${cells.join('')}<td>${issueLink(view)}</td></tr>`;
  });
  return page({
    title: 'Images: CVE inventory',
    body: `${crumbs([siteLink('All releases', INDEX_PAGE)])}
<h1>Images</h1>
<p class="meta">${formatCount(views.length)} images. Each cell counts the image's findings in that release, with its CRITICAL findings that are not ignored.</p>
<table id="images"><thead><tr>${header}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
${footer(options.generatedAt)}`,
  });
}

const MARK_BADGES: Record<string, string> = {
  ignored: 'ignored',
  'invalid-ignore': 'not honoured: no justification or unreadable end date',
  'ignore-expired': 'ignore expired',
  'vex-disagreement': 'VEX disagrees',
};

function imageFindingRow(row: TriagedFinding): string {
  const mark = findingMark(row);
  const markBadge = MARK_BADGES[mark] ? badge(mark, MARK_BADGES[mark]) : '';
  const cells = [
    `<td class="severity"><span class="sev sev-${row.severity}">${row.severity}</span></td>`,
    `<td class="vulnerability">${linkOrText(row.vulnerabilityId, row.url)}</td>`,
    `<td class="package">${escapeHtml(row.packageName)}</td>`,
    `<td class="version">${escapeHtml(row.installedVersion)}</td>`,
    `<td class="version fixed">${escapeHtml(row.fixedVersion)}</td>`,
    `<td class="state">${escapeHtml(row.state)}${markBadge}</td>`,
    `<td class="notes">${notesHtml(row.notes)}</td>`,
    `<td class="title">${escapeHtml(row.title)}</td>`,
  ];
  return `<tr${mark ? ` class="${mark}"` : ''}>${cells.join('')}</tr>`;
}

function imageReleaseSection(entry: ImageInRelease): string {
  const heading = `<h2>${siteLink(entry.release, releasePageName(entry.release))}</h2>`;
  const gaps = [
    entry.failed ? `<p class="alert">The scan failed in this run: <strong>${escapeHtml(entry.failed.type)}</strong>: ${escapeHtml(entry.failed.summary)}</p>` : '',
    entry.osNotScanned ? '<p class="warn">Trivy could not analyse this image\'s operating system; only language packages were scanned.</p>' : '',
    entry.scan
      ? `<p class="scan-path">Scanned this run: ${entry.scan.scannedAs === 'rematched' ? 're-matched from its stored SBOM (no pull)' : 'pulled and scanned in full'}${entry.scan.digest ? `; digest <code>${escapeHtml(entry.scan.digest)}</code>` : ''}${entry.scan.needsFullScans ? `; needs full scans: ${escapeHtml(entry.scan.needsFullScans)}` : ''}</p>`
      : '',
  ].join('');
  if (entry.failed) return `<section>${heading}${gaps}</section>`;
  if (entry.rows.length === 0) return `<section>${heading}${gaps}<p class="ok">No vulnerabilities found.</p></section>`;
  const header = ['Severity', 'Vulnerability', 'Package', 'Installed', 'Fixed', 'State', 'Notes', 'Title'].map((h) => `<th>${h}</th>`).join('');
  return `<section>${heading}${gaps}${severityCounts(countBySeverity(entry.rows))}
<table class="image-findings"><thead><tr>${header}</tr></thead>
<tbody>
${entry.rows.map(imageFindingRow).join('\n')}
</tbody></table></section>`;
}

export function renderImagePage(view: ImageView, options: SiteOptions): string {
  const projects = view.projects.length ? view.projects.map(escapeHtml).join(', ') : '<span class="muted">none listed</span>';
  return page({
    title: `${view.image}: CVE inventory`,
    body: `${crumbs([siteLink('All releases', INDEX_PAGE), siteLink('Images', IMAGES_PAGE)])}
<h1>${escapeHtml(view.image)}${imageBadges(view)}</h1>
<p class="meta">${issueLink(view)} · Releases: ${view.releases.map((r) => escapeHtml(r.release)).join(', ')} · Projects: ${projects}</p>
${view.releases.map(imageReleaseSection).join('\n')}
${footer(options.generatedAt)}`,
  });
}
