/** `check IMAGE`: an image scanned now set against the newest report rows of every release that has it (still present, fixed, new). */
import { severityRank, type Severity } from './finding.js';
import type { ScanOutcome } from './scan.js';
import type { ImageScan } from './scan.js';
import type { TriagedFinding } from './triage.js';

export type CheckStatus = 'still present' | 'fixed' | 'new';

export interface CheckedCve {
  status: CheckStatus;
  vulnerabilityId: string;
  packageName: string;
  severity: Severity;
  installedVersion: string;
  fixedVersion: string;
  title: string;
  /**
   * Left out as a run leaves it out of the image's issue: a justified ignore in every release
   * that reports it (still present), or a VEX statement (new). A fixed CVE never counts.
   */
  ignored: boolean;
  /** The VEX statement's source when one suppresses it in this scan. */
  vex?: string;
  /** What people wrote for it, per release (state as written, notes), from the newest reports. */
  triage: { release: string; state: string; notes: string; ignored: boolean }[];
}

export interface ImageCheck {
  image: string;
  outcome: ScanOutcome;
  /** Why the scan failed (then `cves` are the reports' rows, none of them judged). */
  failure?: string;
  /** Releases whose newest report lists the image. */
  releases: string[];
  cves: CheckedCve[];
  /** CVEs still present or new and not ignored: what makes `check` exit 3. */
  remaining: number;
}

const STATUS_ORDER: Record<CheckStatus, number> = { new: 0, 'still present': 1, fixed: 2 };
const key = (f: { vulnerabilityId: string; packageName: string }) => `${f.vulnerabilityId}\u0000${f.packageName}`;

/** The image's CVEs now against `reported` (each release's newest rows of this image, in release order). */
export function checkImage(scan: ImageScan, reported: { release: string; rows: TriagedFinding[] }[]): ImageCheck {
  const before = new Map<string, { row: TriagedFinding; triage: CheckedCve['triage'] }>();
  for (const { release, rows } of reported) {
    for (const row of rows) {
      const seen = before.get(key(row)) ?? { row, triage: [] };
      // One entry per release even when a release has the CVE in two targets of the image.
      if (!seen.triage.some((t) => t.release === release)) seen.triage.push({ release, state: row.state, notes: row.notes, ignored: row.ignored });
      before.set(key(row), seen);
    }
  }
  const cves: CheckedCve[] = [];
  const failed = scan.outcome === 'failed';
  const now = new Map<string, (typeof scan.findings)[number]>();
  for (const f of scan.findings) if (!now.has(key(f))) now.set(key(f), f);
  if (!failed) {
    for (const [k, f] of now) {
      const was = before.get(k);
      const base = { vulnerabilityId: f.vulnerabilityId, packageName: f.packageName, severity: f.severity, installedVersion: f.installedVersion, fixedVersion: f.fixedVersion, title: f.title, ...(f.vex ? { vex: f.vex.source } : {}) };
      if (was) cves.push({ ...base, status: 'still present', ignored: was.triage.every((t) => t.ignored), triage: was.triage });
      else cves.push({ ...base, status: 'new', ignored: f.vex !== undefined, triage: [] });
    }
    for (const [k, was] of before) {
      if (now.has(k)) continue;
      const r = was.row;
      cves.push({ status: 'fixed', vulnerabilityId: r.vulnerabilityId, packageName: r.packageName, severity: r.severity, installedVersion: r.installedVersion, fixedVersion: r.fixedVersion, title: r.title, ignored: false, triage: was.triage });
    }
  }
  cves.sort(
    (a, b) =>
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      severityRank(a.severity) - severityRank(b.severity) ||
      (a.vulnerabilityId < b.vulnerabilityId ? -1 : a.vulnerabilityId > b.vulnerabilityId ? 1 : 0) ||
      (a.packageName < b.packageName ? -1 : a.packageName > b.packageName ? 1 : 0),
  );
  return {
    image: scan.image,
    outcome: scan.outcome,
    ...(failed ? { failure: `${scan.failure?.type ?? 'ScanFailed'}: ${scan.failure?.summary ?? ''}` } : {}),
    releases: reported.map((r) => r.release),
    cves,
    remaining: cves.filter((c) => c.status !== 'fixed' && !c.ignored).length,
  };
}

export const CHECK_CLEAN = 0;
/** Unignored CVEs remain (distinct from 1, a failure, and 2, bad usage). */
export const CHECK_CVES_REMAIN = 3;

/** 0 when no unignored CVE remains, 3 otherwise; a failed scan is the command's failure (1), decided by the caller. */
export function checkExitCode(check: ImageCheck): number {
  return check.remaining === 0 ? CHECK_CLEAN : CHECK_CVES_REMAIN;
}
