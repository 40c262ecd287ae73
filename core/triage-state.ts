import type { Severity, VexSuppression } from './finding.js';

export type { VexSuppression } from './finding.js';

/**
 * The one per-finding triage decision: what a person wrote in the previous report, what a VEX
 * statement says about the finding this run, and today's date, in; the row's state, notes and
 * whether it is ignored, out. Pure and about ONE finding, so a merge that streams rows one image
 * at a time calls it as it is; `countTriage` is its per-row counter for the summary.
 */

export const DEFAULT_STATE = 'triaged';
export const IGNORE_STATE = 'ignore';

/** What a person may have written about the finding in the previous report. */
export interface PreviousTriage {
  state: string;
  notes: string;
  /** The `ignore_expires` cell, as written (legacy reports have none). */
  ignoreExpires?: string;
}

export interface TriageState {
  state: string;
  notes: string;
  /** Written back as it was read: a person's words are never rewritten, even when unreadable. */
  ignoreExpires: string;
  /** Left out of issues, counts and critical labels: an honoured ignore (a person's or a VEX statement's). */
  ignored: boolean;
  /** A person's justified ignore whose end date has come: the finding counts again. */
  expired: boolean;
  /** The ignore was written by a VEX statement this run (not a person's). */
  vexApplied: boolean;
  /** Why what a person wrote is not honoured (ignore without justification, unreadable end date). */
  problem?: string;
  /** A VEX statement says not affected, a person's state says otherwise, and the person's wins. */
  vexDisagreement?: string;
}

/**
 * How a VEX-written ignore is told apart from a person's on the next run: by its note. A note
 * this function wrote is one line in exactly this form, and `isVexNote` recognises that form:
 *
 *   VEX <status>[ (<justification>)] [source: <source>]
 *
 * Why the note, and not a column of its own: the note is what a person edits. Any edit that
 * leaves this exact form (a word added before or after, a second line, a changed state, an end
 * date) makes the row theirs, and a person's row is never overwritten by VEX; an untouched row
 * is the tool's, rewritten from this run's statement, and returned to an open finding
 * (`triaged`, empty notes) when the statement is gone. A separate marker column could be left
 * set by a person editing only the notes in a spreadsheet, and the tool would then take their
 * words back; the note cannot disagree with itself.
 */
const VEX_NOTE = /^VEX [a-z_]+(?: \([^()\r\n]*\))? \[source: [^\r\n]*\]$/;

/** External text inside a one-line note: line breaks and runs of spaces become one space. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function vexNote(vex: VexSuppression): string {
  const status = oneLine(vex.status).toLowerCase().replace(/[^a-z_]/g, '_') || 'not_affected';
  const justification = oneLine(vex.justification).replace(/[()]/g, '');
  return `VEX ${status}${justification ? ` (${justification})` : ''} [source: ${oneLine(vex.source) || 'unknown'}]`;
}

export function isVexNote(notes: string): boolean {
  return VEX_NOTE.test(notes);
}

/** Whether the previous row is exactly what VEX wrote: ignore, a VEX note, no end date. */
function writtenByVex(previous: PreviousTriage): boolean {
  return previous.state.trim().toLowerCase() === IGNORE_STATE && isVexNote(previous.notes) && (previous.ignoreExpires ?? '').trim() === '';
}

/** Whether the previous row holds anything a person decided: a state other than the default, notes, or an end date. */
function writtenByPerson(previous: PreviousTriage): boolean {
  const state = previous.state.trim().toLowerCase();
  return (state !== '' && state !== DEFAULT_STATE) || previous.notes.trim() !== '' || (previous.ignoreExpires ?? '').trim() !== '';
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The end date of an ignore: `YYYY-MM-DD`, a real calendar day. Anything else is unreadable and
 * returns undefined (the caller flags it; it is never guessed at). Surrounding spaces are allowed.
 */
export function parseIgnoreExpires(text: string): string | undefined {
  const match = ISO_DATE.exec(text.trim());
  if (!match) return undefined;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d ? match[0] : undefined;
}

/**
 * The boundary, as Trivy's `expired_at` and DefectDojo's risk-acceptance expiration date: the
 * ignore holds on every day BEFORE the end date and has expired ON it. `ignore_expires=2026-06-30`
 * means the run of 2026-06-29 still ignores the finding and the run of 2026-06-30 counts it.
 * (Trivy parses `expired_at` as midnight UTC and expires when now is after it: the day itself
 * is already expired.) Both dates are YYYY-MM-DD, so the comparison is on the strings.
 */
export function ignoreHasExpired(endDate: string, today: string): boolean {
  return today >= endDate;
}

export const NO_JUSTIFICATION = 'state is "ignore" but notes give no justification; the finding is still reported';

export interface ResolveTriageInput {
  previous?: PreviousTriage;
  vex?: VexSuppression;
  /** The run's date, YYYY-MM-DD. */
  today: string;
}

/**
 * Precedence, highest first:
 * 1. A person's row (see `writtenByPerson`): their state and notes stand, whatever VEX says; a
 *    justified `ignore` is honoured until its end date. Where VEX says not affected and the
 *    person's row is not an honoured ignore, the disagreement is reported (summary, site).
 * 2. A VEX statement: `ignore` with a VEX note (`vexNote`).
 * 3. Nothing: the previous state if any (blank or the default), else `triaged`; a VEX-written
 *    row whose statement is gone becomes an open finding again (`triaged`, empty notes).
 */
export function resolveTriageState(input: ResolveTriageInput): TriageState {
  const { previous, vex, today } = input;
  if (!previous || !writtenByPerson(previous) || writtenByVex(previous)) {
    if (vex) return { state: IGNORE_STATE, notes: vexNote(vex), ignoreExpires: '', ignored: true, expired: false, vexApplied: true };
    const keptState = previous && !writtenByVex(previous) && previous.state.trim() ? previous.state : DEFAULT_STATE;
    return { state: keptState, notes: '', ignoreExpires: '', ignored: false, expired: false, vexApplied: false };
  }

  const state = previous.state.trim() ? previous.state : DEFAULT_STATE;
  const notes = previous.notes;
  const ignoreExpires = previous.ignoreExpires ?? '';
  const ignoreWritten = state.trim().toLowerCase() === IGNORE_STATE;
  const justified = notes.trim() !== '';
  const endDate = ignoreExpires.trim() === '' ? undefined : parseIgnoreExpires(ignoreExpires);
  const unreadable = ignoreExpires.trim() !== '' && endDate === undefined;

  const problems: string[] = [];
  if (ignoreWritten && !justified) problems.push(NO_JUSTIFICATION);
  if (unreadable) {
    problems.push(`ignore_expires ${JSON.stringify(ignoreExpires)} is not a date (YYYY-MM-DD)${ignoreWritten ? '; the ignore is not honoured and the finding is still reported' : ''}`);
  }
  const expired = ignoreWritten && justified && endDate !== undefined && ignoreHasExpired(endDate, today);
  const ignored = ignoreWritten && justified && !unreadable && !expired;

  const result: TriageState = { state, notes, ignoreExpires, ignored, expired, vexApplied: false };
  if (problems.length > 0) result.problem = problems.join('; ');
  if (vex && !ignored) {
    const why = expired ? `its ignore expired on ${endDate}` : `its state is "${oneLine(state)}"`;
    result.vexDisagreement = `${vexNote(vex)} says the image is not affected, but the row was written by a person and ${why}: the person's decision wins and the finding is reported`;
  }
  return result;
}

/**
 * What the merge decided for a row it wrote on `date`, from the row's own cells: a VEX-written
 * row is exactly what `writtenByVex` recognises (the merge rewrites or resets every other
 * one), and a person's row follows the person's rules. Only the disagreement with a VEX
 * statement cannot be read back from the row; the summary lists those.
 */
export function writtenRowTriage(row: PreviousTriage, date: string): { ignored: boolean; expired: boolean; vexApplied: boolean } {
  if (writtenByVex(row)) return { ignored: true, expired: false, vexApplied: true };
  const triage = resolveTriageState({ previous: row, today: date });
  return { ignored: triage.ignored, expired: triage.expired, vexApplied: false };
}

/** A row named in the summary's lists. */
export interface TriageListEntry {
  image: string;
  packageName: string;
  vulnerabilityId: string;
  severity: Severity;
  detail: string;
}

/** The summary's new counters; one row at a time, so a streaming merge feeds them as it goes. */
export interface TriageCounts {
  /** Honoured ignores written by a VEX statement this run (also counted in `ignored`). */
  vexIgnored: number;
  expiredIgnores: TriageListEntry[];
  vexDisagreements: TriageListEntry[];
}

export function emptyTriageCounts(): TriageCounts {
  return { vexIgnored: 0, expiredIgnores: [], vexDisagreements: [] };
}

export interface CountedRow {
  image: string;
  packageName: string;
  vulnerabilityId: string;
  severity: Severity;
  ignoreExpires?: string;
  ignoreExpired?: boolean;
  vexApplied?: boolean;
  vexDisagreement?: string;
}

export function countTriage(acc: TriageCounts, row: CountedRow): TriageCounts {
  const entry = (detail: string): TriageListEntry => ({ image: row.image, packageName: row.packageName, vulnerabilityId: row.vulnerabilityId, severity: row.severity, detail });
  if (row.vexApplied) acc.vexIgnored++;
  if (row.ignoreExpired) acc.expiredIgnores.push(entry(`ignore expired on ${(row.ignoreExpires ?? '').trim()}`));
  if (row.vexDisagreement) acc.vexDisagreements.push(entry(row.vexDisagreement));
  return acc;
}
