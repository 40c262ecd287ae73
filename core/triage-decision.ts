/** What a triage command does to a CSV row, who may give one, and when the CSV wins over it. */
import type { TriageCommand } from './triage-command.js';
import { DEFAULT_STATE, IGNORE_STATE } from './triage-state.js';

/** The three cells a command changes. */
export interface RowTriage {
  state: string;
  notes: string;
  ignoreExpires: string;
}

/** Who wrote the command, when, and where: recorded in the note. */
export interface CommandOrigin {
  login: string;
  /** The comment's last edit, ISO time. */
  at: string;
  url: string;
}

/** GitHub's collaborator permission answer, and whether the person is in the configured triage team. */
export interface Permission {
  /** `permission` of the collaborator permission endpoint: admin, write, read or none. */
  permission?: string;
  /** `role_name`: admin, maintain, write, triage, read or a custom role. */
  roleName?: string;
  teamMember?: boolean;
}

const TRIAGING_ROLES = new Set(['admin', 'maintain', 'write']);

/** Write, maintain or admin on the issues repository, or membership of the triage team. */
export function mayTriage(p: Permission): boolean {
  return TRIAGING_ROLES.has((p.permission ?? '').toLowerCase()) || TRIAGING_ROLES.has((p.roleName ?? '').toLowerCase()) || p.teamMember === true;
}

/** A login as it is recorded in a note: GitHub's own characters only. */
function safeLogin(login: string): string {
  return login.replace(/[^A-Za-z0-9-[\]]/g, '') || 'unknown';
}

/** The note line one command leaves: `waiting: upstream fix (@alice, 2026-12-05, <url>)`. The text is kept raw, on one line. */
export function commandNote(command: TriageCommand, origin: CommandOrigin): string {
  const text = command.text.replace(/\s+/g, ' ').trim();
  const what = command.verb === 'reopen' ? `reopened${text ? `: ${text}` : ''}` : `${command.verb === 'note' ? 'note' : command.verb}: ${text}`;
  return `${what} (@${safeLogin(origin.login)}, ${origin.at.slice(0, 10)}, ${origin.url})`;
}

/** The comment's own lines in a row's notes: the lines that end with its link. */
function withoutLinesOf(notes: string, url: string): string[] {
  const tail = `, ${url})`;
  return notes === '' ? [] : notes.split('\n').filter((line) => !line.endsWith(tail));
}

/**
 * The row after a command, as a person's edit would leave it. A comment's earlier note line is
 * replaced (an edited comment is read again), so applying the same command twice changes nothing.
 * All commands of one comment that touch the row are given together, in order.
 */
export function applyCommands(row: RowTriage, commands: TriageCommand[], origin: CommandOrigin): RowTriage {
  const lines = withoutLinesOf(row.notes, origin.url);
  let { state, ignoreExpires } = row;
  for (const command of commands) {
    lines.push(commandNote(command, origin));
    if (command.verb === 'ignore') {
      state = IGNORE_STATE;
      ignoreExpires = command.until ?? '';
    } else if (command.verb === 'waiting') {
      state = 'waiting';
      ignoreExpires = '';
    } else if (command.verb === 'reopen') {
      state = DEFAULT_STATE;
      ignoreExpires = '';
    }
  }
  return { state, notes: lines.join('\n'), ignoreExpires };
}

export const sameTriage = (a: RowTriage, b: RowTriage) => a.state === b.state && a.notes === b.notes && a.ignoreExpires === b.ignoreExpires;

export type RowOutcome = { kind: 'apply'; row: RowTriage } | { kind: 'already' } | { kind: 'csv-wins' };

/**
 * Precedence against the CSV. `now` is the row as the CSV holds it; `base` is the row as the
 * last triage pass left it (before this comment could be read). A row already as the command
 * leaves it was applied (a retry). A row a person changed since `base` is theirs, and the CSV
 * wins, when that change came after the command: `csvChangedAt` is when the store last changed
 * the file (the last commit touching it on GitHub, the file's mtime on disk), compared with the
 * comment's last edit (`origin.at`). The baseline says which row changed, the time says when;
 * neither alone can (a file changes every week, a row's cells keep no date). A change in the
 * same second counts as the person's: their record is kept. Without a time (a store that
 * cannot tell) a changed row is taken to be newer.
 */
export function decideRow(now: RowTriage, base: RowTriage, commands: TriageCommand[], origin: CommandOrigin, csvChangedAt?: string): RowOutcome {
  const row = applyCommands(now, commands, origin);
  if (sameTriage(row, now)) return { kind: 'already' };
  if (!sameTriage(now, base) && (csvChangedAt === undefined || !(Date.parse(csvChangedAt) < Date.parse(origin.at)))) return { kind: 'csv-wins' };
  return { kind: 'apply', row };
}
