import { toSeverity, type Finding } from './finding.js';
import type { ImageScan } from './scan.js';

/** The only module that knows Trivy's JSON. */
export class UnparsableReportError extends Error {
  override name = 'UnparsableReportError';
}

interface TrivyVulnerability {
  VulnerabilityID?: unknown;
  PkgName?: unknown;
  PkgPath?: unknown;
  InstalledVersion?: unknown;
  FixedVersion?: unknown;
  Status?: unknown;
  Severity?: unknown;
  Title?: unknown;
  PrimaryURL?: unknown;
  PublishedDate?: unknown;
  PkgIdentifier?: { PURL?: unknown };
}

interface TrivyResult {
  Target?: unknown;
  Class?: unknown;
  Type?: unknown;
  Vulnerabilities?: unknown;
  /** `--show-suppressed`: findings a VEX statement (or .trivyignore) suppressed, with who said so. */
  ExperimentalModifiedFindings?: unknown;
}

interface TrivyModifiedFinding {
  Type?: unknown;
  Status?: unknown;
  Statement?: unknown;
  Source?: unknown;
  Finding?: unknown;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Parses a SchemaVersion 2 report and keeps every result, OS and language
 * packages alike (the system this replaces read only `Results[0]`).
 */
export function parseTrivyReport(text: string, image: string): ImageScan {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const preview = text.trim() === '' ? 'empty output' : `${text.length} bytes starting ${JSON.stringify(text.slice(0, 60))}`;
    throw new UnparsableReportError(`Trivy output for ${image} is not JSON (${(error as Error).message}; ${preview})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UnparsableReportError(`Trivy output for ${image} is not a Trivy JSON report (not an object)`);
  }
  const report = doc as Record<string, unknown>;
  if (report.SchemaVersion !== 2) {
    throw new UnparsableReportError(`Trivy output for ${image} has SchemaVersion ${JSON.stringify(report.SchemaVersion)}; only 2 is supported`);
  }
  const results = report.Results ?? [];
  if (!Array.isArray(results)) throw new UnparsableReportError(`Trivy output for ${image} has a "Results" that is not a list`);

  const findings: Finding[] = [];
  let osScanned = false;
  results.forEach((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null) throw new UnparsableReportError(`Trivy output for ${image}: Results[${i}] is not an object`);
    const result = raw as TrivyResult;
    const resultClass = str(result.Class);
    if (resultClass === 'os-pkgs') osScanned = true;
    const vulns = result.Vulnerabilities ?? [];
    if (!Array.isArray(vulns)) throw new UnparsableReportError(`Trivy output for ${image}: Results[${i}].Vulnerabilities is not a list`);
    const toFinding = (v: TrivyVulnerability, where: string): Finding => {
      const id = str(v?.VulnerabilityID);
      if (id === '') throw new UnparsableReportError(`Trivy output for ${image}: ${where} has no VulnerabilityID`);
      const finding: Finding = {
        image,
        target: str(result.Target),
        class: resultClass,
        type: str(result.Type),
        packageName: str(v.PkgName),
        packagePath: str(v.PkgPath),
        installedVersion: str(v.InstalledVersion),
        fixedVersion: str(v.FixedVersion),
        vulnerabilityId: id,
        severity: toSeverity(v.Severity),
        status: str(v.Status),
        title: str(v.Title),
        url: str(v.PrimaryURL),
        publishedDate: str(v.PublishedDate),
      };
      const purl = str(v.PkgIdentifier?.PURL);
      if (purl) finding.packagePurl = purl;
      return finding;
    };
    vulns.forEach((v: TrivyVulnerability, j) => findings.push(toFinding(v, `Results[${i}].Vulnerabilities[${j}]`)));
    // Suppressed is not deleted: each stays a finding, carrying the statement that suppressed it.
    const modified = result.ExperimentalModifiedFindings ?? [];
    if (!Array.isArray(modified)) throw new UnparsableReportError(`Trivy output for ${image}: Results[${i}].ExperimentalModifiedFindings is not a list`);
    modified.forEach((m: TrivyModifiedFinding, j) => {
      const where = `Results[${i}].ExperimentalModifiedFindings[${j}]`;
      if (typeof m !== 'object' || m === null) throw new UnparsableReportError(`Trivy output for ${image}: ${where} is not an object`);
      // Only vulnerabilities are scanned (`--scanners vuln`); other kinds have no place in the report.
      if (str(m.Type) !== 'vulnerability') return;
      if (typeof m.Finding !== 'object' || m.Finding === null) throw new UnparsableReportError(`Trivy output for ${image}: ${where} has no Finding`);
      if (typeof m.Status !== 'string' || m.Status === '') throw new UnparsableReportError(`Trivy output for ${image}: ${where} has no Status`);
      const finding = toFinding(m.Finding as TrivyVulnerability, `${where}.Finding`);
      finding.vex = { status: m.Status, justification: str(m.Statement), source: str(m.Source) };
      findings.push(finding);
    });
  });

  const metadata = (report.Metadata ?? {}) as { OS?: { Family?: unknown; Name?: unknown } };
  const os = metadata.OS ? `${str(metadata.OS.Family)} ${str(metadata.OS.Name)}`.trim() : undefined;
  const outcome = findings.length > 0 ? 'findings' : osScanned ? 'clean' : 'os-not-scanned';
  return { image, outcome, osScanned, os: os || undefined, findings };
}
