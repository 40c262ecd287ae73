import { SEVERITIES } from '../finding.js';
import { IGNORE_STATE, type TriagedFinding } from '../triage.js';
import { safeHttpUrl } from './markdown.js';
import { embedJsonText, escapeHtml, scriptSafeJson } from './site-page.js';

/**
 * The release page's findings table. Tens of thousands of rows are too many for
 * the DOM, so the rows travel as JSON and a small inline script renders one page
 * of them at a time, filtering and sorting the data rather than the DOM.
 */

/** How a row is highlighted; the renderer decides, the script only applies the class. */
export type FindingMark = 'ignored' | 'ignore-expired' | 'invalid-ignore' | 'vex-disagreement' | 'waiting' | '';

export function findingMark(row: Pick<TriagedFinding, 'ignored' | 'state' | 'ignoreExpired' | 'vexDisagreement'>): FindingMark {
  const state = row.state.trim().toLowerCase();
  if (row.ignored) return 'ignored';
  if (row.ignoreExpired) return 'ignore-expired';
  if (state === IGNORE_STATE) return 'invalid-ignore';
  if (row.vexDisagreement) return 'vex-disagreement';
  if (state === 'waiting') return 'waiting';
  return '';
}

/** Field order of a row in the embedded data; the script looks fields up by these names. */
export const TABLE_FIELDS = ['image', 'package', 'installed', 'fixed', 'id', 'url', 'severity', 'state', 'notes', 'title', 'mark'] as const;

/** `[name, page, mirrored, windows]`: each image once, rows refer to it by index. */
export type TableImage = [string, string, 0 | 1, 0 | 1];
export type TableRow = [number, string, string, string, string, string, string, string, string, string, FindingMark];

export interface TableData {
  fields: typeof TABLE_FIELDS;
  severities: typeof SEVERITIES;
  states: string[];
  images: TableImage[];
  rows: TableRow[];
}

/** The table's data without its rows: what the page says before them, known once every row was added. */
export interface TableFrame {
  total: number;
  states: string[];
  images: TableImage[];
}

/**
 * The table's data built a row at a time, so a release's rows are read once and never held as
 * findings. Given `onRow`, each row leaves at once as its JSON (`tableRowJson`) and only the
 * frame is kept: the release page is then written around rows streamed to a file.
 */
export class FindingsTableBuilder {
  private readonly images: TableImage[] = [];
  private readonly imageIndex = new Map<string, number>();
  private readonly states = new Set<string>();
  private readonly rows: TableRow[] = [];
  private total = 0;

  constructor(
    private readonly imagePage: (image: string) => string,
    private readonly onRow?: (json: string) => void,
  ) {}

  add(row: TriagedFinding): void {
    let index = this.imageIndex.get(row.image);
    if (index === undefined) {
      index = this.images.push([row.image, this.imagePage(row.image), row.mirrored ? 1 : 0, row.windows ? 1 : 0]) - 1;
      this.imageIndex.set(row.image, index);
    }
    this.states.add(row.state);
    // Only an http(s) URL reaches the page; anything else is dropped here, not in the browser.
    const url = safeHttpUrl(row.url) ?? '';
    const tableRow: TableRow = [index, row.packageName, row.installedVersion, row.fixedVersion, row.vulnerabilityId, url, row.severity, row.state, row.notes, row.title, findingMark(row)];
    this.total++;
    if (this.onRow) this.onRow(tableRowJson(tableRow));
    else this.rows.push(tableRow);
  }

  frame(): TableFrame {
    return { total: this.total, states: [...this.states].sort(), images: this.images };
  }

  /** Every row too: only for a builder without `onRow`. */
  data(): TableData {
    return { fields: TABLE_FIELDS, severities: SEVERITIES, states: [...this.states].sort(), images: this.images, rows: this.rows };
  }
}

/** A row as it stands in the page's JSON, safe inside the script element. */
export function tableRowJson(row: TableRow): string {
  return scriptSafeJson(JSON.stringify(row));
}

/** Where the rows go in `findingsTableFrameHtml`: NULs never reach a page from escaped text. */
export const ROWS_SLOT = '\u0000findings-rows\u0000';

export function findingsTableData(rows: Iterable<TriagedFinding>, imagePage: (image: string) => string): TableData {
  const builder = new FindingsTableBuilder(imagePage);
  for (const row of rows) builder.add(row);
  return builder.data();
}

const COLUMNS: [key: string, label: string][] = [
  ['image', 'Image'],
  ['package', 'Package'],
  ['installed', 'Installed'],
  ['fixed', 'Fixed'],
  ['id', 'Vulnerability'],
  ['severity', 'Severity'],
  ['state', 'State'],
  ['notes', 'Notes'],
  ['title', 'Title'],
];

function filtersHtml(): string {
  const severities = SEVERITIES.map(
    (s) => `<label class="sev-filter"><input type="checkbox" name="severity" value="${s}" checked> <span class="sev sev-${s}">${s}</span> <span class="count" data-severity="${s}"></span></label>`,
  ).join('\n');
  return `<form id="filters" role="search">
<label>Search <input type="search" name="q" placeholder="CVE, package, image, notes…" autocomplete="off"></label>
<label>Image <select name="image"><option value="">all images</option></select></label>
<label>State <select name="state"><option value="">any state</option></select></label>
<label><input type="checkbox" name="fix"> fix available</label>
<fieldset><legend>Severity</legend>
${severities}
</fieldset>
<button type="reset">Clear filters</button>
</form>`;
}

function pagerHtml(): string {
  return `<div class="toolbar">
<p id="match-count" aria-live="polite">Loading findings…</p>
<nav id="pager" aria-label="Pages of findings">
<button type="button" data-page="first">« First</button><button type="button" data-page="prev">‹ Previous</button>
<span id="page-status"></span>
<button type="button" data-page="next">Next ›</button><button type="button" data-page="last">Last »</button>
<label>Rows per page <select id="page-size"><option>100</option><option>250</option><option>1000</option></select></label>
</nav>
</div>`;
}

/**
 * The controls, the empty table the script fills, and the data it reads, with `ROWS_SLOT` where
 * the rows' JSON goes (comma-separated `tableRowJson`s): `JSON.stringify` of the whole data,
 * written in pieces.
 */
export function findingsTableFrameHtml(frame: TableFrame): string {
  const head = COLUMNS.map(([key, label]) => `<th data-key="${key}" aria-sort="none"><button type="button">${escapeHtml(label)}</button></th>`).join('');
  const before = JSON.stringify({ fields: TABLE_FIELDS, severities: SEVERITIES, states: frame.states, images: frame.images });
  return `${filtersHtml()}
${pagerHtml()}
<p class="legend">Rows: <span class="swatch ignored">ignored (justified in notes)</span> <span class="swatch waiting">waiting</span> <span class="swatch invalid-ignore">ignore without justification or with an unreadable end date: still counted</span> <span class="swatch ignore-expired">ignore expired: counted again</span> <span class="swatch vex-disagreement">VEX says not affected, a person's state wins</span></p>
<table id="findings" data-total="${frame.total}"><thead><tr>${head}</tr></thead><tbody></tbody></table>
<noscript><p class="alert">The findings table needs JavaScript. Every finding is also in the CSV linked above.</p></noscript>
${embedJsonText('findings-data', `${scriptSafeJson(before.slice(0, -1))},"rows":[${ROWS_SLOT}]}`)}`;
}

/**
 * Runs in the browser. Plain ES2017 with no dependencies; text reaches the DOM
 * only through textContent and attributes, never as markup.
 */
export const FINDINGS_TABLE_SCRIPT = String.raw`(function () {
  'use strict';
  var table = document.getElementById('findings');
  var tbody = table.tBodies[0];
  var form = document.getElementById('filters');
  var countLine = document.getElementById('match-count');
  var pageStatus = document.getElementById('page-status');
  var pageSizeSelect = document.getElementById('page-size');
  var data = JSON.parse(document.getElementById('findings-data').textContent);
  var rows = data.rows;
  var images = data.images;
  var F = {};
  data.fields.forEach(function (name, i) { F[name] = i; });
  var rank = {};
  data.severities.forEach(function (s, i) { rank[s] = i; });
  var natural = rows.map(function (_, i) { return i; });
  var view = { order: natural, visible: natural, page: 0, pageSize: 100, sortKey: '', sortDir: 1 };
  var haystacks = null;
  var numbers = new Intl.NumberFormat('en-US');
  var HTTP_URL = /^https?:\/\//i;
  var NOTE_URL = /(https?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]])/i;
  var PAGE_FILE = /^[\w.-]+\.html$/;
  var MARK_TEXT = { ignored: 'ignored', 'invalid-ignore': 'not honoured: no justification or unreadable end date', 'ignore-expired': 'ignore expired', 'vex-disagreement': 'VEX disagrees' };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function externalLink(text, url) {
    var a = el('a', '', text);
    a.setAttribute('href', url);
    a.rel = 'noopener noreferrer';
    return a;
  }

  function imageCell(row) {
    var image = images[row[F.image]];
    var td = el('td', 'image');
    if (PAGE_FILE.test(image[1])) {
      var a = el('a', '', image[0]);
      a.setAttribute('href', image[1]);
      td.appendChild(a);
    } else {
      td.textContent = image[0];
    }
    if (image[2]) td.appendChild(el('span', 'badge mirrored', 'mirrored'));
    if (image[3]) td.appendChild(el('span', 'badge windows', 'windows'));
    return td;
  }

  function notesCell(notes) {
    var td = el('td', 'notes');
    notes.split(NOTE_URL).forEach(function (part, i) {
      if (i % 2 === 1) td.appendChild(externalLink(part, part));
      else if (part) td.appendChild(document.createTextNode(part));
    });
    return td;
  }

  function renderRow(row) {
    var tr = el('tr', row[F.mark]);
    tr.appendChild(imageCell(row));
    tr.appendChild(el('td', 'package', row[F.package]));
    tr.appendChild(el('td', 'version', row[F.installed]));
    tr.appendChild(el('td', 'version fixed', row[F.fixed]));
    var id = el('td', 'vulnerability');
    var url = row[F.url];
    id.appendChild(url && HTTP_URL.test(url) ? externalLink(row[F.id], url) : document.createTextNode(row[F.id]));
    tr.appendChild(id);
    tr.appendChild(el('td', 'severity')).appendChild(el('span', 'sev sev-' + row[F.severity], row[F.severity]));
    var state = el('td', 'state', row[F.state]);
    if (MARK_TEXT[row[F.mark]]) state.appendChild(el('span', 'badge ' + row[F.mark], MARK_TEXT[row[F.mark]]));
    tr.appendChild(state);
    tr.appendChild(notesCell(row[F.notes]));
    tr.appendChild(el('td', 'title', row[F.title]));
    return tr;
  }

  function fillSelect(select, labels) {
    labels.forEach(function (label, i) {
      var option = el('option', '', label);
      option.value = String(i);
      select.appendChild(option);
    });
  }

  // Built on first use: the first render must not pay for text search.
  function haystack(i) {
    if (!haystacks) {
      haystacks = rows.map(function (r) {
        return [images[r[F.image]][0], r[F.package], r[F.installed], r[F.fixed], r[F.id], r[F.severity], r[F.state], r[F.notes], r[F.title]].join('\n').toLowerCase();
      });
    }
    return haystacks[i];
  }

  function readFilters() {
    var severities = {};
    Array.prototype.forEach.call(form.querySelectorAll('input[name=severity]'), function (box) { severities[box.value] = box.checked; });
    var image = form.elements.image.value;
    var state = form.elements.state.value;
    return {
      terms: form.elements.q.value.toLowerCase().split(/\s+/).filter(Boolean),
      image: image === '' ? -1 : Number(image),
      state: state === '' ? null : data.states[Number(state)],
      fixOnly: form.elements.fix.checked,
      severities: severities
    };
  }

  function matchesText(i, terms) {
    var text = haystack(i);
    for (var t = 0; t < terms.length; t++) if (text.indexOf(terms[t]) === -1) return false;
    return true;
  }

  // Severity counts ignore the severity filter itself, so each box says what ticking it would add.
  function applyFilters() {
    var f = readFilters();
    var counts = {};
    data.severities.forEach(function (s) { counts[s] = 0; });
    var visible = [];
    for (var n = 0; n < view.order.length; n++) {
      var i = view.order[n];
      var r = rows[i];
      if (f.image !== -1 && r[F.image] !== f.image) continue;
      if (f.state !== null && r[F.state] !== f.state) continue;
      if (f.fixOnly && !r[F.fixed]) continue;
      if (f.terms.length && !matchesText(i, f.terms)) continue;
      counts[r[F.severity]]++;
      if (f.severities[r[F.severity]]) visible.push(i);
    }
    Array.prototype.forEach.call(form.querySelectorAll('.count[data-severity]'), function (span) {
      span.textContent = '(' + numbers.format(counts[span.getAttribute('data-severity')]) + ')';
    });
    view.visible = visible;
    view.page = 0;
    render();
  }

  function sortKeys(key) {
    if (key === 'image') return rows.map(function (r) { return images[r[F.image]][0]; });
    if (key === 'severity') return rows.map(function (r) { return rank[r[F.severity]]; });
    var field = F[key];
    return rows.map(function (r) { return r[field]; });
  }

  function sortBy(key) {
    view.sortDir = view.sortKey === key ? -view.sortDir : 1;
    view.sortKey = key;
    var keys = sortKeys(key);
    var dir = view.sortDir;
    // Ties keep the report's own order (image, severity, id), whichever way the column runs.
    view.order = natural.slice().sort(function (a, b) {
      var x = keys[a];
      var y = keys[b];
      return x < y ? -dir : x > y ? dir : a - b;
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.setAttribute('aria-sort', th.getAttribute('data-key') !== key ? 'none' : dir === 1 ? 'ascending' : 'descending');
    });
    applyFilters();
  }

  function describeCount(start, end) {
    var total = numbers.format(rows.length);
    var matching = view.visible.length;
    if (matching === 0) return 'No findings match these filters (' + total + ' in this release).';
    var range = 'Showing ' + numbers.format(start + 1) + '–' + numbers.format(end) + ' of ';
    if (matching === rows.length) return range + total + ' findings.';
    return range + numbers.format(matching) + ' matching findings (' + total + ' in this release).';
  }

  function render() {
    var pages = Math.max(1, Math.ceil(view.visible.length / view.pageSize));
    view.page = Math.min(Math.max(view.page, 0), pages - 1);
    var start = view.page * view.pageSize;
    var end = Math.min(start + view.pageSize, view.visible.length);
    var fragment = document.createDocumentFragment();
    for (var n = start; n < end; n++) fragment.appendChild(renderRow(rows[view.visible[n]]));
    if (end === start) {
      var empty = el('td', '', rows.length ? 'No finding matches these filters.' : 'No findings in this release.');
      empty.colSpan = table.tHead.rows[0].cells.length;
      fragment.appendChild(el('tr', 'empty')).appendChild(empty);
    }
    tbody.replaceChildren(fragment);
    countLine.textContent = describeCount(start, end);
    countLine.setAttribute('data-matching', String(view.visible.length));
    pageStatus.textContent = 'Page ' + numbers.format(view.page + 1) + ' of ' + numbers.format(pages);
    var buttons = document.querySelectorAll('#pager button');
    Array.prototype.forEach.call(buttons, function (b) {
      var forward = b.getAttribute('data-page') === 'next' || b.getAttribute('data-page') === 'last';
      b.disabled = forward ? view.page >= pages - 1 : view.page === 0;
    });
  }

  function goTo(which) {
    var last = Math.ceil(view.visible.length / view.pageSize) - 1;
    view.page = which === 'first' ? 0 : which === 'prev' ? view.page - 1 : which === 'next' ? view.page + 1 : last;
    render();
  }

  var typing = 0;
  form.addEventListener('input', function (event) {
    clearTimeout(typing);
    // Typing waits for a pause; every other control answers at once.
    if (event.target.name === 'q') typing = setTimeout(applyFilters, 150);
    else applyFilters();
  });
  form.addEventListener('submit', function (event) { event.preventDefault(); applyFilters(); });
  form.addEventListener('reset', function () { setTimeout(applyFilters, 0); });
  table.tHead.addEventListener('click', function (event) {
    var th = event.target.closest('th[data-key]');
    if (th) sortBy(th.getAttribute('data-key'));
  });
  document.getElementById('pager').addEventListener('click', function (event) {
    var button = event.target.closest('button[data-page]');
    if (button) goTo(button.getAttribute('data-page'));
  });
  pageSizeSelect.addEventListener('change', function () {
    view.pageSize = Number(pageSizeSelect.value);
    view.page = 0;
    render();
  });

  fillSelect(form.elements.image, images.map(function (image) { return image[0]; }));
  fillSelect(form.elements.state, data.states);
  applyFilters();
  table.setAttribute('data-ready', 'true');
  table.setAttribute('data-ready-ms', String(Math.round(performance.now())));
})();
`;
