/** The site activity: writes the static site from the stored reports and publishes it. */
import { Context } from '@temporalio/activity';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { basename, join } from 'node:path';
import {
  IMAGES_PAGE,
  INDEX_PAGE,
  ImageViewIndex,
  imageIndexEntry,
  imagePageName,
  releasePageName,
  renderImagePage,
  renderImagesIndex,
  renderIndexPage,
  releasePageParts,
  type ImageIndexEntry,
  type SiteRelease,
} from '../../core/render/html.js';
import { FindingsTableBuilder } from '../../core/render/site-table.js';
import type { ReleaseHistory } from '../../core/history.js';
import { compareReleaseNames } from '../../core/release-order.js';
import type { ReleaseReport } from '../../core/triage.js';
import type { ReportLocation } from '../store/report-store.js';
import { loadReports } from '../report/stored-report.js';
import { readReleaseHistories } from '../report/release-history.js';
import { asReportSource, imagesOf, rowsByImage, storedReport, type ReportSource } from '../report/stored-report.js';
import { csvFileName, reportPaths } from '../report/report-paths.js';
import { temporaryPath, writeFileAtomic, type ResultStore } from '../store/result-store.js';

/** What the site activity needs: the stored reports, where reports live, and where the site is published too. */
export interface SiteDeps extends ReportLocation {
  store: ResultStore;
  sitePublisher?: (siteDir: string, message: string) => Promise<{ commit?: string; changed: number; files: number }>;
}

export interface PublishSiteOptions {
  generatedAt: string;
  /** Image reference → URL of its GitHub issue. */
  issueLinks?: Record<string, string>;
  /** When every release was scanned; otherwise each release's summary file tells. */
  scannedAt?: string;
  /** Release → its history from the report store, for the trend charts. */
  histories?: ReadonlyMap<string, ReleaseHistory>;
}

export interface PublishedSite {
  sitePath: string;
  pages: number;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The summary written beside the CSV says when the release's report, and so its scans, completed. */
async function summaryTime(reportsDir: string, release: string): Promise<string | undefined> {
  const text = await readOptional(reportPaths.summary(reportsDir, release));
  if (!text) return undefined;
  try {
    const generatedAt = (JSON.parse(text) as { generatedAt?: unknown }).generatedAt;
    return typeof generatedAt === 'string' ? generatedAt : undefined;
  } catch {
    return undefined;
  }
}

/** Copies the release's CSV, or writes it from the report when none was written, and its OpenVEX file when present. */
async function publishReleaseFiles(reportsDir: string, site: string, report: ReportSource): Promise<Pick<SiteRelease, 'csvFile' | 'openVexFile'>> {
  const release = report.head.release;
  const csvFile = csvFileName(release);
  try {
    await copyFile(reportPaths.csv(reportsDir, release), join(site, csvFile));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await report.writeCsv(join(site, csvFile));
  }
  const openVexPath = reportPaths.openVex(reportsDir, release);
  const openVex = await readOptional(openVexPath);
  if (openVex === undefined) return { csvFile };
  const openVexFile = basename(openVexPath);
  await writeFileAtomic(join(site, openVexFile), openVex);
  return { csvFile, openVexFile };
}

/** Pages and copies we generate that this publication did not write belong to releases or images that are gone. */
async function removeStaleFiles(site: string, written: Set<string>): Promise<void> {
  const ours = /^(release-.*\.html|image-.*\.html|cves-.*\.(csv|openvex\.json))$/;
  for (const name of await readdir(site)) {
    if (ours.test(name) && !written.has(name)) await rm(join(site, name), { force: true });
  }
}

/** Rows' JSON gathered before each write to the rows file: a few hundred KB at a time. */
const ROWS_PER_WRITE = 2_000;

/**
 * A release's page, its rows streamed: one pass over the rows writes their JSON to a file
 * beside the page while the table's frame (images, states, count) is gathered; then the page
 * is written around that file and swapped in. What is held is the frame, not the rows.
 */
async function writeReleasePage(path: string, report: ReportSource, entry: SiteRelease, pageOptions: { generatedAt: string }): Promise<void> {
  const rowsPath = temporaryPath(`${path}.rows`);
  const pagePath = temporaryPath(path);
  let pending: string[] = [];
  const table = new FindingsTableBuilder(imagePageName, (json) => pending.push(json));
  async function* rowsJson() {
    let separator = '';
    for await (const row of report.rows()) {
      table.add(row);
      if (pending.length < ROWS_PER_WRITE) continue;
      yield separator + pending.join(',');
      separator = ',';
      pending = [];
    }
    if (pending.length > 0) yield separator + pending.join(',');
  }
  try {
    await pipeline(rowsJson, createWriteStream(rowsPath));
    const { before, after } = releasePageParts(report.head, entry, pageOptions, table.frame());
    await pipeline(async function* page() {
      yield before;
      yield* createReadStream(rowsPath);
      yield after;
    }, createWriteStream(pagePath));
    await rename(pagePath, path);
  } finally {
    await rm(rowsPath, { force: true });
    await rm(pagePath, { force: true });
  }
}

/**
 * The image pages, one image at a time: every release's rows are sorted by image, so a
 * merge of the releases' row streams gives each image its rows of every release while
 * holding only that image's. Returns what the images index needs of each.
 */
async function writeImagePages(reports: ReportSource[], issueLinks: Record<string, string>, write: (name: string, html: string) => Promise<void>, pageOptions: { generatedAt: string }): Promise<ImageIndexEntry[]> {
  const index = new ImageViewIndex(
    reports.map((r) => r.head),
    issueLinks,
  );
  const entries: ImageIndexEntry[] = [];
  for await (const { image, rows } of rowsByImage(reports, imagesOf(reports))) {
    const view = index.view(image, (i) => rows[i]!);
    await write(imagePageName(image), renderImagePage(view, pageOptions));
    entries.push(imageIndexEntry(view));
  }
  return entries;
}

/**
 * Writes `<reportsDir>/site/`: the index, a page per release, the images index
 * and a page per image, copies of the CSVs and OpenVEX files, and `.nojekyll` so
 * GitHub Pages serves the files as they are. Each release's rows are read twice, a
 * row at a time: once for its page, once for the image pages.
 */
export async function publishSiteFromReports(reportsDir: string, given: (ReleaseReport | ReportSource)[], options: PublishSiteOptions): Promise<PublishedSite> {
  // Version order everywhere: the index, the images index's columns and each image's sections.
  const reports = given.map(asReportSource).sort((a, b) => compareReleaseNames(a.head.release, b.head.release));
  const site = reportPaths.site(reportsDir);
  await mkdir(site, { recursive: true });
  const pageOptions = { generatedAt: options.generatedAt };
  const written = new Set<string>();
  let pages = 0;
  const write = async (name: string, html: string) => {
    await writeFileAtomic(join(site, name), html);
    written.add(name);
    pages++;
  };

  const entries: SiteRelease[] = [];
  for (const report of reports) {
    const release = report.head.release;
    const files = await publishReleaseFiles(reportsDir, site, report);
    written.add(files.csvFile);
    if (files.openVexFile) written.add(files.openVexFile);
    const entry: SiteRelease = { summary: report.summary, ...files, scannedAt: options.scannedAt ?? (await summaryTime(reportsDir, release)), history: options.histories?.get(release) };
    await writeReleasePage(join(site, releasePageName(release)), report, entry, pageOptions);
    written.add(releasePageName(release));
    pages++;
    entries.push(entry);
  }

  const images = await writeImagePages(reports, options.issueLinks ?? {}, write, pageOptions);
  await write(IMAGES_PAGE, renderImagesIndex(images, reports.map((r) => r.head.release), pageOptions));
  await write(INDEX_PAGE, renderIndexPage(entries, pageOptions));
  await writeFile(join(site, '.nojekyll'), '');
  await removeStaleFiles(site, written);
  return { sitePath: join(site, INDEX_PAGE), pages };
}

/**
 * `issue-links.json`, written by issue reconciliation: image → issue URL. The
 * links are a convenience, so a damaged file costs the links, not the site.
 */
async function readIssueLinks(reportsDir: string): Promise<Record<string, string>> {
  const path = reportPaths.issueLinks(reportsDir);
  const text = await readOptional(path);
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    Context.current().log.warn('issue links are not valid JSON; the site is published without them', { path, error: String(error) });
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The newest stored report of every release, so a single-release run still publishes the whole site. */
async function latestReports(deps: { store: ResultStore }): Promise<ReportSource[]> {
  const reports: ReportSource[] = [];
  for (const folder of await deps.store.list('releases')) {
    const report = await storedReport(deps.store, `releases/${folder}/latest-report.json`, `releases/${folder}/latest-report.csv`);
    if (report) reports.push(report);
  }
  return reports;
}

/** Renders the static site from the reports of a run, beside the newest reports of the releases it did not scan. */
export function createPublishSite(deps: SiteDeps) {
  return async function publishSite(input: { runKey: string; releases: string[] }): Promise<PublishedSite> {
    const current = await loadReports(deps, input.runKey, input.releases);
    const scanned = new Set(current.map((r) => r.head.release));
    const reports = [...current, ...(await latestReports(deps)).filter((r) => !scanned.has(r.head.release))];
    const issueLinks = await readIssueLinks(deps.reportsDir);
    const histories = await readReleaseHistories(deps, reports.map((r) => r.head.release), Context.current().log);
    const published = await publishSiteFromReports(deps.reportsDir, reports, { generatedAt: new Date().toISOString(), issueLinks, histories });
    if (deps.sitePublisher) {
      // The local site stays as written; the target gets the same files in one commit (none when unchanged).
      const result = await deps.sitePublisher(reportPaths.site(deps.reportsDir), `Publish the CVE site (run ${input.runKey})`);
      Context.current().log.info('site published to GitHub', { runKey: input.runKey, commit: result.commit ?? null, changed: result.changed, files: result.files });
    }
    return published;
  };
}
