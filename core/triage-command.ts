/** The `/cve …` triage command grammar of issue comments: parsed strictly, every refusal with the line it came from. */
import { parseIgnoreExpires } from './triage-state.js';

export const TRIAGE_VERBS = ['ignore', 'waiting', 'note', 'reopen'] as const;
export type TriageVerb = (typeof TRIAGE_VERBS)[number];

/** One command line of a comment. `text` is kept raw: it is escaped where it lands, never here. */
export interface TriageCommand {
  verb: TriageVerb;
  /** Vulnerability ids as written, upper-cased (CVE-…, GHSA-…, …). */
  ids: string[];
  /** `until YYYY-MM-DD` (ignore only): the ignore's end date. */
  until?: string;
  /** `in <release>`: only that release's CSV; every release of the image when absent. */
  release?: string;
  text: string;
  /** 1-based line of the comment. */
  line: number;
}

/** A line that starts like a command but cannot be one. */
export interface CommandProblem {
  line: number;
  /** The line as written (escaped by whoever shows it). */
  source: string;
  ids: string[];
  message: string;
}

export interface ParsedComment {
  commands: TriageCommand[];
  problems: CommandProblem[];
}

/** Vulnerability ids Trivy reports: CVE, GHSA and the distributions' own (ALAS, DLA, RHSA, GO-…, …). */
const VULN_ID = /^(?:CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|[A-Z][A-Z0-9]{1,9}(?:-[A-Z0-9]+){1,3})$/i;
const COMMAND_LINE = /^\s{0,3}\/cve(?:\s+|$)/i;

/** The short help block at the foot of every issue body, and the grammar the README documents. */
export const TRIAGE_HELP = [
  '<details><summary>Triage from this issue</summary>',
  '',
  'People with write access (or members of the configured triage team) can comment, one command per line:',
  '',
  '```',
  '/cve ignore CVE-2024-1234 [until 2027-03-01] [in v2.9.0] <justification>',
  '/cve waiting CVE-2024-1234 [in v2.9.0] <note>',
  '/cve note CVE-2024-1234 [in v2.9.0] <note>',
  '/cve reopen CVE-2024-1234 [in v2.9.0]',
  '```',
  '',
  'Several ids may be given at once. The decision is written to the release CSVs at the next run or `issues sync`, and answered with 👍 or a reply.',
  '',
  '</details>',
].join('\n');

/**
 * Parses the commands of a comment, one per line: `/cve <verb> <id>[,| <id>…] [until YYYY-MM-DD]
 * [in <release>] <text>`. Lines inside code fences and quoted lines (`>`) are not commands, so a
 * comment that quotes another's commands, or the help block, runs nothing.
 */
export function parseTriageComment(body: string): ParsedComment {
  const commands: TriageCommand[] = [];
  const problems: CommandProblem[] = [];
  let fenced = false;
  const lines = body.split(/\r\n|\r|\n/);
  for (const [i, raw] of lines.entries()) {
    if (/^\s{0,3}(```|~~~)/.test(raw)) {
      fenced = !fenced;
      continue;
    }
    if (fenced || !COMMAND_LINE.test(raw)) continue;
    const parsed = parseCommandLine(raw, i + 1);
    if ('message' in parsed) problems.push(parsed);
    else commands.push(parsed);
  }
  return { commands, problems };
}

function parseCommandLine(raw: string, line: number): TriageCommand | CommandProblem {
  const source = raw.trim();
  const words = source.split(/\s+/).slice(1);
  const problem = (message: string, ids: string[] = []): CommandProblem => ({ line, source, ids, message });
  const verb = (words.shift() ?? '').toLowerCase();
  if (!(TRIAGE_VERBS as readonly string[]).includes(verb)) {
    return problem(verb ? `"${verb}" is not a command; use one of ${TRIAGE_VERBS.join(', ')}` : `a command is missing; use one of ${TRIAGE_VERBS.join(', ')}`);
  }
  const ids: string[] = [];
  while (words.length > 0) {
    const parts = words[0]!.split(',').filter((p) => p !== '');
    if (parts.length === 0 || !parts.every((p) => VULN_ID.test(p))) break;
    words.shift();
    for (const p of parts) if (!ids.includes(p.toUpperCase())) ids.push(p.toUpperCase());
  }
  if (ids.length === 0) return problem(`/cve ${verb} needs a vulnerability id such as CVE-2024-1234${words[0] ? `; "${words[0]}" is not one` : ''}`);
  let until: string | undefined;
  let release: string | undefined;
  for (;;) {
    const option = words[0]?.toLowerCase();
    if (option === 'until' && until === undefined) {
      const value = words[1] ?? '';
      const date = parseIgnoreExpires(value);
      if (verb !== 'ignore') return problem(`"until" only goes with ignore`, ids);
      if (!date) return problem(`"${value}" is not a date; write until YYYY-MM-DD, a real calendar day`, ids);
      until = date;
      words.splice(0, 2);
    } else if (option === 'in' && release === undefined && words[1] && /^v?\d[\w.+-]*$/i.test(words[1])) {
      release = words[1];
      words.splice(0, 2);
    } else break;
  }
  const text = words.join(' ');
  if (verb === 'ignore' && text === '') return problem('an ignore needs a justification after the id, as in the CSV', ids);
  if ((verb === 'waiting' || verb === 'note') && text === '') return problem(`/cve ${verb} needs a note after the id`, ids);
  return { verb: verb as TriageVerb, ids, ...(until ? { until } : {}), ...(release ? { release } : {}), text, line };
}
