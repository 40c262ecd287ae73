import type { VexSource } from '../core/vex-source.js';
import type { GitHubClient } from './github.js';
import type { ReportStore } from './report-store.js';
import type { ResultStore } from './result-store.js';

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
}

/** Everything activities need, built once by the worker (or a test) and handed in. */
export interface ActivityDeps {
  store: ResultStore;
  /** Runs older than this many days leave the result store when a run starts (default 90). */
  retentionDays?: number;
  reportsDir: string;
  trivy: TrivySettings;
  /** Where the CSVs people edit live; the reports directory when absent. */
  reportStore?: ReportStore;
  /** Where the site is published (SITE_URL): issues link an image's page for notes they cut short. */
  siteUrl?: string;
  /** `owner/name` the issue plan is for. */
  issueRepository?: string;
  /** Reads release assets (anonymous is fine) and, with a token, applies issue changes. */
  github?: GitHubClient;
  /** Whether `github` carries a token: without one, issue changes are planned, not applied. */
  githubCanWrite?: boolean;
  /** Publishes the written site directory elsewhere too (a branch/folder of a GitHub repository), in one commit. */
  sitePublisher?: (siteDir: string, message: string) => Promise<{ commit?: string; changed: number; files: number }>;
}
