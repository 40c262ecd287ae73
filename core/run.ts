import type { SeverityCounts } from './finding.js';

/**
 * Inputs and results that cross workflow history. Everything here is small:
 * names, paths, counts and keys, never image lists or findings.
 */

/**
 * Where a release's lists come from: local paths or http(s) URLs when `images`
 * is given, else the assets of the GitHub release `tag` (default: the name) of
 * `repository` (default: rancher/rancher).
 */
export interface ReleaseInput {
  name: string;
  images?: string;
  sources?: string;
  windowsImages?: string;
  repository?: string;
  tag?: string;
}

export interface ScanReleasesInput {
  releases: ReleaseInput[];
  /** Scans in flight per release (default 8). */
  maxConcurrentScans?: number;
  /** Scans one child starts before it continues as new (default: Temporal's suggestion only). */
  maxScansPerRun?: number;
  /** Skip issue reconciliation and site publishing (e.g. for a dry scan). */
  skipPublish?: boolean;
  /** An image-mirror list (`SOURCE DESTINATION TAG`): its destinations count as mirrored images. */
  mirrorList?: string;
  /** `owner/name` of the issues; the worker's GITHUB_REPOSITORY when absent. */
  issueRepository?: string;
}

export interface ScanReleaseInput {
  runKey: string;
  release: ReleaseInput;
  mirrorList?: string;
  maxConcurrentScans?: number;
  maxScansPerRun?: number;
  /** Set when the workflow continues as new in the middle of scanning. */
  resume?: ScanCursor;
}

export interface ScanCursor {
  total: number;
  assigned: number;
  cursor: number;
  done: number;
  failed: number;
  failedByType: Record<string, number>;
  failedSample: string[];
  counts: SeverityCounts;
  runs: number;
  /** Malformed lines of the release's lists: how many, and the first few with file and line. */
  listProblems?: number;
  listProblemSample?: string[];
}

export interface ResolvedImages {
  release: string;
  total: number;
  windows: number;
  mirrored: number;
  /** Malformed lines, skipped; the first few messages for people. */
  problems: number;
  problemSample: string[];
}

export interface ReleaseReportResult {
  release: string;
  csvPath: string;
  summaryPath: string;
  findings: number;
  bySeverity: SeverityCounts;
  images: number;
  failedScans: number;
  osNotScanned: number;
  invalidIgnores: number;
  newFindings: number;
  fixedFindings: number;
}

export interface ReleaseResult {
  release: string;
  total: number;
  /** Images this release scanned itself; the rest were scanned for another release of the run. */
  assigned: number;
  scanned: number;
  failed: number;
  failedByType: Record<string, number>;
  failedSample: string[];
  continuedAsNew: number;
  /** Lines of the release's lists that were skipped as malformed (file:line: reason). */
  listProblems: number;
  listProblemSample: string[];
  report?: ReleaseReportResult;
}

export interface IssueReconciliation {
  applied: boolean;
  planPath: string;
  create: number;
  update: number;
  reopen: number;
  close: number;
  unchanged: number;
  held: number;
}

/** What a triage pass over issue comments did (activities/triage). */
export interface TriageResult {
  /** Comments new or edited since the cursor. */
  comments: number;
  /** Command lines read (applied or not). */
  commands: number;
  /** Command lines applied. */
  applied: number;
  reacted: number;
  replied: number;
  rowsChanged: number;
  releasesWritten: string[];
}

export interface RunSummary {
  runKey: string;
  releases: { release: string; status: 'completed' | 'failed'; error?: string; result?: ReleaseResult }[];
  scannedImages: number;
  failedScans: number;
  issues?: IssueReconciliation;
  /** Absent in runs started before triage from issue comments. */
  triage?: TriageResult;
  sitePath?: string;
}

/**
 * How far the issue writes are: the activity's heartbeat details, which the Web UI shows on the
 * pending activity and `followRun` reads (GitHub's pace for content writes makes this phase
 * the longest of a first run).
 */
export interface IssueProgress {
  phase: 'issues';
  done: number;
  total: number;
}
