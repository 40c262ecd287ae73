/** Trivy's command line and environment for one image scan. */
import type { ImageRecord } from '../../core/image-list.js';
import type { TrivySettings } from './trivy-settings.js';

/**
 * Since v0.6x every Trivy run asks Aqua's update service for notices and sends anonymous usage
 * data: a thousand outbound requests a week from the workers, each a 3 s timeout on air-gapped
 * ones. The project pins its Trivy; neither is wanted.
 */
export const QUIET_TRIVY = ['--skip-version-check', '--disable-telemetry'];

/**
 * Trivy's command line for one scan. `databaseDir` is the run's copy of the DB (scanner-db.ts),
 * opened read-only, so any number of scans share it; the layer cache is chosen by
 * `trivyEnvironment`, outside the command line.
 */
export function trivyArgs(
  settings: TrivySettings,
  image: ImageRecord,
  outputFile: string,
  databaseDir = settings.cacheDir,
  vex: string[] = [],
  how: { target?: string; sbomFile?: string; listAllPkgs?: boolean } = {},
): string[] {
  const args = [how.sbomFile ? 'sbom' : 'image', '--format', 'json', '--scanners', 'vuln', '--quiet', ...QUIET_TRIVY, '--timeout', `${settings.timeoutSeconds}s`, '--output', outputFile];
  if (settings.server) {
    args.push('--cache-dir', settings.cacheDir, '--server', settings.server);
  } else {
    // The DB was downloaded once for the run and copied for it: no scan updates it.
    args.push('--cache-dir', databaseDir, '--skip-db-update', '--skip-java-db-update');
  }
  if (settings.severities.length > 0) args.push('--severity', settings.severities.join(','));
  if (image.windows && !how.sbomFile) args.push('--platform', 'windows/amd64');
  // Every package in the JSON, so that `trivy convert` can make the image's SBOM from it.
  if (how.listAllPkgs) args.push('--list-all-pkgs');
  if (vex.length > 0) {
    // Suppressed findings stay in the report (ExperimentalModifiedFindings) with their statement:
    // the CSV keeps them as ignores, never drops them.
    for (const source of vex) args.push('--vex', source);
    args.push('--show-suppressed');
    // The repositories are downloaded once per run by prepareScanner, never by each scan.
    if (vex.includes('repo')) args.push('--skip-vex-repo-update');
  }
  args.push(how.sbomFile ?? how.target ?? image.image);
  return args;
}

/** `trivy convert`: the JSON report of a full scan (with --list-all-pkgs) into a CycloneDX SBOM; no DB, no registry. */
export function convertArgs(reportFile: string, sbomFile: string): string[] {
  // convert takes neither --skip-version-check nor --disable-telemetry (v0.74.0): it contacts nothing.
  return ['convert', '--format', 'cyclonedx', '--quiet', '--output', sbomFile, reportFile];
}

/** TRIVY_CACHE_BACKEND for the scan's process: the password stays out of its argv. */
export function trivyEnvironment(settings: TrivySettings): Record<string, string> {
  return settings.server ? {} : { TRIVY_CACHE_BACKEND: settings.cacheBackend };
}
