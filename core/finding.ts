/** The one normalized model of a vulnerability in an image; every renderer reads this, never Trivy JSON. */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type SeverityCounts = Record<Severity, number>;

export interface Finding {
  image: string;
  /** Trivy's result target: the OS (`alpine 3.9.4`) or a file (`usr/bin/app`). */
  target: string;
  /** `os-pkgs`, `lang-pkgs`, ... */
  class: string;
  /** Package ecosystem: `alpine`, `debian`, `gobinary`, `jar`, ... */
  type: string;
  packageName: string;
  packagePath: string;
  installedVersion: string;
  fixedVersion: string;
  vulnerabilityId: string;
  severity: Severity;
  status: string;
  title: string;
  url: string;
  publishedDate: string;
  /** Trivy's package URL of the package (`PkgIdentifier.PURL`), when it gives one. */
  packagePurl?: string;
  /** Set when a VEX statement suppressed the finding (Trivy's `--show-suppressed`); it is still a finding. */
  vex?: VexSuppression;
}

/** What Trivy says suppressed a finding (`--vex` with `--show-suppressed`: ExperimentalModifiedFindings). */
export interface VexSuppression {
  /** `not_affected` or `fixed` (OpenVEX), `ignored` (.trivyignore). */
  status: string;
  /** Trivy's `Statement`: the OpenVEX justification (Trivy does not report the impact statement). */
  justification: string;
  /** The document: the file path given to `--vex`, or `VEX Repository: name (url)`. */
  source: string;
}

export function toSeverity(value: unknown): Severity {
  const upper = typeof value === 'string' ? value.toUpperCase() : '';
  return (SEVERITIES as readonly string[]).includes(upper) ? (upper as Severity) : 'UNKNOWN';
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function emptySeverityCounts(): SeverityCounts {
  return { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
}

export function countBySeverity(items: Iterable<{ severity: Severity }>): SeverityCounts {
  const counts = emptySeverityCounts();
  for (const item of items) counts[item.severity]++;
  return counts;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The one sort: image, severity (CRITICAL first), vulnerability id, package, then the
 * remaining identity fields so that equal keys still come out in a stable order.
 */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    compareText(a.image, b.image) ||
    severityRank(a.severity) - severityRank(b.severity) ||
    compareText(a.vulnerabilityId, b.vulnerabilityId) ||
    compareText(a.packageName, b.packageName) ||
    compareText(a.installedVersion, b.installedVersion) ||
    compareText(a.target, b.target) ||
    compareText(a.packagePath, b.packagePath)
  );
}

/** Identity of a finding within one image: the same CVE in two packages or targets is two findings. */
export function findingKey(f: Pick<Finding, 'image' | 'target' | 'packageName' | 'packagePath' | 'installedVersion' | 'vulnerabilityId'>): string {
  return [f.image, f.target, f.packageName, f.packagePath, f.installedVersion, f.vulnerabilityId].join('\u0000');
}
