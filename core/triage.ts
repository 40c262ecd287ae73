import type { ReleaseSource } from './release-source.js';
import { compareFindings, emptySeverityCounts, type Finding, type SeverityCounts } from './finding.js';
import type { ImageRecord } from './image-list.js';
import { PreviousReport } from './previous-report.js';
import type { ImageScan } from './scan.js';
import { countTriage, DEFAULT_STATE, emptyTriageCounts, IGNORE_STATE, resolveTriageState, type TriageCounts } from './triage-state.js';

export { DEFAULT_STATE, IGNORE_STATE };

/** A row of a previous report: only what a person may have written, plus its identity. */
export interface PreviousRow {
  image: string;
  packageName: string;
  vulnerabilityId: string;
  state: string;
  notes: string;
  firstSeen: string;
  /** The `ignore_expires` cell (absent in legacy reports). */
  ignoreExpires?: string;
  /**
   * The full previous row, so rows of images that could not be scanned this run survive
   * untouched. Absent when the reader was told the row's image was scanned.
   */
  cells?: Record<string, string>;
}

export interface TriagedFinding extends Finding {
  /** As the person wrote it; kept even when it is not honoured. */
  state: string;
  notes: string;
  firstSeen: string;
  mirrored: boolean;
  windows: boolean;
  projects: string[];
  /** An honoured ignore: a person's `state=ignore` with a justification and no end date reached, or a VEX statement's. */
  ignored: boolean;
  /** The `ignore_expires` cell as the person wrote it (YYYY-MM-DD). */
  ignoreExpires?: string;
  /** A person's justified ignore whose end date has come (core/triage-state.ts): counted again. */
  ignoreExpired?: boolean;
  /** The ignore was written by a VEX statement this run, not by a person. */
  vexApplied?: boolean;
  /** A VEX statement says not affected but a person's row says otherwise (theirs wins). */
  vexDisagreement?: string;
}

export interface TriageProblem {
  image: string;
  packageName: string;
  vulnerabilityId: string;
  message: string;
}

export interface FailedImage {
  image: string;
  type: string;
  summary: string;
}

/** Everything a release report says except its rows: small at any size, so it is what travels and is stored as JSON. */
export interface ReleaseReportHead {
  release: string;
  /** The run's date (YYYY-MM-DD): what ignores' end dates were judged against, so a reader of the rows judges the same. */
  date: string;
  images: { records: ImageRecord[]; withFindings: number; clean: number; osNotScanned: string[]; failed: FailedImage[]; scans?: ImageScanWay[] };
  problems: TriageProblem[];
  changes: { new: number; fixed: number; unchanged: number };
  /** A git source's repository, ref and commit (absent for lists read from a release or files). */
  source?: ReleaseSource;
}

/** A release report held whole: what tests, benchmarks and `render` build in memory. */
export interface ReleaseReport extends ReleaseReportHead {
  rows: TriagedFinding[];
  /** Previous rows of images whose scan failed this run, kept verbatim. */
  carriedRows: PreviousRow[];
}

/** How one image was scanned this run (re-matching): path, digest, registry, and why it needs full scans if it does. */
export interface ImageScanWay {
  image: string;
  registry: string;
  scannedAs: 'rematched' | 'pulled';
  digest?: string;
  needsFullScans?: string;
}

export interface ReleaseReportSummary {
  release: string;
  images: { total: number; withFindings: number; clean: number; osNotScanned: number; failed: number };
  findings: number;
  bySeverity: SeverityCounts;
  /** Open findings by severity: every row but the honoured ignores (absent in summaries written before trends). */
  openBySeverity?: SeverityCounts;
  byState: Record<string, number>;
  ignored: number;
  invalidIgnores: number;
  changes: { new: number; fixed: number; unchanged: number };
  failedImages: FailedImage[];
  osNotScannedImages: string[];
  /** Ignores written by VEX statements (absent in summaries written before VEX support). */
  vexIgnored?: number;
  /** Ignores whose end date has come: the findings count again. */
  expiredIgnores?: TriageCounts['expiredIgnores'];
  /** Findings a VEX statement calls not affected that a person's row keeps open. */
  vexDisagreements?: TriageCounts['vexDisagreements'];
  /** Re-matching (absent before it, or with it off): images by path, pulls per registry, images needing full scans and why. */
  scanPaths?: { rematched: number; pulled: number };
  pullsByRegistry?: Record<string, number>;
  needsFullScans?: { image: string; reason: string }[];
  /** Path and digest of each image scanned this run, in the CSV's image order. */
  imageScans?: ImageScanWay[];
}

export interface MergeInput {
  release: string;
  images: ImageRecord[];
  /** Scan per image reference; absent means the image was never scanned this run. */
  scans: ReadonlyMap<string, ImageScan>;
  previous: PreviousRow[];
  /** Date stamped on findings seen for the first time (YYYY-MM-DD). */
  today: string;
}

/** The summary's re-matching fields from the images' ways of scanning; none when no image recorded one. */
function scanWays(ways: ImageScanWay[] | undefined): Pick<ReleaseReportSummary, 'scanPaths' | 'pullsByRegistry' | 'needsFullScans' | 'imageScans'> {
  if (!ways || ways.length === 0) return {};
  const pullsByRegistry: Record<string, number> = {};
  for (const w of ways) if (w.scannedAs === 'pulled') pullsByRegistry[w.registry] = (pullsByRegistry[w.registry] ?? 0) + 1;
  return {
    scanPaths: { rematched: ways.filter((w) => w.scannedAs === 'rematched').length, pulled: ways.filter((w) => w.scannedAs === 'pulled').length },
    pullsByRegistry,
    needsFullScans: ways.filter((w) => w.needsFullScans).map((w) => ({ image: w.image, reason: w.needsFullScans! })),
    imageScans: ways,
  };
}

/**
 * Whether an image's previous rows are written again verbatim: it has no usable scan this run.
 * The report reader keeps full cells for exactly these images, so both must ask this.
 */
export function keepsPreviousRows(scan: ImageScan | undefined): boolean {
  return !scan || scan.outcome === 'failed';
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The image order of the CSV (its first sort key), so that images merged one by one come out as one sorted file. */
export function imagesInReportOrder(images: readonly ImageRecord[]): ImageRecord[] {
  return [...images].sort((a, b) => compareText(a.image, b.image));
}

/** Every image of the releases, once, in the CSV's image order: the order in which readers merge releases by image. */
export function imagesOfReleases(heads: Iterable<Pick<ReleaseReportHead, 'images'>>): string[] {
  const all = new Set<string>();
  for (const head of heads) for (const record of head.images.records) all.add(record.image);
  return [...all].sort(compareText);
}

/** Counts of the rows of a release, added one row at a time. */
export class ReportTally {
  findings = 0;
  ignored = 0;
  readonly bySeverity = emptySeverityCounts();
  readonly openBySeverity = emptySeverityCounts();
  readonly byState: Record<string, number> = {};
  readonly triage: TriageCounts = emptyTriageCounts();

  add(row: TriagedFinding): void {
    this.findings++;
    this.bySeverity[row.severity]++;
    this.byState[row.state] = (this.byState[row.state] ?? 0) + 1;
    if (row.ignored) this.ignored++;
    else this.openBySeverity[row.severity]++;
    countTriage(this.triage, row);
  }

  summary(head: ReleaseReportHead): ReleaseReportSummary {
    return {
      release: head.release,
      images: {
        total: head.images.records.length,
        withFindings: head.images.withFindings,
        clean: head.images.clean,
        osNotScanned: head.images.osNotScanned.length,
        failed: head.images.failed.length,
      },
      findings: this.findings,
      bySeverity: { ...this.bySeverity },
      openBySeverity: { ...this.openBySeverity },
      byState: { ...this.byState },
      ignored: this.ignored,
      invalidIgnores: head.problems.length,
      changes: head.changes,
      failedImages: head.images.failed,
      osNotScannedImages: head.images.osNotScanned,
      vexIgnored: this.triage.vexIgnored,
      expiredIgnores: [...this.triage.expiredIgnores],
      vexDisagreements: [...this.triage.vexDisagreements],
      ...scanWays(head.images.scans),
    };
  }
}

/**
 * The merge of this run's scans with the previous report, one image at a time, so that
 * a release of any size is merged holding one image's findings. Triage is looked up by
 * (image, package, id), then by (repository, package, id) so that notes survive a tag
 * bump. Images must be given in `imagesInReportOrder`; each image's rows come back sorted,
 * so together they are in the CSV's one order.
 */
export class ReleaseMerge {
  private readonly position: Map<string, number>;
  private readonly problems: TriageProblem[] = [];
  private readonly failed: FailedImage[] = [];
  private readonly osNotScanned: string[] = [];
  private readonly ways: ImageScanWay[] = [];
  private readonly scanned = new Set<string>();
  private clean = 0;
  private withFindings = 0;
  private newCount = 0;
  private rowCount = 0;
  readonly tally = new ReportTally();

  constructor(
    private readonly release: string,
    private readonly images: readonly ImageRecord[],
    private readonly previous: PreviousReport,
    private readonly today: string,
  ) {
    this.position = new Map(images.map((r, i) => [r.image, i]));
  }

  /**
   * The rows of one image, sorted; `undefined` when its scan failed or is missing, in which
   * case its previous rows are to be carried over verbatim by the caller.
   */
  mergeImage(record: ImageRecord, scan: ImageScan | undefined): TriagedFinding[] | undefined {
    if (!scan || keepsPreviousRows(scan)) {
      this.failed.push({
        image: record.image,
        type: scan?.failure?.type ?? 'NotScanned',
        summary: scan?.failure?.summary ?? 'no scan result was recorded for this image in this run',
      });
      return undefined;
    }
    this.scanned.add(record.image);
    if (scan.scannedAs) {
      const way: ImageScanWay = { image: record.image, registry: record.registry, scannedAs: scan.scannedAs };
      if (scan.digest) way.digest = scan.digest;
      if (scan.needsFullScans) way.needsFullScans = scan.needsFullScans;
      this.ways.push(way);
    }
    if (!scan.osScanned) this.osNotScanned.push(record.image);
    if (scan.findings.length === 0) {
      if (scan.osScanned) this.clean++;
      return [];
    }
    this.withFindings++;
    const repository = `${record.registry}/${record.repository}`;
    const rows: TriagedFinding[] = [];
    for (const finding of scan.findings) {
      const previous = this.previous.lookup(record.image, repository, finding.packageName, finding.vulnerabilityId);
      // New: no previous row, neither for this image nor (after a tag bump) for its repository.
      if (!previous) this.newCount++;
      const triage = resolveTriageState({ previous, vex: finding.vex, today: this.today });
      if (triage.problem) {
        this.problems.push({ image: record.image, packageName: finding.packageName, vulnerabilityId: finding.vulnerabilityId, message: triage.problem });
      }
      // Spelled out rather than spread: at 200,000 rows the spread was the merge's main cost.
      rows.push({
        image: record.image,
        target: finding.target,
        class: finding.class,
        type: finding.type,
        packageName: finding.packageName,
        packagePath: finding.packagePath,
        installedVersion: finding.installedVersion,
        fixedVersion: finding.fixedVersion,
        vulnerabilityId: finding.vulnerabilityId,
        severity: finding.severity,
        status: finding.status,
        title: finding.title,
        url: finding.url,
        publishedDate: finding.publishedDate,
        packagePurl: finding.packagePurl,
        vex: finding.vex,
        state: triage.state,
        notes: triage.notes,
        firstSeen: previous ? previous.firstSeen : this.today,
        mirrored: record.mirrored,
        windows: record.windows,
        projects: record.projects,
        ignored: triage.ignored,
        ignoreExpires: triage.ignoreExpires,
        ignoreExpired: triage.expired,
        vexApplied: triage.vexApplied,
        vexDisagreement: triage.vexDisagreement,
      });
    }
    rows.sort(compareFindings);
    for (const row of rows) this.tally.add(row);
    this.rowCount += rows.length;
    return rows;
  }

  /** What the release's report says besides its rows; call once every image was merged. */
  finish(): ReleaseReportHead {
    // Lists in the order of the release's image list, as they were before the merge streamed.
    const byPosition = (a: { image: string }, b: { image: string }) => this.position.get(a.image)! - this.position.get(b.image)!;
    const inRelease = new Set(this.position.keys());
    return {
      release: this.release,
      date: this.today,
      images: {
        records: [...this.images],
        withFindings: this.withFindings,
        clean: this.clean,
        osNotScanned: this.osNotScanned.map((image) => ({ image })).sort(byPosition).map((i) => i.image),
        failed: [...this.failed].sort(byPosition),
        ...(this.ways.length > 0 ? { scans: [...this.ways].sort(byPosition) } : {}),
      },
      problems: [...this.problems].sort(byPosition),
      // Fixed: a previous (image, package, id) that is gone although its image was scanned, or whose image left the release.
      changes: { new: this.newCount, fixed: this.previous.countFixed(this.scanned, inRelease), unchanged: this.rowCount - this.newCount },
    };
  }
}

/** The index of previous rows the merge reads, from rows held in memory. */
export function previousReportOf(rows: Iterable<PreviousRow>): PreviousReport {
  const previous = new PreviousReport();
  for (const row of rows) previous.add(row.image, row.packageName, row.vulnerabilityId, row.state, row.notes, row.firstSeen, row.ignoreExpires);
  return previous;
}

/** The whole merge in memory: the streaming merge, with every row kept. */
export function mergeTriage(input: MergeInput): ReleaseReport {
  const merge = new ReleaseMerge(input.release, input.images, previousReportOf(input.previous), input.today);
  const previousByImage = new Map<string, PreviousRow[]>();
  for (const row of input.previous) {
    const ofImage = previousByImage.get(row.image);
    if (ofImage) ofImage.push(row);
    else previousByImage.set(row.image, [row]);
  }
  const rows: TriagedFinding[] = [];
  const carriedRows: PreviousRow[] = [];
  for (const record of imagesInReportOrder(input.images)) {
    const merged = merge.mergeImage(record, input.scans.get(record.image));
    if (merged) for (const row of merged) rows.push(row);
    else carriedRows.push(...(previousByImage.get(record.image) ?? []));
  }
  return { ...merge.finish(), rows, carriedRows };
}

export function summarizeReport(report: ReleaseReport): ReleaseReportSummary {
  const tally = new ReportTally();
  for (const row of report.rows) tally.add(row);
  return tally.summary(report);
}
