import { Context } from '@temporalio/activity';
import type { ReleaseReportResult } from '../core/run.js';
import type { ActivityDeps } from './deps.js';
import { composeReleaseReport, loadReleaseScans, writeReportOutputs } from './release-report.js';
import { recordReleaseHistory } from './report-history.js';
import { LocalReportStore } from './report-store.js';
import { storeKeys, withinRun } from './result-store.js';

export function createWriteReleaseReport(deps: ActivityDeps) {
  return async function writeReleaseReport(input: { runKey: string; release: string }): Promise<ReleaseReportResult> {
    const now = new Date().toISOString();
    const { images, scans } = await loadReleaseScans(withinRun(deps.store, input.runKey), input.release);
    const composed = await composeReleaseReport({
      release: input.release,
      images,
      scans,
      store: deps.reportStore ?? new LocalReportStore(deps.reportsDir),
      today: now.slice(0, 10),
      message: `CVE report for ${input.release}`,
    });
    await deps.store.writeJson(storeKeys.report(input.runKey, input.release), composed.report);
    await deps.store.writeJson(storeKeys.latestReport(input.release), composed.report);
    const { csvPath, summaryPath } = await writeReportOutputs(deps.reportsDir, composed, now);
    await recordReleaseHistory(deps, input.runKey, composed.summary, now, Context.current().log);
    const s = composed.summary;
    return {
      release: input.release,
      csvPath,
      summaryPath,
      findings: s.findings,
      bySeverity: s.bySeverity,
      images: s.images.total,
      failedScans: s.images.failed,
      osNotScanned: s.images.osNotScanned,
      invalidIgnores: s.invalidIgnores,
      newFindings: s.changes.new,
      fixedFindings: s.changes.fixed,
    };
  };
}
