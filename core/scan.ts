import type { Finding, SeverityCounts } from './finding.js';
import type { ScanFailure } from './failures.js';
import type { ScanPath } from './rematch.js';

/**
 * What one scan of one image established. `os-not-scanned` exists because Trivy
 * exits 0 with no OS result for Windows images and unknown distributions, and
 * that must never read as "clean".
 */
export type ScanOutcome = 'findings' | 'clean' | 'os-not-scanned' | 'failed';

export interface ImageScan {
  image: string;
  outcome: ScanOutcome;
  /** Whether Trivy recognised and scanned the operating system packages. */
  osScanned: boolean;
  os?: string;
  findings: Finding[];
  failure?: ScanFailure;
  /** How it was scanned this run: its stored SBOM matched again, or pulled (absent: pulled, as before re-matching). */
  scannedAs?: ScanPath;
  /** The digest the tag resolved to (the HEAD), when the registry gave one. */
  digest?: string;
  /** Why this image needs full scans every run (its SBOM could not be made or did not reproduce the scan). */
  needsFullScans?: string;
}

/** What a scan activity returns to its workflow: a key and counts, never findings. */
export interface ScanSummary {
  image: string;
  resultKey: string;
  outcome: ScanOutcome;
  counts: SeverityCounts;
  scannedAs?: ScanPath;
  digest?: string;
}
