/** `issues sync`: triage from issue comments without a scan, then the issues redrawn from the CSVs it changed. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IssueReconciliation, TriageResult } from '../../core/run.js';
import { reconcileReports, type IssueDeps } from '../issues/reconcile-issues.js';
import { ReportTally } from '../../core/triage.js';
import { latestReport, type ReportSource, type StoredReportHead } from '../report/stored-report.js';
import { csvFileName } from '../report/report-paths.js';
import { reportStoreOf } from '../store/report-store.js';
import { storeKeys, type ResultStore } from '../store/result-store.js';
import { applyIssueTriage, type TriageDeps } from './apply-issue-triage.js';

/**
 * The stored summary's counts of states, ignores and open findings made again from the rows
 * just stored, so that a site rendered after `issues sync` does not contradict its own table.
 * What only a scan knows (images, changes since last week, re-matching) is kept as the run left it.
 */
async function recountSummary(deps: { store: ResultStore }, release: string): Promise<void> {
  const report = await latestReport(deps, release);
  if (!report) return;
  const tally = new ReportTally();
  for await (const row of report.rows()) tally.add(row);
  const fresh = tally.summary(report.head);
  const { findings, bySeverity, openBySeverity, byState, ignored, vexIgnored, expiredIgnores, vexDisagreements } = fresh;
  const head: StoredReportHead = { ...report.head, summary: { ...report.summary, findings, bySeverity, openBySeverity, byState, ignored, vexIgnored, expiredIgnores, vexDisagreements } };
  await deps.store.writeJson(storeKeys.latestReport(release), head);
}

/**
 * One pass of triage; when it changed a CSV, each changed release's stored rows are replaced by
 * that CSV (the same file the report activity stored, plus the decisions) and the issues are
 * reconciled, so the issue tables show the new state within minutes; the stored summary's
 * counts follow the rows. Without new comments it
 * only reads.
 */
export async function syncTriage(deps: TriageDeps & IssueDeps & { store: ResultStore }, releases: string[], repository?: string): Promise<{ triage: TriageResult; issues?: IssueReconciliation }> {
  const triage = await applyIssueTriage(deps, { releases, repository });
  if (triage.releasesWritten.length === 0) return { triage };
  const dir = await mkdtemp(join(tmpdir(), 'issues-sync-'));
  try {
    const reportStore = reportStoreOf(deps);
    for (const release of triage.releasesWritten) {
      const stored = await reportStore.read(csvFileName(release));
      if (!stored) continue;
      const path = join(dir, csvFileName(release));
      await writeFile(path, stored.text);
      await deps.store.writeFile(storeKeys.latestReportRows(release), path);
      await recountSummary(deps, release);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const reports: ReportSource[] = [];
  for (const release of releases) {
    const report = await latestReport(deps, release);
    if (report) reports.push(report);
  }
  const target = repository ? { ...deps, issueRepository: repository } : deps;
  const { plan: _plan, ...issues } = await reconcileReports(target, reports, { apply: true });
  return { triage, issues };
}
