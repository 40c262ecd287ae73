/** Each release's run-by-run history beside its CSV, appended with compare-and-swap and read for the site. */
import {
  appendHistoryEntry,
  historyEntryOf,
  InvalidHistoryError,
  parseReleaseHistory,
  renderReleaseHistory,
  type ReleaseHistory,
} from '../../core/history.js';
import type { ReleaseReportSummary } from '../../core/triage.js';
import { reportStoreOf, type ReportLocation, type ReportStore } from '../store/report-store.js';
import { csvFileName } from './report-paths.js';

/** What this file logs through: the activity's logger, or a test's. */
export interface HistoryLog {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** Same compare-and-swap budget as the CSV's. */
const MAX_WRITE_ATTEMPTS = 5;

/** `cves-<release>.history.json`, beside `cves-<release>.csv` in the report store. */
export function historyFileName(release: string): string {
  return csvFileName(release).replace(/\.csv$/, '.history.json');
}

type Read = { kind: 'read'; history?: ReleaseHistory; version?: string; text?: string } | { kind: 'keep' };

/**
 * Reads the history for an append. A damaged file is replaced: the history is
 * machine-written, so nothing a person wrote is lost, and leaving it would stop
 * every later week from being recorded. Its readable entries are kept and its
 * text is copied to `<name>.damaged` first. A file written by a newer version
 * of this program is left alone.
 */
async function readForAppend(store: ReportStore, name: string, log: HistoryLog): Promise<Read> {
  const stored = await store.read(name);
  if (!stored) return { kind: 'read' };
  const where = `${store.description}/${name}`;
  try {
    const { history, dropped } = parseReleaseHistory(stored.text, where);
    if (dropped.length) log.warn(`release history ${where} has damaged entries; they are left out and the file is rewritten`, { path: where, dropped });
    return { kind: 'read', history, version: stored.version, text: stored.text };
  } catch (error) {
    if (!(error instanceof InvalidHistoryError)) throw error;
    if (!error.replaceable) {
      log.warn(`release history ${where} is left alone: ${error.message}; this run is not recorded in it`, { path: where });
      return { kind: 'keep' };
    }
    const backup = `${name}.damaged`;
    const saved = await store.write(backup, stored.text, undefined, `Keep the damaged release history ${name}`).catch(() => 'failed' as const);
    log.warn(`release history ${where} is damaged and is replaced by a new one: ${error.message}`, {
      path: where,
      copy: saved === 'written' ? `${store.description}/${backup}` : null,
    });
    return { kind: 'read', version: stored.version };
  }
}

/**
 * Records this run's entry in the release's history, compare-and-swap like the
 * CSV. Never throws: the CSV is already written, and a week this misses is
 * drawn as a gap.
 */
export async function appendReleaseHistory(
  store: ReportStore,
  summary: ReleaseReportSummary,
  run: { runKey: string; at: string },
  log: HistoryLog,
): Promise<'written' | 'unchanged' | 'skipped'> {
  const name = historyFileName(summary.release);
  const entry = historyEntryOf(summary, run);
  try {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const read = await readForAppend(store, name, log);
      if (read.kind === 'keep') return 'skipped';
      const text = renderReleaseHistory(appendHistoryEntry(read.history, summary.release, entry));
      if (text === read.text) return 'unchanged';
      const outcome = await store.write(name, text, read.version, `CVE history for ${summary.release}`);
      if (outcome === 'written') return 'written';
    }
    log.warn(`release history ${store.description}/${name} changed during each of ${MAX_WRITE_ATTEMPTS} writes; this run is not recorded in it`, { path: name });
  } catch (error) {
    log.warn(`release history ${store.description}/${name} could not be written; the CSV is written and this run is not recorded in the history`, {
      path: name,
      error: String(error),
    });
  }
  return 'skipped';
}

/** The activity's one call: this run's entry, from the report's summary. */
export function recordReleaseHistory(location: ReportLocation, runKey: string, summary: ReleaseReportSummary, at: string, log: HistoryLog) {
  return appendReleaseHistory(reportStoreOf(location), summary, { runKey, at }, log);
}

/**
 * Every release's history for the site. A missing file means no trend yet; a
 * damaged or unreadable one costs that release its trend, never the site.
 */
export async function readReleaseHistories(location: ReportLocation, releases: string[], log: HistoryLog): Promise<Map<string, ReleaseHistory>> {
  const store = reportStoreOf(location);
  const histories = new Map<string, ReleaseHistory>();
  for (const release of new Set(releases)) {
    const name = historyFileName(release);
    try {
      const stored = await store.read(name);
      if (!stored) continue;
      const { history, dropped } = parseReleaseHistory(stored.text, `${store.description}/${name}`);
      if (dropped.length) log.warn(`release history ${store.description}/${name} has damaged entries; the site leaves them out`, { path: name, dropped });
      histories.set(release, { ...history, release });
    } catch (error) {
      log.warn(`release history ${store.description}/${name} cannot be read; the site shows no trend for ${release}`, { path: name, error: String(error) });
    }
  }
  return histories;
}
