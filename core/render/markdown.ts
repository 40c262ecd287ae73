import { SEVERITIES } from '../finding.js';
import type { DesiredIssue, IssueFinding } from '../issue.js';
import { TRIAGE_HELP } from '../triage-command.js';

/** GitHub refuses issue bodies over this many characters. */
export const GITHUB_BODY_LIMIT = 65_536;

/** The hidden marker that ties an issue to its image, whatever its title becomes. */
export function issueMarker(image: string): string {
  return `<!-- image-scanning:image=${image.replace(/--/g, '-\u200b-')} -->`;
}

export function readIssueMarker(body: string | null | undefined): string | undefined {
  const match = /<!-- image-scanning:image=(.+?) -->/.exec(body ?? '');
  return match ? match[1]!.replace(/-\u200b-/g, '--') : undefined;
}

/** Escapes text for a Markdown table cell: no table breaks, no HTML, no links, no @mentions. */
export function escapeMarkdownCell(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/([\\`*_[\]|~])/g, '\\$1')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/#(?=\d)/g, '#&#8203;')
    .replace(/@(?=[\w-])/g, '@&#8203;');
}

export function safeHttpUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function link(text: string, url: string): string {
  const safe = safeHttpUrl(url);
  if (!safe) return text;
  return `[${text}](${safe.replace(/[()\s<>|`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)})`;
}

export interface IssueBodyOptions {
  /** Where the full report lives, named when the table is cut short. */
  reportLink?: string;
  /** The image's page on the published site, where notes cut short here are whole. */
  imagePageUrl?: (image: string) => string | undefined;
  limit?: number;
}

/** Notes longer than this are cut in the issue; the CSV and the site keep them whole. */
export const ISSUE_NOTES_LIMIT = 200;

/** The state people gave the finding: one word when all releases agree, else per release. */
function stateCell(f: IssueFinding): string {
  const byState = new Map<string, string[]>();
  for (const t of f.triage) byState.set(t.state, [...(byState.get(t.state) ?? []), t.release]);
  if (byState.size <= 1) return escapeMarkdownCell([...byState.keys()][0] ?? '');
  return [...byState].map(([state, releases]) => `${escapeMarkdownCell(state)} in ${releases.map(escapeMarkdownCell).join(', ')}`).join('; ');
}

function notesCell(f: IssueFinding, image: string, options: IssueBodyOptions): string {
  const notes = [...new Set(f.triage.map((t) => t.notes.trim()).filter((n) => n !== ''))].join(' / ');
  if (notes.length <= ISSUE_NOTES_LIMIT) return escapeMarkdownCell(notes);
  // Cut at a character, not inside a surrogate pair, then escape what is left.
  const cut = escapeMarkdownCell(Array.from(notes).slice(0, ISSUE_NOTES_LIMIT).join('').trimEnd());
  const page = options.imagePageUrl?.(image);
  return `${cut}… ${page ? link('(all notes)', page) : '(all notes in the release CSV)'}`;
}

/** Ignored (with a justification) in some of the image's releases but not in all. */
function partlyIgnored(f: IssueFinding): boolean {
  return f.triage.some((t) => t.ignored) && f.triage.some((t) => !t.ignored);
}

/** Renders the issue body from the desired state; rows beyond GitHub's limit are replaced by a pointer. */
export function renderIssueBody(issue: DesiredIssue, options: IssueBodyOptions = {}): string {
  const limit = options.limit ?? GITHUB_BODY_LIMIT;
  const counts = SEVERITIES.filter((s) => issue.counts[s] > 0).map((s) => `${issue.counts[s]} ${s}`);
  const partial = issue.findings.filter(partlyIgnored).length;
  const head = [
    issueMarker(issue.image),
    `**${escapeMarkdownCell(issue.image)}**: ${issue.findings.length} vulnerabilit${issue.findings.length === 1 ? 'y' : 'ies'}` +
      (counts.length ? ` (${counts.join(', ')})` : '') +
      (issue.ignored > 0 ? `; ${issue.ignored} ignored in every release and not listed` : '') +
      (partial > 0 ? `; ${partial} ignored in some releases but not all (see State)` : '') +
      '.',
    '',
    `Releases: ${issue.releases.map((r) => escapeMarkdownCell(issue.releaseCommits?.[r] ? `${r} at ${issue.releaseCommits[r]}` : r)).join(', ') || 'none'}`,
    `Projects: ${issue.projects.map(escapeMarkdownCell).join(', ') || 'none'}`,
    '',
    '| Vulnerability | Severity | Package | Installed | Fixed | Title | State | Notes |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ].join('\n');
  const rows = issue.findings.map((f) =>
    [
      '',
      escapeMarkdownCell(f.vulnerabilityId),
      f.severity,
      escapeMarkdownCell(f.packageName),
      escapeMarkdownCell(f.installedVersion),
      escapeMarkdownCell(f.fixedVersion),
      link(escapeMarkdownCell(f.title || f.vulnerabilityId), f.url),
      stateCell(f),
      notesCell(f, issue.image, options),
      '',
    ].join(' | ').trim(),
  );
  const footer = `\n\n_This issue is maintained by image-scanning; edits to this body are overwritten on the next run._\n\n${TRIAGE_HELP}`;
  const where = options.reportLink ? ` See the full report: ${options.reportLink}` : ' See the release CSV for the full list.';
  const omitted = (n: number) => `\n\n**${n} more findings are not shown here (GitHub limits issue bodies to ${limit} characters).**${where}`;
  let body = head;
  let shown = 0;
  for (const row of rows) {
    // Room for the pointer to what is left out, unless this is the last row.
    const reserve = shown + 1 < rows.length ? omitted(rows.length).length : 0;
    if (body.length + 1 + row.length + reserve + footer.length > limit) break;
    body += `\n${row}`;
    shown++;
  }
  if (shown < rows.length) body += omitted(rows.length - shown);
  return body + footer;
}
