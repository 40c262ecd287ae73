/** The bot's one reply to a triage comment: what could not be applied and why, every quoted word escaped. */
import { escapeMarkdownCell, safeHttpUrl } from './render/markdown.js';

/** Hidden in every reply: a reply is never read as a command, and a retry finds it instead of replying twice. */
export const REPLY_MARKER = '<!-- image-scanning:triage-reply';

/** `version` is the comment's version as the triage cursor knows it (its update time and its body's hash). */
export function replyMarker(commentId: number, version: string): string {
  return `${REPLY_MARKER} comment=${commentId} edited=${version.replace(/[^0-9A-Za-z:.+ -]/g, '')} -->`;
}

/** Whether a comment is one of the bot's replies (its marker), whoever posted it. */
export function isTriageReply(body: string): boolean {
  return body.includes(REPLY_MARKER);
}

/** How many of an image's known ids a reply lists. */
export const KNOWN_IDS_SHOWN = 20;

export type ReplyProblem =
  | { kind: 'permission' }
  | { kind: 'syntax'; line: number; source: string; message: string }
  | { kind: 'unknown-id'; line: number; id: string; release?: string; known: string[] }
  | { kind: 'unknown-release'; line: number; release: string; releases: string[] }
  | { kind: 'csv-wins'; line: number; id: string; release: string };

/** External text as inline text of a reply: no Markdown, HTML, @mentions or #refs can come alive. */
export function escapeReplyText(text: string): string {
  return escapeMarkdownCell(text).replace(/#(?=[A-Za-z])/g, '#&#8203;');
}

function listIds(ids: string[]): string {
  if (ids.length === 0) return 'none: no finding of this image is in the reports';
  const shown = ids.slice(0, KNOWN_IDS_SHOWN).map(escapeReplyText).join(', ');
  return ids.length > KNOWN_IDS_SHOWN ? `${shown} (and ${ids.length - KNOWN_IDS_SHOWN} more)` : shown;
}

function problemLine(p: ReplyProblem): string {
  switch (p.kind) {
    case 'permission':
      return '- Only people with write, maintain or admin permission on this repository, or members of the triage team, can triage here, so nothing was changed. A maintainer can repeat the command.';
    case 'syntax':
      return `- line ${p.line} (${escapeReplyText(p.source)}): ${escapeReplyText(p.message)}`;
    case 'unknown-id':
      return `- line ${p.line}: ${escapeReplyText(p.id)} is not a finding of this image${p.release ? ` in ${escapeReplyText(p.release)}` : ''}. Its known ids: ${listIds(p.known)}`;
    case 'unknown-release':
      return `- line ${p.line}: this image is not in a release named ${escapeReplyText(p.release)}; its releases: ${p.releases.map(escapeReplyText).join(', ') || 'none'}`;
    case 'csv-wins':
      return `- line ${p.line}: the row of ${escapeReplyText(p.id)} in ${escapeReplyText(p.release)} was edited in the CSV after this comment was made; the CSV stays the record, so its state and notes were kept`;
  }
}

/** The reply's Markdown; `applied` counts the command lines that were applied despite the problems. */
export function renderTriageReply(input: { commentId: number; version: string; commentUrl: string; problems: ReplyProblem[]; applied: number }): string {
  const link = safeHttpUrl(input.commentUrl);
  const where = link ? `[this comment](${link.replace(/[()\s<>]/g, encodeURIComponent)})` : 'this comment';
  const lead = input.applied > 0 ? `Some commands of ${where} were applied (👍); these were not:` : `The commands of ${where} could not be applied:`;
  return [replyMarker(input.commentId, input.version), lead, '', ...input.problems.map(problemLine), '', 'Grammar: `/cve ignore|waiting|note|reopen CVE-… [until YYYY-MM-DD] [in vX.Y.Z] <text>` (see the help at the foot of the issue).'].join('\n');
}
