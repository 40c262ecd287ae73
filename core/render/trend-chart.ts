import { SEVERITIES } from '../finding.js';
import { historySegments, weeklySeries, type HistoryWeek, type ReleaseHistory } from '../history.js';
import { escapeHtml, formatCount } from './site-page.js';

/**
 * A release's trend, drawn inline like the severity chart (no library, nothing
 * fetched): findings by severity at each week's last run, and findings new and
 * fixed each week. A gap week (no run, or a report that measured nothing) has
 * no point and breaks the line: it is never drawn as a zero.
 */

export const TREND_CHART_STYLE = `
svg.chart .axis{fill:var(--muted)}
svg.chart .grid{stroke:var(--line);stroke-width:1}
svg.chart .gap,svg.spark .gap{fill:#eaeef2}
svg.chart path.line{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
.line-CRITICAL{stroke:var(--CRITICAL)}.line-HIGH{stroke:var(--HIGH)}.line-MEDIUM{stroke:var(--MEDIUM)}.line-LOW{stroke:var(--LOW)}.line-UNKNOWN{stroke:var(--UNKNOWN)}
.bar-new{fill:#cf222e}.bar-fixed{fill:var(--LOW)}
.trend-charts{display:flex;flex-wrap:wrap;gap:1rem}
ul.trends{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,30rem),1fr));gap:.4rem 1.5rem;margin:.5rem 0 1rem;padding:0;list-style:none}
ul.trends li{display:flex;align-items:center;gap:.6rem}
ul.trends li a{flex:0 0 7rem;overflow-wrap:anywhere}
ul.trends .latest{white-space:nowrap}
svg.spark{flex:none}
svg.spark path{fill:none;stroke:var(--link);stroke-width:1.5;stroke-linejoin:round}
svg.spark circle{fill:var(--link)}
#trend-table td,#trend-table th{white-space:nowrap}
`;

const WIDTH = 600;
const LEFT = 52;
/** Room for half of the newest week's label. */
const RIGHT = 40;
const TOP = 12;
const PLOT_HEIGHT = 170;
const X_LABELS = 24;
const LEGEND = 24;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;
const HEIGHT = TOP + PLOT_HEIGHT + X_LABELS + LEGEND;
/** The narrowest spacing between two week labels (a label is about 62 px wide). */
const LABEL_SPACING = 78;

const fixed = (n: number) => n.toFixed(1);

/** A round axis maximum with four equal whole steps: 0, 15, 30, 45, 60 rather than 0, 10.5, 21, ... */
function axisMax(largest: number): number {
  const raw = Math.max(1, largest) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  return Math.max(4, Math.ceil(step) * 4);
}

interface Frame {
  slot: number;
  max: number;
  x(i: number): number;
  y(value: number): number;
}

function frameOf(weeks: number, largest: number): Frame {
  const slot = PLOT_WIDTH / Math.max(1, weeks);
  const max = axisMax(largest);
  return {
    slot,
    max,
    x: (i) => LEFT + slot * (i + 0.5),
    y: (value) => TOP + PLOT_HEIGHT - (value / max) * PLOT_HEIGHT,
  };
}

const weekWord = (n: number) => `${formatCount(n)} week${n === 1 ? '' : 's'}`;

function gapText(week: HistoryWeek): string {
  return week.gap === 'report-failed' ? `Week of ${week.week}: the report failed (every scan failed), no data` : `Week of ${week.week}: no run, no data`;
}

/** Grid lines, y labels, the gap bands and the week labels shared by both charts. */
function frameSvg(series: HistoryWeek[], frame: Frame): string {
  const parts: string[] = [];
  for (let tick = 0; tick <= 4; tick++) {
    const value = (frame.max / 4) * tick;
    const y = fixed(frame.y(value));
    parts.push(`<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y}" y2="${y}"></line>`);
    parts.push(`<text class="axis y-label" x="${LEFT - 6}" y="${fixed(frame.y(value) + 4)}" text-anchor="end">${formatCount(value)}</text>`);
  }
  series.forEach((week, i) => {
    if (!week.gap) return;
    parts.push(
      `<rect class="gap" data-week="${week.week}" data-gap="${week.gap}" x="${fixed(LEFT + frame.slot * i)}" y="${TOP}" width="${fixed(frame.slot)}" height="${PLOT_HEIGHT}"><title>${escapeHtml(gapText(week))}</title></rect>`,
    );
  });
  // Labelled back from the newest week, as far apart as a label needs.
  const every = Math.max(1, Math.ceil(LABEL_SPACING / frame.slot));
  series.forEach((week, i) => {
    if ((series.length - 1 - i) % every !== 0) return;
    parts.push(`<text class="axis x-label" x="${fixed(frame.x(i))}" y="${TOP + PLOT_HEIGHT + 16}" text-anchor="middle">${week.week}</text>`);
  });
  return parts.join('\n');
}

function legendSvg(items: { swatch: string; text: string }[]): string {
  let x = LEFT;
  const y = HEIGHT - LEGEND + 6;
  return items
    .map(({ swatch, text }) => {
      const svg = `<rect class="${swatch}" x="${x}" y="${y}" width="12" height="12"></rect><text x="${x + 16}" y="${y + 11}">${escapeHtml(text)}</text>`;
      // About 8 px per character at 12 px, upper case included.
      x += 30 + text.length * 8;
      return svg;
    })
    .join('');
}

function svgOpen(id: string, title: string, desc: string, series: HistoryWeek[]): string {
  const gaps = series.filter((w) => w.gap).length;
  return `<svg class="chart trend" id="${id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-labelledby="${id}-title ${id}-desc" data-weeks="${series.length}" data-gaps="${gaps}">
<title id="${id}-title">${escapeHtml(title)}</title>
<desc id="${id}-desc">${escapeHtml(desc)}</desc>`;
}

function span(series: HistoryWeek[]): string {
  const gaps = series.filter((w) => w.gap).length;
  return `${weekWord(series.length)} from the week of ${series[0]!.week} to the week of ${series.at(-1)!.week}${gaps ? `, ${weekWord(gaps)} without data` : ''}`;
}

/** A line per severity: one path whose segments stop at every gap, and a point per week with data. */
function severityChart(release: string, series: HistoryWeek[]): string {
  const frame = frameOf(series.length, Math.max(0, ...series.flatMap((w) => (w.entry ? SEVERITIES.map((s) => w.entry!.bySeverity[s]) : []))));
  const segments = historySegments(series);
  const latest = [...series].reverse().find((w) => w.entry)!.entry!;
  const now = SEVERITIES.map((s) => `${formatCount(latest.bySeverity[s])} ${s}`).join(', ');
  const lines = SEVERITIES.map((severity) => {
    const point = (i: number) => `${fixed(frame.x(i))} ${fixed(frame.y(series[i]!.entry!.bySeverity[severity]))}`;
    const d = segments.map((seg) => `M${seg.map(point).join(' L')}`).join(' ');
    const points = segments.flat().map((i) => {
      const week = series[i]!;
      const count = week.entry!.bySeverity[severity];
      return `<circle class="point bar-${severity}" data-week="${week.week}" cx="${fixed(frame.x(i))}" cy="${fixed(frame.y(count))}" r="2.5"><title>Week of ${week.week}: ${formatCount(count)} ${severity}</title></circle>`;
    });
    return `<g data-severity="${severity}"><path class="line line-${severity}" data-segments="${segments.length}" d="${d}"></path>${points.join('')}</g>`;
  });
  return `${svgOpen('trend-chart', `Open findings by severity per week in ${release}`, `${span(series)}. Latest: ${now}.`, series)}
${frameSvg(series, frame)}
${lines.join('\n')}
${legendSvg([...SEVERITIES.map((s) => ({ swatch: `bar-${s}`, text: s })), { swatch: 'gap', text: 'no data' }])}
</svg>`;
}

/** Two bars per week with data, new beside fixed; a zero is a hairline, a gap has no bar at all. */
function changesChart(release: string, series: HistoryWeek[]): string {
  const frame = frameOf(series.length, Math.max(0, ...series.map((w) => Math.max(w.changes?.new ?? 0, w.changes?.fixed ?? 0))));
  const width = Math.max(1, Math.min(14, frame.slot * 0.38));
  const bars = series.flatMap((week, i) => {
    if (!week.changes) return [];
    return (['new', 'fixed'] as const).map((kind) => {
      const count = week.changes![kind];
      const height = Math.max(1, (count / frame.max) * PLOT_HEIGHT);
      const x = kind === 'new' ? frame.x(i) - width - 0.5 : frame.x(i) + 0.5;
      return `<rect class="bar-${kind}" data-week="${week.week}" data-value="${count}" x="${fixed(x)}" y="${fixed(TOP + PLOT_HEIGHT - height)}" width="${fixed(width)}" height="${fixed(height)}"><title>Week of ${week.week}: ${formatCount(count)} ${kind}</title></rect>`;
    });
  });
  const totals = series.reduce((t, w) => ({ new: t.new + (w.changes?.new ?? 0), fixed: t.fixed + (w.changes?.fixed ?? 0) }), { new: 0, fixed: 0 });
  return `${svgOpen('changes-chart', `Findings new and fixed per week in ${release}`, `${span(series)}: ${formatCount(totals.new)} new and ${formatCount(totals.fixed)} fixed in all.`, series)}
${frameSvg(series, frame)}
${bars.join('\n')}
${legendSvg([
  { swatch: 'bar-new', text: 'new' },
  { swatch: 'bar-fixed', text: 'fixed' },
  { swatch: 'gap', text: 'no data' },
])}
</svg>`;
}

const cell = (n: number) => `<td class="num${n === 0 ? ' zero' : ''}">${formatCount(n)}</td>`;

/** The same numbers as text, for screen readers and for copying. */
function trendTable(series: HistoryWeek[]): string {
  const header = ['Week of', 'Runs', 'Findings', ...SEVERITIES, 'New', 'Fixed', 'Failed scans'];
  const rows = [...series].reverse().map((week) => {
    const head = `<th scope="row">${week.week}</th>${cell(week.runs)}`;
    if (!week.entry) {
      const why = week.gap === 'report-failed' ? 'report failed: every scan failed' : 'no run';
      return `<tr class="gap" data-gap="${week.gap}">${head}<td colspan="${header.length - 2}" class="muted">no data (${why})</td></tr>`;
    }
    const e = week.entry;
    return `<tr>${head}${cell(e.findings)}${SEVERITIES.map((s) => cell(e.bySeverity[s])).join('')}${cell(week.changes!.new)}${cell(week.changes!.fixed)}${cell(e.images.failed)}</tr>`;
  });
  return `<details class="trend-data"><summary>Weekly numbers</summary>
<table id="trend-table"><thead><tr>${header.map((h, i) => `<th${i ? ' class="num"' : ''}>${h}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></details>`;
}

/** The release page's trend section; empty until the release has a history. */
export function renderReleaseTrends(history: ReleaseHistory | undefined): string {
  const series = weeklySeries(history);
  if (!history || !series.some((w) => w.entry)) return '';
  const release = history.release;
  return `<section id="trends" aria-labelledby="trends-title">
<h2 id="trends-title">Trend</h2>
<p class="meta">Open findings (honoured ignores left out) by severity at each week's last run, and findings new and fixed each week, over ${span(series)}. A week without a run, or whose report failed, is a gap in the line and has no bar.</p>
<div class="trend-charts">
${severityChart(release, series)}
${changesChart(release, series)}
</div>
${trendTable(series)}
</section>`;
}

const SPARK_WIDTH = 160;
const SPARK_HEIGHT = 32;

/** A release's findings per week in a few pixels: the same breaks at gaps. */
function sparkline(id: string, release: string, series: HistoryWeek[]): string {
  const largest = Math.max(1, ...series.map((w) => w.entry?.findings ?? 0));
  const slot = SPARK_WIDTH / series.length;
  const x = (i: number) => fixed(slot * (i + 0.5));
  const y = (i: number) => fixed(SPARK_HEIGHT - 3 - ((series[i]!.entry!.findings / largest) * (SPARK_HEIGHT - 6)));
  const segments = historySegments(series);
  const d = segments.map((seg) => `M${seg.map((i) => `${x(i)} ${y(i)}`).join(' L')}`).join(' ');
  const last = segments.at(-1)!.at(-1)!;
  const gaps = series.filter((w) => w.gap).length;
  const label = `${release}: ${formatCount(series[last]!.entry!.findings)} findings in the week of ${series[last]!.week}, over ${span(series)}`;
  const gapBands = series
    .map((w, i) => (w.gap ? `<rect class="gap" data-week="${w.week}" x="${fixed(slot * i)}" y="0" width="${fixed(slot)}" height="${SPARK_HEIGHT}"></rect>` : ''))
    .join('');
  return `<svg class="spark" id="${id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}" width="${SPARK_WIDTH}" height="${SPARK_HEIGHT}" role="img" aria-label="${escapeHtml(label)}" data-weeks="${series.length}" data-gaps="${gaps}">
<title>${escapeHtml(label)}</title>${gapBands}<path data-segments="${segments.length}" d="${d}"></path><circle cx="${x(last)}" cy="${y(last)}" r="2.5"></circle></svg>`;
}

/** The index's small trend per release: findings per week, the latest count and its change over the period shown. */
export function renderIndexTrends(releases: { summary: { release: string }; history?: ReleaseHistory }[], pageOf: (release: string) => string): string {
  const items = releases.flatMap(({ summary, history }, n) => {
    const series = weeklySeries(history);
    const measured = series.filter((w) => w.entry);
    if (measured.length === 0) return [];
    const first = measured[0]!.entry!.findings;
    const latest = measured.at(-1)!.entry!.findings;
    const delta = latest - first;
    const change = measured.length > 1 ? ` <span class="muted">(${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${formatCount(Math.abs(delta))} in ${weekWord(series.length)})</span>` : '';
    return [
      `<li data-release="${escapeHtml(summary.release)}"><a href="${escapeHtml(pageOf(summary.release))}">${escapeHtml(summary.release)}</a>${sparkline(`trend-spark-${n}`, summary.release, series)}<span class="latest"><span class="num">${formatCount(latest)}</span>${change}</span></li>`,
    ];
  });
  if (items.length === 0) return '';
  return `<h2 id="trends-title">Findings per week</h2>
<ul class="trends" aria-labelledby="trends-title">
${items.join('\n')}
</ul>`;
}
