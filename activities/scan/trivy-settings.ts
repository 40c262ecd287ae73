/** How this worker runs Trivy: binary, caches, time limits, severities and VEX, built once from config. */
import type { VexSource } from '../../core/vex-source.js';

export interface TrivySettings {
  bin: string;
  cacheDir: string;
  timeoutSeconds: number;
  /** How long past `timeoutSeconds` Trivy may run before it is killed (default 30). */
  timeoutGraceSeconds?: number;
  /** Empty means every severity, including UNKNOWN. */
  severities: string[];
  /**
   * Trivy's layer cache: a redis:// URL every scan, worker and weekly run shares, or `memory` (no
   * cache: every layer is downloaded again). Given to Trivy in its environment
   * (TRIVY_CACHE_BACKEND), never on its command line, where `ps` would show the password.
   */
  cacheBackend: string;
  /** Trivy server URL: scans go to it and the local DB is not used. */
  server?: string;
  /** How long a rate-limited scan waits before its next attempt. */
  rateLimitBackoffSeconds: number;
  heartbeatSeconds: number;
  /** VEX sources given to every scan (`--vex`, `--show-suppressed`); files checked at start-up (worker/config.ts). */
  vex?: VexSource[];
  /**
   * The version `bin` reports (worker start-up): SBOMs are kept per digest and Trivy version.
   * With `crane`, turns re-matching on; without either, every scan is a full scan as before.
   */
  version?: string;
  /** go-containerregistry's `crane`, which resolves each tag's digest with a free HEAD (registry/resolve-digest.ts). */
  crane?: string;
  /** Every image pulled and scanned in full, its SBOM made again (IMAGE_SCANNING_FULL_SCAN; `run --full`). */
  fullScan?: boolean;
  /** Seconds a run may wait on a registry's pull quota before its waiting images fail as RegistryRateLimited. */
  rateLimitDeadlineSeconds?: number;
}
