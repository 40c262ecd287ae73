import { createHash } from 'node:crypto';
import { safeHttpUrl } from './markdown.js';

/** The page shell, escaping and links shared by every page of the static site. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** An external link when the URL is http(s), plain text otherwise: a `javascript:` URL never becomes a link. */
export function linkOrText(text: string, url: string): string {
  const safe = safeHttpUrl(url);
  return safe ? `<a href="${escapeHtml(safe)}" rel="noopener noreferrer">${escapeHtml(text)}</a>` : escapeHtml(text);
}

/** A link to another page of the site; `file` is always one of our own generated, path-free names. */
export function siteLink(text: string, file: string): string {
  return `<a href="${escapeHtml(file)}">${escapeHtml(text)}</a>`;
}

const NOTE_URL = /(https?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]])/i;

/** Notes often point at upstream issues: those URLs become links, everything else stays text. */
export function notesHtml(notes: string): string {
  return notes
    .split(NOTE_URL)
    .map((part, i) => (i % 2 === 1 ? linkOrText(part, part) : escapeHtml(part)))
    .join('');
}

export function badge(kind: string, text: string): string {
  return `<span class="badge ${kind}">${escapeHtml(text)}</span>`;
}

export function imageBadges(image: { mirrored: boolean; windows: boolean }): string {
  return (image.mirrored ? badge('mirrored', 'mirrored') : '') + (image.windows ? badge('windows', 'windows') : '');
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** ISO timestamps read as `2025-01-13 09:00 UTC`; anything else is shown as given. */
export function timeHtml(value: string | undefined): string {
  if (!value) return '<span class="muted">unknown</span>';
  const date = new Date(value);
  const shown = Number.isNaN(date.getTime()) ? value : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<time datetime="${escapeHtml(value)}">${escapeHtml(shown)}</time>`;
}

/**
 * JSON inside `<script type="application/json">`. Every `<` becomes `\u003c`, so no
 * string in the data can close the script element or open a comment; the line
 * separators are escaped too so the text is also valid JavaScript.
 */
export function embedJson(id: string, value: unknown): string {
  return embedJsonText(id, scriptSafeJson(JSON.stringify(value)));
}

/** JSON text made safe inside a script element; char by char, so pieces of a text can be made safe one at a time. */
export function scriptSafeJson(json: string): string {
  return json.replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A script element around JSON text already made safe (`scriptSafeJson`). */
export function embedJsonText(id: string, safeJson: string): string {
  return `<script type="application/json" id="${escapeHtml(id)}">${safeJson}</script>`;
}

/**
 * A short stable hash (cyrb53) for file names: deterministic output keeps the
 * published site's diffs quiet, and distinct images never share a page.
 */
export function shortHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Nothing loads from outside the page, and only our own inline script and style
 * (pinned by hash) may run: markup that slipped into the data still could not
 * execute an event handler or fetch anything.
 */
function contentSecurityPolicy(style: string, scripts: string[]): string {
  const scriptSrc = scripts.length ? scripts.map(sha256).join(' ') : "'none'";
  return `default-src 'none'; script-src ${scriptSrc}; style-src ${sha256(style)}; img-src data:; base-uri 'none'; form-action 'none'`;
}

export interface PageParts {
  title: string;
  body: string;
  /** Inline scripts, run at the end of the body in this order. */
  scripts?: string[];
}

export function renderPage(style: string, { title, body, scripts = [] }: PageParts): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(style, scripts))}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${style}</style></head>
<body>
${body}
${scripts.map((s) => `<script>${s}</script>`).join('\n')}
</body></html>
`;
}
