/** The report activity: composes a release's report, stores it, and writes its CSV and history. */
import { Context } from '@temporalio/activity';
import type { ReleaseReportResult } from '../../core/run.js';
import { composeReleaseReport, discardComposed, releaseScans, writeReportOutputs } from './compose-release-report.js';
import type { StoredReportHead } from './stored-report.js';
import { recordReleaseHistory } from './release-history.js';
import { reportStoreOf, type ReportLocation } from '../store/report-store.js';
import { storeKeys, withinRun, type ResultStore } from '../store/result-store.js';

export function createWriteReleaseReport(deps: ReportLocation & { store: ResultStore; now?: () => Date }) {
  return async function writeReleaseReport(input: { runKey: string; release: string }): Promise<ReleaseReportResult> {
    const now = (deps.now ?? (() => new Date()))().toISOString();
    const { images, scans, source } = await releaseScans(withinRun(deps.store, input.runKey), input.release);
    const composed = await composeReleaseReport({
      release: input.release,
      images,
      scans,
      source,
      store: reportStoreOf(deps),
      today: now.slice(0, 10),
      message: `CVE report for ${input.release}`,
    });
    try {
      // Claim check: the rows stay a CSV in the store; the head and summary are all that is JSON.
      const head: StoredReportHead = { ...composed.head, summary: composed.summary };
      await deps.store.writeFile(storeKeys.reportRows(input.runKey, input.release), composed.csvPath);
      await deps.store.writeJson(storeKeys.report(input.runKey, input.release), head);
      await deps.store.writeFile(storeKeys.latestReportRows(input.release), composed.csvPath);
      await deps.store.writeJson(storeKeys.latestReport(input.release), head);
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
    } finally {
      await discardComposed(composed);
    }
  };
}
