import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { releasePageName, renderIndexPage, renderReleasePage } from '../core/render/html.js';
import { summarizeReport } from '../core/triage.js';
import type { ActivityDeps } from './deps.js';
import { loadReports } from './load-reports.js';
import { csvFileName, reportPaths } from './reports.js';
import { writeFileAtomic } from './result-store.js';

/** Renders the static site (index and one page per release) next to copies of the CSVs, all linked relatively. */
export function createPublishSite(deps: ActivityDeps) {
  return async function publishSite(input: { runKey: string; releases: string[] }): Promise<{ sitePath: string; pages: number }> {
    const site = reportPaths.site(deps.reportsDir);
    await mkdir(site, { recursive: true });
    const reports = await loadReports(deps, input.runKey, input.releases);
    const entries = [];
    for (const report of reports) {
      const summary = summarizeReport(report);
      const csvFile = csvFileName(report.release);
      await copyFile(reportPaths.csv(deps.reportsDir, report.release), join(site, csvFile));
      await writeFileAtomic(join(site, releasePageName(report.release)), renderReleasePage(summary, report.rows, csvFile));
      entries.push({ summary, csvFile });
    }
    await writeFileAtomic(join(site, 'index.html'), renderIndexPage(entries, new Date().toISOString()));
    await writeFile(join(site, '.nojekyll'), '');
    return { sitePath: join(site, 'index.html'), pages: entries.length + 1 };
  };
}
