/** The GitHub client: Octokit with retries and write pacing, shared by lists, issues, reports and the site. */
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';

/** The REST client composed once: throttling paces writes and waits out rate limits, retry absorbs 5xx. */
import { countGitHubWrite } from '../metrics/metrics.js';

export const GitHub = Octokit.plugin(throttling, retry);
export type GitHubClient = InstanceType<typeof GitHub>;

export interface GitHubOptions {
  token?: string;
  /** `GITHUB_API_URL`: GitHub Enterprise, or the fake server in tests. */
  baseUrl?: string;
  log?: { warn(message: string): void };
  /** How many times a rate-limited request waits and tries again. */
  rateLimitRetries?: number;
  /** Scales plugin-retry's and plugin-throttling's waits (ms); tests turn it down instead of faking timers. */
  retryAfterBaseValue?: number;
  /**
   * Minimum milliseconds between writes and between content-creating writes (issues, comments).
   * Default: 1 s between writes, and 7.2 s between content-creating ones, which keeps under
   * GitHub's 500 content-creating requests an hour (and so its 80 a minute).
   */
  pacing?: { writeMs: number; notificationMs: number };
}

export const DEFAULT_PACING = { writeMs: 1000, notificationMs: 7200 };

export function createGitHub(options: GitHubOptions): GitHubClient {
  const retries = options.rateLimitRetries ?? 3;
  const warn = (message: string) => options.log?.warn(message);
  const pacing = options.pacing ?? DEFAULT_PACING;
  const groups = {
    write: new Bottleneck.Group({ maxConcurrent: 1, minTime: pacing.writeMs }),
    notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: pacing.notificationMs }),
  };
  const octokit = new GitHub({
    auth: options.token,
    baseUrl: options.baseUrl ?? 'https://api.github.com',
    userAgent: 'image-scanning',
    // Octokit's own logging would print request URLs; keep only warnings, through our logger.
    log: { debug: () => undefined, info: () => undefined, warn, error: warn },
    throttle: {
      ...groups,
      retryAfterBaseValue: options.retryAfterBaseValue,
      onRateLimit: (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
        warn(`GitHub rate limit reached for ${request.method} ${request.url}; retrying in ${retryAfter}s (retry ${retryCount + 1} of ${retries})`);
        return retryCount < retries;
      },
      onSecondaryRateLimit: (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
        warn(`GitHub secondary rate limit for ${request.method} ${request.url}; retrying in ${retryAfter}s (retry ${retryCount + 1} of ${retries})`);
        return retryCount < retries;
      },
    },
    retry: { retries: 3, ...(options.retryAfterBaseValue !== undefined ? { retryAfterBaseValue: options.retryAfterBaseValue } : {}) },
  });
  octokit.hook.after('request', (_response, request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') countGitHubWrite(request.method);
  });
  return octokit;
}
