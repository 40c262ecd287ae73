import { SEVERITIES, type SeverityCounts } from './finding.js';
import type { ReleaseReportSummary } from './triage.js';

/**
 * A release's history: one small entry per run, taken from the run's report
 * summary (never its rows), kept beside the CSV so the site can draw how the
 * release's findings moved week by week. Machine-written: nothing a person
 * wrote lives here.
 */

export const HISTORY_SCHEMA = 1;
/** Two years of weekly runs. */
export const HISTORY_WEEKS = 104;
/** Manual runs between weekly ones: the file stays bounded whatever the cadence. */
export const HISTORY_MAX_ENTRIES = 4 * HISTORY_WEEKS;

export interface HistoryEntry {
  /** Identifies the run: a retried activity writes the same entry again, it never adds one. */
  runKey: string;
  /** UTC date of the run's report (YYYY-MM-DD). */
  date: string;
  /** When the entry was written (ISO time). */
  at: string;
  findings: number;
  /** Open findings by severity: honoured ignores left out (the summary's `openBySeverity`), what the trend chart draws. */
  bySeverity: SeverityCounts;
  byState: Record<string, number>;
  ignored: number;
  changes: { new: number; fixed: number; unchanged: number };
  images: { total: number; failed: number; osNotScanned: number };
  /**
   * The report measured nothing this run: every scan failed (or the release
   * had no image), so its counts are the previous run's carried over.
   */
  reportFailed?: boolean;
}

export interface ReleaseHistory {
  schema: typeof HISTORY_SCHEMA;
  release: string;
  /** Oldest first. */
  entries: HistoryEntry[];
}

export interface HistoryLimits {
  weeks: number;
  entries: number;
}

const DEFAULT_LIMITS: HistoryLimits = { weeks: HISTORY_WEEKS, entries: HISTORY_MAX_ENTRIES };

/** This run's entry, from the summary of its report. */
export function historyEntryOf(summary: ReleaseReportSummary, run: { runKey: string; at: string }): HistoryEntry {
  const { total, failed, osNotScanned } = summary.images;
  const entry: HistoryEntry = {
    runKey: run.runKey,
    date: run.at.slice(0, 10),
    at: run.at,
    findings: summary.findings,
    bySeverity: { ...(summary.openBySeverity ?? summary.bySeverity) },
    byState: { ...summary.byState },
    ignored: summary.ignored,
    changes: { ...summary.changes },
    images: { total, failed, osNotScanned },
  };
  if (total === 0 || failed === total) entry.reportFailed = true;
  return entry;
}

const compareEntries = (a: HistoryEntry, b: HistoryEntry) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.runKey < b.runKey ? -1 : a.runKey > b.runKey ? 1 : 0);

const DAY_MS = 86_400_000;

/** The Monday (UTC) of the ISO week holding `date` (YYYY-MM-DD or an ISO time). */
export function weekOf(date: string): string {
  const day = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - sinceMonday * DAY_MS).toISOString().slice(0, 10);
}

function addWeeks(week: string, n: number): string {
  return new Date(new Date(`${week}T00:00:00Z`).getTime() + n * 7 * DAY_MS).toISOString().slice(0, 10);
}

/** Keeps the newest `limits.weeks` weeks (counted back from the newest entry) and at most `limits.entries` entries. */
export function trimHistory(entries: HistoryEntry[], limits: HistoryLimits = DEFAULT_LIMITS): HistoryEntry[] {
  const sorted = [...entries].sort(compareEntries);
  const newest = sorted.at(-1);
  if (!newest) return sorted;
  const oldestWeek = addWeeks(weekOf(newest.date), -(limits.weeks - 1));
  return sorted.filter((e) => weekOf(e.date) >= oldestWeek).slice(-limits.entries);
}

/**
 * Adds a run's entry. The same run written again (a retried activity, a
 * conflict's re-merge) keeps the entry first written: a retry merges against
 * the CSV its first attempt wrote, so its own new and fixed would read 0.
 */
export function appendHistoryEntry(history: ReleaseHistory | undefined, release: string, entry: HistoryEntry, limits: HistoryLimits = DEFAULT_LIMITS): ReleaseHistory {
  const entries = history?.entries ?? [];
  const known = entries.some((e) => e.runKey === entry.runKey);
  return { schema: HISTORY_SCHEMA, release, entries: trimHistory(known ? entries : [...entries, entry], limits) };
}

/** One entry per line: the weekly commit of the file diffs by one line or two. */
export function renderReleaseHistory(history: ReleaseHistory): string {
  const lines = history.entries.map((e) => `  ${JSON.stringify(e)}`);
  return `{"schema":${history.schema},"release":${JSON.stringify(history.release)},"entries":[${lines.length ? `\n${lines.join(',\n')}\n` : ''}]}\n`;
}

/** A history file that cannot be read. `replaceable` is false when a newer version of this program wrote it. */
export class InvalidHistoryError extends Error {
  constructor(
    message: string,
    readonly replaceable: boolean,
  ) {
    super(message);
    this.name = 'InvalidHistoryError';
  }
}

export interface ParsedHistory {
  history: ReleaseHistory;
  /** Entries left out because they were damaged, with why. */
  dropped: string[];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function countsOf(value: unknown, keys: readonly string[], what: string): Record<string, number> {
  if (!isRecord(value)) throw new Error(`${what} is not an object`);
  const counts: Record<string, number> = {};
  for (const key of keys) {
    if (!isCount(value[key])) throw new Error(`${what}.${key} is not a count`);
    counts[key] = value[key];
  }
  return counts;
}

function entryOf(value: unknown): HistoryEntry {
  if (!isRecord(value)) throw new Error('not an object');
  const { runKey, date, at, findings, ignored, byState, reportFailed } = value;
  if (typeof runKey !== 'string' || runKey === '') throw new Error('runKey is missing');
  if (typeof date !== 'string' || !DATE.test(date) || Number.isNaN(Date.parse(date))) throw new Error(`date ${JSON.stringify(date)} is not YYYY-MM-DD`);
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw new Error(`at ${JSON.stringify(at)} is not a time`);
  if (!isCount(findings)) throw new Error('findings is not a count');
  if (!isCount(ignored)) throw new Error('ignored is not a count');
  if (!isRecord(byState) || !Object.values(byState).every(isCount)) throw new Error('byState is not a map of counts');
  const entry: HistoryEntry = {
    runKey,
    date,
    at,
    findings,
    bySeverity: countsOf(value.bySeverity, SEVERITIES, 'bySeverity') as SeverityCounts,
    byState: byState as Record<string, number>,
    ignored,
    changes: countsOf(value.changes, ['new', 'fixed', 'unchanged'], 'changes') as HistoryEntry['changes'],
    images: countsOf(value.images, ['total', 'failed', 'osNotScanned'], 'images') as HistoryEntry['images'],
  };
  if (reportFailed === true) entry.reportFailed = true;
  return entry;
}

/**
 * Reads a history file. A damaged entry is dropped (and named in `dropped`);
 * a file that is not a history at all throws `InvalidHistoryError`.
 */
export function parseReleaseHistory(text: string, source: string): ParsedHistory {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidHistoryError(`${source} is not valid JSON (${(error as Error).message})`, true);
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.entries)) throw new InvalidHistoryError(`${source} is not a release history: it has no "entries" list`, true);
  if (typeof parsed.schema === 'number' && parsed.schema > HISTORY_SCHEMA) {
    throw new InvalidHistoryError(`${source} has schema ${parsed.schema}, newer than this program's ${HISTORY_SCHEMA}`, false);
  }
  if (parsed.schema !== HISTORY_SCHEMA) throw new InvalidHistoryError(`${source} has schema ${JSON.stringify(parsed.schema)}, not ${HISTORY_SCHEMA}`, true);
  const entries: HistoryEntry[] = [];
  const dropped: string[] = [];
  parsed.entries.forEach((value, i) => {
    try {
      entries.push(entryOf(value));
    } catch (error) {
      dropped.push(`entry ${i + 1}: ${(error as Error).message}`);
    }
  });
  const release = typeof parsed.release === 'string' ? parsed.release : '';
  // Two entries of one run (a hand merge of the file) keep the first written.
  const byRun = new Map<string, HistoryEntry>();
  for (const entry of [...entries].sort(compareEntries)) if (!byRun.has(entry.runKey)) byRun.set(entry.runKey, entry);
  return { history: { schema: HISTORY_SCHEMA, release, entries: [...byRun.values()] }, dropped };
}

/** Why a week has no point: no run reported it, or its runs measured nothing. */
export type GapReason = 'no-run' | 'report-failed';

/** One week of a release's history as the charts draw it. */
export interface HistoryWeek {
  /** Monday (UTC) of the week. */
  week: string;
  /** The week's last run that measured something; absent in a gap. */
  entry?: HistoryEntry;
  /** New and fixed summed over the week's runs that measured something. */
  changes?: { new: number; fixed: number };
  gap?: GapReason;
  /** Runs of the week, failed ones included. */
  runs: number;
}

/**
 * Every week from the oldest entry's to the newest's, at most `weeks` of them
 * (the newest). A week with no entry, or whose every run's report failed, is a
 * gap: drawn as a break, never as a zero.
 */
export function weeklySeries(history: ReleaseHistory | undefined, weeks = HISTORY_WEEKS): HistoryWeek[] {
  const entries = [...(history?.entries ?? [])].sort(compareEntries);
  if (entries.length === 0) return [];
  const byWeek = new Map<string, HistoryEntry[]>();
  for (const entry of entries) {
    const week = weekOf(entry.date);
    byWeek.set(week, [...(byWeek.get(week) ?? []), entry]);
  }
  const last = weekOf(entries.at(-1)!.date);
  const first = [weekOf(entries[0]!.date), addWeeks(last, -(weeks - 1))].sort().at(-1)!;
  const series: HistoryWeek[] = [];
  for (let week = first; week <= last; week = addWeeks(week, 1)) {
    const runs = byWeek.get(week) ?? [];
    const measured = runs.filter((e) => !e.reportFailed);
    if (measured.length === 0) {
      series.push({ week, gap: runs.length ? 'report-failed' : 'no-run', runs: runs.length });
      continue;
    }
    const changes = { new: 0, fixed: 0 };
    for (const e of measured) {
      changes.new += e.changes.new;
      changes.fixed += e.changes.fixed;
    }
    series.push({ week, entry: measured.at(-1), changes, runs: runs.length });
  }
  return series;
}

/** Consecutive weeks with a point: each run of them is one segment of a line. */
export function historySegments(series: HistoryWeek[]): number[][] {
  const segments: number[][] = [];
  let current: number[] = [];
  series.forEach((week, i) => {
    if (week.entry) current.push(i);
    else if (current.length) {
      segments.push(current);
      current = [];
    }
  });
  if (current.length) segments.push(current);
  return segments;
}
