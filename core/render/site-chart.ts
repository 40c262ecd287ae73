import { SEVERITIES, type SeverityCounts } from '../finding.js';
import { escapeHtml, formatCount } from './site-page.js';

/** One bar of the chart: a release and its findings by severity. */
export interface SeverityBar {
  label: string;
  counts: SeverityCounts;
}

const LABEL_WIDTH = 150;
const BAR_WIDTH = 480;
const TOTAL_WIDTH = 70;
const ROW = 26;
const BAR = 16;
const LEGEND = 28;
const MAX_LABEL = 20;

const total = (counts: SeverityCounts) => SEVERITIES.reduce((sum, s) => sum + counts[s], 0);

function shortLabel(label: string): string {
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label;
}

function barSvg(bar: SeverityBar, y: number, scale: number): string {
  const parts = [`<text class="label" x="${LABEL_WIDTH - 8}" y="${y + BAR - 3}" text-anchor="end">${escapeHtml(shortLabel(bar.label))}<title>${escapeHtml(bar.label)}</title></text>`];
  let x = LABEL_WIDTH;
  for (const severity of SEVERITIES) {
    const count = bar.counts[severity];
    if (count === 0) continue;
    // A sliver stays visible, so a single CRITICAL next to thousands of LOW is not lost.
    const width = Math.max(2, count * scale);
    parts.push(
      `<rect class="bar-${severity}" x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${BAR}"><title>${escapeHtml(bar.label)}: ${formatCount(count)} ${severity}</title></rect>`,
    );
    x += width;
  }
  parts.push(`<text class="total" x="${(x + 6).toFixed(1)}" y="${y + BAR - 3}">${formatCount(total(bar.counts))}</text>`);
  return parts.join('');
}

function legendSvg(y: number): string {
  return SEVERITIES.map((severity, i) => {
    const x = LABEL_WIDTH + i * 96;
    return `<rect class="bar-${severity}" x="${x}" y="${y}" width="12" height="12"></rect><text x="${x + 16}" y="${y + 11}">${severity}</text>`;
  }).join('');
}

/** A stacked bar per release, drawn inline: no chart library, nothing fetched from outside the site. */
export function renderSeverityChart(bars: SeverityBar[]): string {
  const largest = Math.max(1, ...bars.map((b) => total(b.counts)));
  // The smallest-slice minimum width can overflow the bar a little; the total label absorbs it.
  const scale = (BAR_WIDTH - 2 * SEVERITIES.length) / largest;
  const width = LABEL_WIDTH + BAR_WIDTH + TOTAL_WIDTH;
  const height = bars.length * ROW + LEGEND;
  const rows = bars.map((bar, i) => barSvg(bar, i * ROW + 4, scale)).join('\n');
  return `<svg class="chart" id="severity-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="severity-chart-title">
<title id="severity-chart-title">Findings by severity per release</title>
${rows}
${legendSvg(bars.length * ROW + 8)}
</svg>`;
}
