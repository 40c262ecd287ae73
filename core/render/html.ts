import { SEVERITIES } from '../finding.js';
import type { ReleaseReportSummary, TriagedFinding } from '../triage.js';
import { safeHttpUrl } from './markdown.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** File name of a release's page, safe on any file system and as a relative link. */
export function releasePageName(release: string): string {
  return `release-${release.replace(/[^A-Za-z0-9._-]/g, '_')}.html`;
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
table{border-collapse:collapse;font-size:.85rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
tr.ignored td{background:#eee;color:#57606a;text-decoration:line-through}
tr.waiting td{background:#fff8c5}
tr.invalid-ignore td{background:#ffebe9}
.CRITICAL{color:#a40e26;font-weight:bold}.HIGH{color:#bc4c00;font-weight:bold}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body></html>
`;
}

function linkOrText(text: string, url: string): string {
  const safe = safeHttpUrl(url);
  return safe ? `<a href="${escapeHtml(safe)}" rel="noopener noreferrer">${escapeHtml(text)}</a>` : escapeHtml(text);
}

export interface SiteRelease {
  summary: ReleaseReportSummary;
  csvFile: string;
}

export function renderIndexPage(releases: SiteRelease[], generatedAt: string): string {
  const header = ['Release', ...SEVERITIES, 'Images', 'Failed scans', 'OS not scanned', 'New', 'Fixed', 'Invalid ignores', 'CSV'];
  const rows = releases.map(({ summary: s, csvFile }) =>
    [
      `<a href="${escapeHtml(releasePageName(s.release))}">${escapeHtml(s.release)}</a>`,
      ...SEVERITIES.map((sev) => String(s.bySeverity[sev])),
      String(s.images.total),
      String(s.images.failed),
      String(s.images.osNotScanned),
      String(s.changes.new),
      String(s.changes.fixed),
      String(s.invalidIgnores),
      `<a href="${escapeHtml(csvFile)}">CSV</a>`,
    ]
      .map((c) => `<td>${c}</td>`)
      .join(''),
  );
  return page(
    'CVE inventory',
    `<h1>CVE inventory</h1>
<p>Generated ${escapeHtml(generatedAt)}.</p>
<table id="releases"><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows.map((r) => `<tr>${r}</tr>`).join('\n')}
</tbody></table>`,
  );
}

function rowClass(row: TriagedFinding): string {
  if (row.ignored) return 'ignored';
  if (row.state.trim().toLowerCase() === 'ignore') return 'invalid-ignore';
  if (row.state.trim().toLowerCase() === 'waiting') return 'waiting';
  return '';
}

export function renderReleasePage(summary: ReleaseReportSummary, rows: TriagedFinding[], csvFile: string): string {
  const header = ['Image', 'Package', 'Installed', 'Fixed', 'Vulnerability', 'Severity', 'State', 'Notes', 'Title'];
  const body = rows
    .map((r) => {
      const flags = [r.mirrored ? ' (mirrored)' : '', r.windows ? ' (windows)' : ''].join('');
      const cells = [
        escapeHtml(r.image) + escapeHtml(flags),
        escapeHtml(r.packageName),
        escapeHtml(r.installedVersion),
        escapeHtml(r.fixedVersion),
        linkOrText(r.vulnerabilityId, r.url),
        `<span class="${r.severity}">${r.severity}</span>`,
        escapeHtml(r.state),
        escapeHtml(r.notes),
        escapeHtml(r.title),
      ];
      const cls = rowClass(r);
      return `<tr${cls ? ` class="${cls}"` : ''}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const failed = summary.failedImages.map((f) => `<li>${escapeHtml(f.image)}: ${escapeHtml(f.type)}: ${escapeHtml(f.summary)}</li>`).join('\n');
  const notScanned = summary.osNotScannedImages.map((i) => `<li>${escapeHtml(i)}</li>`).join('\n');
  return page(
    `CVEs in ${summary.release}`,
    `<p><a href="index.html">All releases</a> · <a href="${escapeHtml(csvFile)}">CSV</a></p>
<h1>CVEs in ${escapeHtml(summary.release)}</h1>
<p>${summary.findings} findings in ${summary.images.total} images; ${summary.images.failed} failed scans; ${summary.images.osNotScanned} images whose OS was not scanned.</p>
<table id="findings"><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody></table>
<h2>Failed scans</h2>
<ul id="failed-scans">${failed || '<li>none</li>'}</ul>
<h2>OS not scanned</h2>
<ul id="os-not-scanned">${notScanned || '<li>none</li>'}</ul>`,
  );
}
