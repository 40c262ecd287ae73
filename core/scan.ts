import type { Finding, SeverityCounts } from './finding.js';
import type { ScanFailure } from './failures.js';

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
}

/** What a scan activity returns to its workflow: a key and counts, never findings. */
export interface ScanSummary {
  image: string;
  resultKey: string;
  outcome: ScanOutcome;
  counts: SeverityCounts;
}
