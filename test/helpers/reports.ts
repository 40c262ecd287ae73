import type { Finding, Severity } from '../../core/finding.js';
import { buildImageRecords, parseImageList } from '../../core/image-list.js';
import type { ImageScan } from '../../core/scan.js';
import { mergeTriage, type PreviousRow, type ReleaseReport } from '../../core/triage.js';

export function finding(image: string, id: string, severity: Severity = 'HIGH', extra: Partial<Finding> = {}): Finding {
  return {
    image,
    target: `${image} (debian 12.5)`,
    class: 'os-pkgs',
    type: 'debian',
    packageName: 'openssl',
    packagePath: '',
    installedVersion: '3.0.11-1',
    fixedVersion: '3.0.13-1',
    vulnerabilityId: id,
    severity,
    status: 'fixed',
    title: `title of ${id}`,
    url: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
    publishedDate: '2024-01-01T00:00:00Z',
    ...extra,
  };
}

/** A release report built with the real merge, from image → findings (a string marks a failed scan). */
export function releaseReport(
  release: string,
  scans: Record<string, Finding[] | 'failed' | 'clean'>,
  previous: PreviousRow[] = [],
): ReleaseReport {
  const images = buildImageRecords({ images: parseImageList(Object.keys(scans).join('\n'), `${release}.txt`) });
  const map = new Map<string, ImageScan>();
  for (const [image, scan] of Object.entries(scans)) {
    if (scan === 'failed') {
      map.set(image, { image, outcome: 'failed', osScanned: false, findings: [], failure: { type: 'ImageNotFound', permanent: true, summary: 'manifest unknown' } });
    } else {
      const findings = scan === 'clean' ? [] : scan;
      map.set(image, { image, outcome: findings.length ? 'findings' : 'clean', osScanned: true, findings });
    }
  }
  return mergeTriage({ release, images, scans: map, previous, today: '2026-11-29' });
}

/** A previous CSV row that ignores (image, package, id) with a justification. */
export function ignoreRow(image: string, id: string, notes = 'not reachable: the binary never calls it', packageName = 'openssl'): PreviousRow {
  return { image, packageName, vulnerabilityId: id, state: 'ignore', notes, firstSeen: '2026-01-01', cells: {} };
}
