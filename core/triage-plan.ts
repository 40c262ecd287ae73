/** One comment's commands turned into row edits of the image's release CSVs, and the problems its reply lists. */
import type { TriageCommand } from './triage-command.js';
import type { TriageCsv } from './triage-csv.js';
import { rowKey } from './triage-csv.js';
import { decideRow, type CommandOrigin, type RowTriage } from './triage-decision.js';
import type { ReplyProblem } from './triage-reply.js';

/** One release's CSV and the baseline (written rows at the last triage pass) its rows are judged against. */
export interface ReleaseRows {
  release: string;
  csv: TriageCsv;
  baseline: Record<string, [string, string, string]>;
  /** When the store last changed the CSV (ISO time), if it can tell: a row changed since the baseline wins only when this is not before the comment. */
  changedAt?: string;
}

export interface RowEdit {
  release: string;
  packageName: string;
  vulnerabilityId: string;
  triage: RowTriage;
}

export interface CommentPlan {
  edits: RowEdit[];
  problems: ReplyProblem[];
  /** Command lines applied (or found applied already). */
  applied: number;
}

const DEFAULT_ROW = ['triaged', '', ''] as const;

/**
 * Which rows each command covers: the image's rows of each id in every release (or only the
 * one named with `in`). Commands of one comment on one row are applied together, in order.
 * Each id the image does not have, and each row the CSV keeps (a person edited it after the
 * comment), is listed as a problem for the reply.
 */
export function planComment(image: string, commands: TriageCommand[], releases: ReleaseRows[], origin: CommandOrigin): CommentPlan {
  const problems: ReplyProblem[] = [];
  const known = [...new Set(releases.flatMap((r) => r.csv.rowsOf(image).map((row) => row.vulnerabilityId)))].sort();
  const imageReleases = releases.filter((r) => r.csv.rowsOf(image).length > 0).map((r) => r.release);
  // (release, package, id) → the commands on it and their lines.
  const byRow = new Map<string, { release: ReleaseRows; packageName: string; id: string; commands: TriageCommand[] }>();
  const linesOk = new Set<number>();
  for (const command of commands) {
    if (command.release && !releases.some((r) => r.release === command.release)) {
      problems.push({ kind: 'unknown-release', line: command.line, release: command.release, releases: imageReleases });
      continue;
    }
    const scope = command.release ? releases.filter((r) => r.release === command.release) : releases;
    let found = false;
    for (const id of command.ids) {
      let idFound = false;
      for (const release of scope) {
        for (const row of release.csv.rowsOf(image)) {
          if (row.vulnerabilityId.toUpperCase() !== id) continue;
          idFound = true;
          const key = `${release.release}\u0000${row.packageName}\u0000${row.vulnerabilityId}`;
          const entry = byRow.get(key) ?? { release, packageName: row.packageName, id: row.vulnerabilityId, commands: [] };
          if (!entry.commands.includes(command)) entry.commands.push(command);
          byRow.set(key, entry);
        }
      }
      if (!idFound) problems.push({ kind: 'unknown-id', line: command.line, id, ...(command.release ? { release: command.release } : {}), known });
      found ||= idFound;
    }
    if (found) linesOk.add(command.line);
  }
  const edits: RowEdit[] = [];
  // A line counts as applied when at least one of its rows took it (or had it already): a command
  // the CSV overrules in one release still stands in the others, and the reply lists the rest.
  const appliedLines = new Set<number>();
  const refused = new Set<string>();
  for (const entry of byRow.values()) {
    const now = entry.release.csv.rowsOf(image).find((r) => r.packageName === entry.packageName && r.vulnerabilityId === entry.id)!.triage;
    const [state, notes, ignoreExpires] = entry.release.baseline[rowKey(image, entry.packageName, entry.id)] ?? DEFAULT_ROW;
    const base = { state, notes, ignoreExpires };
    // A blank state reads as the default, as the merge reads it.
    const outcome = decideRow(now, now.state === '' && base.state === 'triaged' ? { ...base, state: '' } : base, entry.commands, origin, entry.release.changedAt);
    if (outcome.kind === 'csv-wins') {
      for (const command of entry.commands) {
        const key = `${command.line}\u0000${entry.id}\u0000${entry.release.release}`;
        if (refused.has(key)) continue;
        refused.add(key);
        problems.push({ kind: 'csv-wins', line: command.line, id: entry.id, release: entry.release.release });
      }
      continue;
    }
    if (outcome.kind === 'apply') edits.push({ release: entry.release.release, packageName: entry.packageName, vulnerabilityId: entry.id, triage: outcome.row });
    for (const command of entry.commands) appliedLines.add(command.line);
  }
  const applied = [...linesOk].filter((line) => appliedLines.has(line)).length;
  problems.sort((a, b) => ('line' in a ? a.line : 0) - ('line' in b ? b.line : 0));
  return { edits, problems, applied };
}
