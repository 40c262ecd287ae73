import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { publishSiteFromReports } from '../activities/site/publish-site.js';
import { composeReleaseReport, discardComposed, releaseScans, writeReportOutputs } from '../activities/report/compose-release-report.js';
import { csvFileReport } from '../activities/report/stored-report.js';
import { LocalReportStore } from '../activities/store/report-store.js';
import { FolderResultStore } from '../activities/store/result-store.js';
import { ConfigError } from '../worker/config.js';

/**
 * `render`: rebuilds a release's CSV, summary, OpenVEX file and site from a
 * run's stored scan results, without scanning. The previous report is the CSV
 * already in --out, or --previous.
 */
export async function renderFromResults(options: { release: string; results: string; out: string; previous?: string }): Promise<number> {
  const runFolder = new FolderResultStore(resolve(options.results));
  const { images, scans, source } = await releaseScans(runFolder, options.release);
  if (images.length === 0) {
    throw new ConfigError(`${options.results} holds no image list for release ${options.release}; give the run folder (data/runs/<run>) of a run that scanned it`);
  }
  let previousText: { text: string; source: string } | undefined;
  if (options.previous) {
    try {
      previousText = { text: await readFile(options.previous, 'utf8'), source: options.previous };
    } catch (error) {
      throw new ConfigError(`--previous ${options.previous} cannot be read: ${(error as NodeJS.ErrnoException).code}`);
    }
  }
  const out = resolve(options.out);
  const now = new Date().toISOString();
  const composed = await composeReleaseReport({
    release: options.release,
    images,
    scans,
    source,
    store: new LocalReportStore(out),
    today: now.slice(0, 10),
    message: `CVE report for ${options.release}`,
    previousText,
  });
  try {
    const { csvPath, summaryPath } = await writeReportOutputs(out, composed, now);
    const site = await publishSiteFromReports(out, [csvFileReport(composed.head, composed.summary, composed.csvPath)], { generatedAt: now });
    const failed = composed.summary.images.failed;
    console.log(`${composed.summary.findings} findings in ${images.length} images (${images.length - failed} with results)`);
    console.log(`CSV: ${csvPath}\nsummary: ${summaryPath}\nsite: ${site.sitePath}`);
    return 0;
  } finally {
    await discardComposed(composed);
  }
}
