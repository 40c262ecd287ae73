import type { Severity, SeverityCounts } from './finding.js';

/**
 * The issue an image should have: what core/issue-plan.ts builds and core/render/markdown.ts
 * renders, in a module of its own so neither imports the other.
 */
export interface IssueFinding {
  vulnerabilityId: string;
  severity: Severity;
  packageName: string;
  installedVersion: string;
  fixedVersion: string;
  title: string;
  url: string;
  /** What people wrote for it, per release of the image (state as written, notes), in release order. */
  triage: IssueTriage[];
}

export interface IssueTriage {
  release: string;
  state: string;
  notes: string;
  /** An ignore that counts (justified); shown so a CVE ignored in some releases but not all says so. */
  ignored: boolean;
}

export interface DesiredIssue {
  image: string;
  title: string;
  labels: string[];
  findings: IssueFinding[];
  counts: SeverityCounts;
  /** Findings ignored in every release that contains the image, left out of the table. */
  ignored: number;
  releases: string[];
  /** Releases generated at a git ref, with the commit: "v2.13-head at 1a2b3c4" in the body. */
  releaseCommits?: Record<string, string>;
  projects: string[];
  /** The body, when it was rendered as the image was settled; `findings` is then empty (streamed reconciliation). */
  body?: string;
}

