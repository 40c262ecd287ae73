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

/** A registry whose pull quota is spent, as a scan saw it: no pull before `until` (epoch ms). */
export interface RegistryWait {
  registry: string;
  until: number;
  /** The registry's `ratelimit-remaining` header on the image's HEAD (`0;w=21600`), when it sends one. */
  remaining?: string;
  limit?: string;
  /** Why it is paused: the registry's words on the last refusal. */
  reason: string;
}

/**
 * What a scan activity returns when its image needs a pull and its registry is paused: nothing was
 * scanned; the workflow tries it again after `until`, behind the others, so re-matchable images go on.
 */
export interface DeferredScan {
  image: string;
  deferred: RegistryWait;
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
