/** Where a release's published outputs go in the reports directory, and the legacy CSV file name. */
import { join } from 'node:path';

/** Where the published outputs of a release live, beside the legacy `cves-<release>.csv` name. */
export const reportPaths = {
  csv: (reportsDir: string, release: string) => join(reportsDir, csvFileName(release)),
  summary: (reportsDir: string, release: string) => join(reportsDir, `cves-${fileSafe(release)}.summary.json`),
  site: (reportsDir: string) => join(reportsDir, 'site'),
  planMarkdown: (reportsDir: string) => join(reportsDir, 'issue-plan.md'),
  planJson: (reportsDir: string) => join(reportsDir, 'issue-plan.json'),
  issueLinks: (reportsDir: string) => join(reportsDir, 'issue-links.json'),
  openVex: (reportsDir: string, release: string) => join(reportsDir, `cves-${fileSafe(release)}.openvex.json`),
};

export function csvFileName(release: string): string {
  return `cves-${fileSafe(release)}.csv`;
}

function fileSafe(release: string): string {
  return release.replace(/[^A-Za-z0-9._-]/g, '_');
}
