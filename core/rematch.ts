/** The rules of re-matching: which path a scan takes, how its findings are made comparable, and when a stored SBOM is trusted. */
import { compareFindings, type Finding } from './finding.js';
import type { ImageScan } from './scan.js';

/** How an image was scanned in a run: its stored SBOM matched again (no pull), or pulled and scanned. */
export type ScanPath = 'rematched' | 'pulled';

/** What the result store keeps beside one image digest's CycloneDX SBOM (store key: digest and Trivy version). */
export interface StoredSbom {
  digest: string;
  trivyVersion: string;
  /** The image it was first made from, for people reading the store. */
  image: string;
  madeAt: string;
  /** True once `trivy sbom` on it reproduced the full scan's normalized findings and outcome. */
  verified: boolean;
  /** Why it is not trusted, when it is not: the image then always gets full scans. */
  unverifiedReason?: string;
  /** The CycloneDX document `trivy convert` wrote. */
  sbom: unknown;
}

export type PathChoice = { path: 'rematch'; sbom: StoredSbom } | { path: 'full'; reason: string };

/**
 * Re-match only when everything says the image is the one analysed before: the HEAD gave a digest,
 * an SBOM of that digest by this Trivy version is stored and verified, and no full scan was asked for.
 */
export function choosePath(input: { digest?: string; trivyVersion?: string; full: boolean; stored?: StoredSbom; storedProblem?: string }): PathChoice {
  if (input.full) return { path: 'full', reason: 'a full scan was asked for (run --full or IMAGE_SCANNING_FULL_SCAN)' };
  if (!input.trivyVersion) return { path: 'full', reason: 'the Trivy version is unknown' };
  if (!input.digest) return { path: 'full', reason: 'the registry gave no digest for the tag' };
  if (input.storedProblem) return { path: 'full', reason: input.storedProblem };
  const stored = input.stored;
  if (!stored) return { path: 'full', reason: `no SBOM of ${input.digest} by Trivy ${input.trivyVersion} is stored yet` };
  if (!stored.verified) return { path: 'full', reason: `the SBOM of ${input.digest} needs full scans: ${stored.unverifiedReason ?? 'not verified'}` };
  return { path: 'rematch', sbom: stored };
}

/**
 * Checks that a stored SBOM record is whole and is what its key says (digest, Trivy version), and
 * that the CycloneDX document inside was made by that Trivy version. Returns the problem, or undefined.
 */
export function storedSbomProblem(value: unknown, digest: string, trivyVersion: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the stored SBOM record is not an object';
  const record = value as Partial<StoredSbom>;
  if (record.digest !== digest) return `the stored SBOM record is for ${String(record.digest)}, not ${digest}`;
  if (record.trivyVersion !== trivyVersion) return `the stored SBOM was made by Trivy ${String(record.trivyVersion)}, not ${trivyVersion}`;
  if (typeof record.verified !== 'boolean') return 'the stored SBOM record has no "verified" flag';
  if (!record.verified) return undefined;
  const doc = record.sbom as { bomFormat?: unknown; specVersion?: unknown; metadata?: { tools?: { components?: { name?: unknown; version?: unknown }[] } }; components?: unknown };
  if (typeof doc !== 'object' || doc === null || doc.bomFormat !== 'CycloneDX') return 'the stored SBOM is not a CycloneDX document';
  if (typeof doc.specVersion !== 'string') return 'the stored SBOM has no specVersion';
  const tool = doc.metadata?.tools?.components?.find((c) => c?.name === 'trivy');
  if (!tool) return 'the stored SBOM does not say which Trivy made it';
  if (tool.version !== trivyVersion) return `the stored SBOM document was made by Trivy ${String(tool.version)}, not ${trivyVersion}`;
  if (doc.components !== undefined && !Array.isArray(doc.components)) return 'the stored SBOM has "components" that is not a list';
  return undefined;
}

/**
 * Trivy names an OS result after what it scanned: `repo:tag (alpine 3.19.1)` for an image, the
 * SBOM's file path for `trivy sbom`, the digest for `repo@sha256:…`. Every path writes the image.
 */
export function osTargetAsImage(target: string, image: string): string {
  const open = target.lastIndexOf(' (');
  if (open < 0 || !target.endsWith(')')) return image;
  return `${image}${target.slice(open)}`;
}

/** The scan as the report sees it, whichever way it was reached: OS targets named after the image, findings sorted. */
export function normalizeScan(scan: ImageScan, image: string): ImageScan {
  const findings = scan.findings.map((f): Finding => ({ ...f, image, target: f.class === 'os-pkgs' ? osTargetAsImage(f.target, image) : f.target }));
  findings.sort(compareFindings);
  return { ...scan, image, findings };
}

/** The first difference between two normalized scans (outcome, OS, findings), or undefined when they agree exactly. */
export function scanDifference(full: ImageScan, rematched: ImageScan): string | undefined {
  if (full.outcome !== rematched.outcome) return `outcome ${full.outcome} by the full scan, ${rematched.outcome} from the SBOM`;
  if (full.osScanned !== rematched.osScanned) return `OS scanned ${full.osScanned} by the full scan, ${rematched.osScanned} from the SBOM`;
  if ((full.os ?? '') !== (rematched.os ?? '')) return `OS "${full.os ?? ''}" by the full scan, "${rematched.os ?? ''}" from the SBOM`;
  const a = full.findings.map((f) => JSON.stringify(f));
  const b = rematched.findings.map((f) => JSON.stringify(f));
  const onlyFull = a.filter((x) => !b.includes(x));
  const onlySbom = b.filter((x) => !a.includes(x));
  if (onlyFull.length === 0 && onlySbom.length === 0 && a.length === b.length) return undefined;
  const name = (text: string | undefined) => {
    if (!text) return '';
    const f = JSON.parse(text) as Finding;
    return `${f.vulnerabilityId} in ${f.packageName} ${f.installedVersion}`;
  };
  if (onlyFull.length > 0) return `${onlyFull.length} finding(s) only in the full scan (first: ${name(onlyFull[0])})`;
  if (onlySbom.length > 0) return `${onlySbom.length} finding(s) only from the SBOM (first: ${name(onlySbom[0])})`;
  return `${a.length} findings by the full scan, ${b.length} from the SBOM`;
}

/** A pinned reference for a full scan: `repository@digest` (the tag dropped), so a tag moved mid-run is not what gets scanned. */
export function pinnedReference(image: string, digest: string): string {
  const at = image.indexOf('@');
  const base = at >= 0 ? image.slice(0, at) : image;
  const slash = base.lastIndexOf('/');
  const colon = base.lastIndexOf(':');
  const repository = colon > slash ? base.slice(0, colon) : base;
  return `${repository}@${digest}`;
}

/** Registry host of a canonical image reference (`docker.io/rancher/x:1` gives `docker.io`). */
export function registryOf(image: string): string {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}
