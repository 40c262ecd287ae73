import type { ActivityDeps } from './deps.js';
import { storedReport, type ReportSource } from './report-source.js';
import { storeKeys } from './result-store.js';

/** The reports the release activities of a run left in the store; a release without one is skipped. */
export async function loadReports(deps: ActivityDeps, runKey: string, releases: string[]): Promise<ReportSource[]> {
  const reports: ReportSource[] = [];
  for (const release of releases) {
    const report = await storedReport(deps.store, storeKeys.report(runKey, release), storeKeys.reportRows(runKey, release));
    if (report) reports.push(report);
  }
  return reports;
}

/** The newest stored report of a release, whichever run wrote it (`issues plan|apply`, the site). */
export function latestReport(deps: Pick<ActivityDeps, 'store'>, release: string): Promise<ReportSource | undefined> {
  return storedReport(deps.store, storeKeys.latestReport(release), storeKeys.latestReportRows(release));
}
