import type { ReleaseReport } from '../core/triage.js';
import type { ActivityDeps } from './deps.js';
import { storeKeys } from './result-store.js';

/** The report models the release activities left in the store; a release without one is skipped. */
export async function loadReports(deps: ActivityDeps, runKey: string, releases: string[]): Promise<ReleaseReport[]> {
  const reports: ReleaseReport[] = [];
  for (const release of releases) {
    const report = await deps.store.readJson<ReleaseReport>(storeKeys.report(runKey, release));
    if (report) reports.push(report);
  }
  return reports;
}
