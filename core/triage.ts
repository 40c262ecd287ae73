import { countBySeverity, compareFindings, type Finding, type SeverityCounts } from './finding.js';
import type { ImageRecord } from './image-list.js';
import { parseImageRef } from './image-ref.js';
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

export interface ReleaseReport {
  release: string;
  rows: TriagedFinding[];
  /** Previous rows of images whose scan failed this run, kept verbatim. */
  carriedRows: PreviousRow[];
  images: { records: ImageRecord[]; withFindings: number; clean: number; osNotScanned: string[]; failed: FailedImage[] };
  problems: TriageProblem[];
  changes: { new: number; fixed: number; unchanged: number };
}

export interface ReleaseReportSummary {
  release: string;
  images: { total: number; withFindings: number; clean: number; osNotScanned: number; failed: number };
  findings: number;
  bySeverity: SeverityCounts;
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

/**
 * Whether an image's previous rows are written again verbatim: it has no usable scan this run.
 * The report reader keeps full cells for exactly these images, so both must ask this.
 */
export function keepsPreviousRows(scan: ImageScan | undefined): boolean {
  return !scan || scan.outcome === 'failed';
}

/** Key of a finding within one image or repository. */
const findingKeyOf = (pkg: string, id: string) => `${pkg}\u0000${id}`;

function repositoryOf(image: string): string | undefined {
  try {
    const ref = parseImageRef(image);
    return `${ref.registry}/${ref.repository}`;
  } catch {
    return undefined;
  }
}

/**
 * Previous rows indexed by owner (image, or repository) then by (package, id):
 * nested maps keep keys short, which matters at 200,000 rows.
 */
class TriageIndex {
  private readonly byOwner = new Map<string, Map<string, PreviousRow>>();

  /** Prefers the row that carries a person's words when one key matches several rows. */
  add(owner: string, row: PreviousRow): void {
    let rows = this.byOwner.get(owner);
    if (!rows) {
      rows = new Map();
      this.byOwner.set(owner, rows);
    }
    const key = findingKeyOf(row.packageName, row.vulnerabilityId);
    const existing = rows.get(key);
    if (!existing || (existing.notes.trim() === '' && row.notes.trim() !== '')) rows.set(key, row);
  }

  get(owner: string, pkg: string, id: string): PreviousRow | undefined {
    return this.byOwner.get(owner)?.get(findingKeyOf(pkg, id));
  }

  has(owner: string): boolean {
    return this.byOwner.has(owner);
  }
}

/**
 * Merges this run's scans with the previous report. Triage is looked up by
 * (image, package, id), then by (repository, package, id) so that notes
 * survive a tag bump. Images whose scan failed keep their previous rows.
 */
export function mergeTriage(input: MergeInput): ReleaseReport {
  const byImage = new TriageIndex();
  const byRepository = new TriageIndex();
  const previousByImage = new Map<string, PreviousRow[]>();
  for (const row of input.previous) {
    byImage.add(row.image, row);
    let ofImage = previousByImage.get(row.image);
    if (!ofImage) {
      ofImage = [];
      previousByImage.set(row.image, ofImage);
    }
    ofImage.push(row);
  }
  for (const [image, ofImage] of previousByImage) {
    const repository = repositoryOf(image);
    if (repository) for (const row of ofImage) byRepository.add(repository, row);
  }

  const rows: TriagedFinding[] = [];
  const carriedRows: PreviousRow[] = [];
  const problems: TriageProblem[] = [];
  const failed: FailedImage[] = [];
  const osNotScanned: string[] = [];
  let clean = 0;
  let withFindings = 0;
  const matchedPrevious = new Set<PreviousRow>();
  // New: no previous row, neither for this image nor (after a tag bump) for its repository.
  let newCount = 0;
  const scannedImages = new Set<string>();
  const currentByImage = new Map<string, Set<string>>();

  for (const record of input.images) {
    const scan = input.scans.get(record.image);
    if (!scan || keepsPreviousRows(scan)) {
      failed.push({
        image: record.image,
        type: scan?.failure?.type ?? 'NotScanned',
        summary: scan?.failure?.summary ?? 'no scan result was recorded for this image in this run',
      });
      carriedRows.push(...(previousByImage.get(record.image) ?? []));
      continue;
    }
    scannedImages.add(record.image);
    if (!scan.osScanned) osNotScanned.push(record.image);
    if (scan.findings.length === 0) {
      if (scan.osScanned) clean++;
      continue;
    }
    withFindings++;
    const repo = `${record.registry}/${record.repository}`;
    // A renamed tag inherits triage only when this exact image has no report of its own yet.
    const inheritsFromRepository = !byImage.has(record.image);
    const current = new Set<string>();
    currentByImage.set(record.image, current);
    for (const finding of scan.findings) {
      current.add(findingKeyOf(finding.packageName, finding.vulnerabilityId));
      const previous =
        byImage.get(record.image, finding.packageName, finding.vulnerabilityId) ??
        (inheritsFromRepository ? byRepository.get(repo, finding.packageName, finding.vulnerabilityId) : undefined);
      if (previous) matchedPrevious.add(previous);
      else newCount++;
      const triage = resolveTriageState({ previous, vex: finding.vex, today: input.today });
      if (triage.problem) {
        problems.push({ image: record.image, packageName: finding.packageName, vulnerabilityId: finding.vulnerabilityId, message: triage.problem });
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
        firstSeen: previous ? previous.firstSeen : input.today,
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
  }
  rows.sort(compareFindings);

  // Fixed: a previous (image, package, id) that is gone although its image was scanned, or whose image left the release.
  const releaseImages = new Set(input.images.map((i) => i.image));
  const fixedKeys = new Set<string>();
  for (const row of input.previous) {
    const key = findingKeyOf(row.packageName, row.vulnerabilityId);
    if (currentByImage.get(row.image)?.has(key) || matchedPrevious.has(row)) continue;
    if (scannedImages.has(row.image) || !releaseImages.has(row.image)) fixedKeys.add(`${row.image}\u0000${key}`);
  }
  return {
    release: input.release,
    rows,
    carriedRows,
    images: { records: input.images, withFindings, clean, osNotScanned, failed },
    problems,
    changes: { new: newCount, fixed: fixedKeys.size, unchanged: rows.length - newCount },
  };
}

export function summarizeReport(report: ReleaseReport): ReleaseReportSummary {
  const byState: Record<string, number> = {};
  const triage = emptyTriageCounts();
  for (const row of report.rows) {
    byState[row.state] = (byState[row.state] ?? 0) + 1;
    countTriage(triage, row);
  }
  return {
    release: report.release,
    images: {
      total: report.images.records.length,
      withFindings: report.images.withFindings,
      clean: report.images.clean,
      osNotScanned: report.images.osNotScanned.length,
      failed: report.images.failed.length,
    },
    findings: report.rows.length,
    bySeverity: countBySeverity(report.rows),
    byState,
    ignored: report.rows.filter((r) => r.ignored).length,
    invalidIgnores: report.problems.length,
    changes: report.changes,
    failedImages: report.images.failed,
    osNotScannedImages: report.images.osNotScanned,
    ...triage,
  };
}
