/** The one object of dependencies the worker (or a test) builds and every room's activity receives the part of it needs. */
import type { GitHubClient } from './github/github.js';
import type { TrivySettings } from './scan/trivy-settings.js';
import type { ReportStore } from './store/report-store.js';
import type { ResultStore } from './store/result-store.js';

export type { TrivySettings };

/** Everything activities need, built once by the worker (or a test) and handed in. */
export interface ActivityDeps {
  store: ResultStore;
  /** Runs older than this many days leave the result store when a run starts (default 90). */
  retentionDays?: number;
  reportsDir: string;
  trivy: TrivySettings;
  /** Where the CSVs people edit live; the reports directory when absent. */
  reportStore?: ReportStore;
  /** The clock reports are dated by: its day decides whether an ignore has expired (default the wall clock; tests move it). */
  now?: () => Date;
  /** Where the site is published (SITE_URL): issues link an image's page for notes they cut short. */
  siteUrl?: string;
  /** `owner/name` the issue plan is for. */
  issueRepository?: string;
  /** Reads release assets (anonymous is fine) and, with a token, applies issue changes. */
  github?: GitHubClient;
  /** `org/team-slug` (TRIAGE_TEAM) whose members may triage in issues besides the repository's writers. */
  triageTeam?: string;
  /** Whether `github` carries a token: without one, issue changes are planned, not applied. */
  githubCanWrite?: boolean;
  /** Publishes the written site directory elsewhere too (a branch/folder of a GitHub repository), in one commit. */
  /** Where git list sources keep their checkouts and generated lists between runs (default ~/.cache/image-scanning/git). */
  gitCacheDir?: string;
  sitePublisher?: (siteDir: string, message: string) => Promise<{ commit?: string; changed: number; files: number }>;
}
