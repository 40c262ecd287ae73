import { shortCommit } from './release-source.js';
import { countBySeverity, severityRank } from './finding.js';
import type { DesiredIssue, IssueFinding } from './issue.js';
import { renderIssueBody, readIssueMarker, type IssueBodyOptions } from './render/markdown.js';
import type { ReleaseReport, ReleaseReportHead, TriagedFinding } from './triage.js';

export type { DesiredIssue, IssueFinding, IssueTriage } from './issue.js';

export const ISSUE_TITLE_PREFIX = '[CVE Report]: ';
export const LABEL_CVE_REPORT = 'cve-report';
export const LABEL_CRITICAL = 'critical-cves';
export const LABEL_MIRRORED = 'mirrored-image';
export const LABEL_WINDOWS = 'windows';
export const RELEASE_LABEL_PREFIX = 'release/';
export const PROJECT_LABEL_PREFIX = 'project/';
/** GitHub's limit on a label name. */
const LABEL_MAX = 50;

export interface DesiredIssues {
  open: DesiredIssue[];
  /** Scanned successfully this run and nothing left to report. */
  resolved: string[];
  /** Scan failed this run: their issues are left exactly as they are. */
  held: string[];
  releases: string[];
}

export interface ExistingIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  url?: string;
}

export type IssueChange =
  | { action: 'create'; image: string; title: string; body: string; labels: string[] }
  | { action: 'update'; number: number; image: string; title: string; body: string; labels: string[]; reopen: boolean }
  | { action: 'close'; number: number; image: string; comment: string };

export interface IssuePlan {
  changes: IssueChange[];
  unchanged: number;
  held: string[];
  /** Every label the plan puts on an issue; missing ones are created before applying. */
  labels: string[];
}

export function issueTitle(image: string): string {
  return `${ISSUE_TITLE_PREFIX}${image}`;
}

/** `rancher-monitoring:16.6.0` is one project whatever its chart version. */
export function projectLabel(project: string): string {
  return `${PROJECT_LABEL_PREFIX}${project.split(':')[0]}`.slice(0, LABEL_MAX);
}

export function releaseLabel(release: string): string {
  return `${RELEASE_LABEL_PREFIX}${release}`.slice(0, LABEL_MAX);
}

/** Colour and description of each label the product owns, used when it creates a missing one. */
export function labelStyle(label: string): { color: string; description: string } {
  if (label === LABEL_CVE_REPORT) return { color: 'b60205', description: 'CVE report for one container image (image-scanning)' };
  if (label === LABEL_CRITICAL) return { color: 'd93f0b', description: 'The image has at least one unignored CRITICAL CVE' };
  if (label === LABEL_MIRRORED) return { color: 'c5def5', description: 'Image mirrored from upstream (rancher/mirrored-* or the image-mirror list)' };
  if (label === LABEL_WINDOWS) return { color: '5319e7', description: 'Windows image' };
  if (label.startsWith(RELEASE_LABEL_PREFIX)) return { color: '0e8a16', description: `Image shipped in Rancher ${label.slice(RELEASE_LABEL_PREFIX.length)}` };
  return { color: '1d76db', description: `Image from project ${label.slice(PROJECT_LABEL_PREFIX.length)}` };
}

export function isOwnedLabel(label: string): boolean {
  return (
    [LABEL_CVE_REPORT, LABEL_CRITICAL, LABEL_MIRRORED, LABEL_WINDOWS].includes(label) ||
    label.startsWith(RELEASE_LABEL_PREFIX) ||
    label.startsWith(PROJECT_LABEL_PREFIX)
  );
}

interface ImageAcc {
  releases: Set<string>;
  projects: Set<string>;
  mirrored: boolean;
  windows: boolean;
  failed: boolean;
  /** finding key → (finding, ignored in every release seen so far) */
  findings: Map<string, { finding: IssueFinding; ignoredEverywhere: boolean }>;
}

/**
 * The issue every image should have, across all releases of the run, built from each
 * release's head and then its rows one at a time (in any order).
 */
export class DesiredIssuesBuilder {
  private readonly images = new Map<string, ImageAcc>();
  private readonly settled = new Map<string, Settled>();
  private readonly releases: string[] = [];
  /** release → short commit, for releases generated at a git ref. */
  private readonly commits: Record<string, string> = {};

  private acc(image: string): ImageAcc {
    let a = this.images.get(image);
    if (!a) {
      a = { releases: new Set(), projects: new Set(), mirrored: false, windows: false, failed: false, findings: new Map() };
      this.images.set(image, a);
    }
    return a;
  }

  addRelease(report: Pick<ReleaseReportHead, 'release' | 'images' | 'source'>): void {
    this.releases.push(report.release);
    if (report.source) this.commits[report.release] = shortCommit(report.source.commit);
    for (const record of report.images.records) {
      const a = this.acc(record.image);
      a.releases.add(report.release);
      record.projects.forEach((p) => a.projects.add(p));
      a.mirrored ||= record.mirrored;
      a.windows ||= record.windows;
    }
    for (const failed of report.images.failed) this.acc(failed.image).failed = true;
  }

  addRow(release: string, row: TriagedFinding): void {
    const a = this.acc(row.image);
    const key = `${row.vulnerabilityId}\u0000${row.packageName}\u0000${row.installedVersion}`;
    const seen = a.findings.get(key);
    const triage = { release, state: row.state, notes: row.notes, ignored: row.ignored };
    if (seen) {
      seen.ignoredEverywhere &&= row.ignored;
      seen.finding.triage.push(triage);
    } else {
      a.findings.set(key, {
        finding: {
          vulnerabilityId: row.vulnerabilityId,
          severity: row.severity,
          packageName: row.packageName,
          installedVersion: row.installedVersion,
          fixedVersion: row.fixedVersion,
          title: row.title,
          url: row.url,
          triage: [triage],
        },
        ignoredEverywhere: row.ignored,
      });
    }
  }

  /**
   * Settles an image once every release's rows of it were added (the caller reads the releases'
   * rows merged by image): its issue body is rendered now and its findings let go, so what is
   * held across a run is one body per image, not every finding.
   */
  finishImage(image: string, bodyOptions: IssueBodyOptions = {}): void {
    const a = this.images.get(image);
    if (!a || this.settled.has(image)) return;
    const s = settle(image, a, this.commits);
    if (s.kind === 'open') {
      s.issue.body = renderIssueBody(s.issue, bodyOptions);
      s.issue.findings = [];
    }
    this.settled.set(image, s);
    a.findings.clear();
  }

  build(): DesiredIssues {
    return desiredIssuesOf(this.images, this.settled, this.releases, this.commits);
  }
}

/** Builds the issue every image should have from reports held in memory. */
export function buildDesiredIssues(reports: ReleaseReport[]): DesiredIssues {
  const builder = new DesiredIssuesBuilder();
  for (const report of reports) {
    builder.addRelease(report);
    for (const row of report.rows) builder.addRow(report.release, row);
  }
  return builder.build();
}

type Settled = { kind: 'held' } | { kind: 'resolved' } | { kind: 'open'; issue: DesiredIssue };

/** What an image's issue should be, once every release's rows of it were added. */
function settle(image: string, a: ImageAcc, commits: Record<string, string>): Settled {
  if (a.failed) return { kind: 'held' };
  const shown = [...a.findings.values()].filter((f) => !f.ignoredEverywhere).map((f) => f.finding);
  if (shown.length === 0) return { kind: 'resolved' };
  shown.sort(
    (x, y) =>
      severityRank(x.severity) - severityRank(y.severity) ||
      (x.vulnerabilityId < y.vulnerabilityId ? -1 : x.vulnerabilityId > y.vulnerabilityId ? 1 : 0) ||
      (x.packageName < y.packageName ? -1 : x.packageName > y.packageName ? 1 : 0),
  );
  const counts = countBySeverity(shown);
  const releases = [...a.releases].sort();
  const releaseCommits = Object.fromEntries(releases.filter((r) => commits[r]).map((r) => [r, commits[r]!]));
  const projects = [...a.projects].sort();
  const labels = new Set<string>([LABEL_CVE_REPORT]);
  if (counts.CRITICAL > 0) labels.add(LABEL_CRITICAL);
  releases.forEach((r) => labels.add(releaseLabel(r)));
  projects.forEach((p) => labels.add(projectLabel(p)));
  if (a.mirrored) labels.add(LABEL_MIRRORED);
  if (a.windows) labels.add(LABEL_WINDOWS);
  return {
    kind: 'open',
    issue: {
      image,
      title: issueTitle(image),
      labels: [...labels].sort(),
      findings: shown,
      counts,
      ignored: a.findings.size - shown.length,
      releases,
      ...(Object.keys(releaseCommits).length > 0 ? { releaseCommits } : {}),
      projects,
    },
  };
}

function desiredIssuesOf(images: Map<string, ImageAcc>, settled: Map<string, Settled>, releaseNames: string[], commits: Record<string, string>): DesiredIssues {
  const open: DesiredIssue[] = [];
  const resolved: string[] = [];
  const held: string[] = [];
  for (const [image, a] of [...images].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const s = settled.get(image) ?? settle(image, a, commits);
    if (s.kind === 'held') held.push(image);
    else if (s.kind === 'resolved') resolved.push(image);
    else open.push(s.issue);
  }
  return { open, resolved, held, releases: [...releaseNames].sort() };
}

function sameSet(a: string[], b: string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Finds each image's existing issue: by hidden marker first, then by the legacy title. */
export function indexExistingIssues(existing: ExistingIssue[]): Map<string, ExistingIssue> {
  const byImage = new Map<string, ExistingIssue>();
  const better = (a: ExistingIssue, b: ExistingIssue) =>
    a.state !== b.state ? (a.state === 'open' ? a : b) : a.number < b.number ? a : b;
  const put = (image: string, issue: ExistingIssue) => {
    const current = byImage.get(image);
    byImage.set(image, current ? better(current, issue) : issue);
  };
  for (const issue of existing) {
    const marked = readIssueMarker(issue.body);
    if (marked) put(marked, issue);
  }
  for (const issue of existing) {
    if (readIssueMarker(issue.body) || !issue.title.startsWith(ISSUE_TITLE_PREFIX)) continue;
    const image = issue.title.slice(ISSUE_TITLE_PREFIX.length).trim();
    if (!byImage.has(image)) put(image, issue);
  }
  return byImage;
}

/**
 * Decides the fewest changes that make GitHub match the desired state.
 * Held images (failed scans) are never touched, and an issue is closed for
 * leaving the scanned releases only when every release it is labelled with was scanned.
 */
export function planIssueChanges(desired: DesiredIssues, existing: ExistingIssue[], bodyOptions: IssueBodyOptions = {}): IssuePlan {
  const byImage = indexExistingIssues(existing);
  const changes: IssueChange[] = [];
  let unchanged = 0;
  const labels = new Set<string>();
  const handled = new Set<string>(desired.held);

  for (const issue of desired.open) {
    handled.add(issue.image);
    const body = issue.body ?? renderIssueBody(issue, bodyOptions);
    const current = byImage.get(issue.image);
    issue.labels.forEach((l) => labels.add(l));
    if (!current) {
      changes.push({ action: 'create', image: issue.image, title: issue.title, body, labels: issue.labels });
      continue;
    }
    const foreign = current.labels.filter((l) => !isOwnedLabel(l));
    const wantedLabels = [...new Set([...issue.labels, ...foreign])].sort();
    const reopen = current.state === 'closed';
    if (reopen || current.title !== issue.title || current.body !== body || !sameSet(current.labels, wantedLabels)) {
      changes.push({ action: 'update', number: current.number, image: issue.image, title: issue.title, body, labels: wantedLabels, reopen });
    } else {
      unchanged++;
    }
  }

  const scannedReleases = new Set(desired.releases.map(releaseLabel));
  for (const image of desired.resolved) {
    handled.add(image);
    const current = byImage.get(image);
    if (current?.state === 'open') {
      changes.push({ action: 'close', number: current.number, image, comment: 'This image was scanned and has no unignored vulnerability left in any scanned release. Closing.' });
    }
  }
  for (const [image, current] of byImage) {
    if (handled.has(image) || current.state !== 'open') continue;
    const issueReleases = current.labels.filter((l) => l.startsWith(RELEASE_LABEL_PREFIX));
    if (issueReleases.length > 0 && issueReleases.every((l) => scannedReleases.has(l))) {
      changes.push({ action: 'close', number: current.number, image, comment: 'This image is no longer part of any scanned release. Closing.' });
    }
  }
  return { changes, unchanged, held: desired.held, labels: [...labels].sort() };
}

export function countPlan(plan: IssuePlan): Record<'create' | 'update' | 'reopen' | 'close' | 'unchanged', number> {
  return {
    create: plan.changes.filter((c) => c.action === 'create').length,
    update: plan.changes.filter((c) => c.action === 'update' && !c.reopen).length,
    reopen: plan.changes.filter((c) => c.action === 'update' && c.reopen).length,
    close: plan.changes.filter((c) => c.action === 'close').length,
    unchanged: plan.unchanged,
  };
}
