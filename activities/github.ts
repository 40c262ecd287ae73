import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';

/** The REST client composed once: throttling paces writes and waits out rate limits, retry absorbs 5xx. */
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
   * Minimum milliseconds between writes and between notification-triggering writes.
   * Default: GitHub's guidance as plugin-throttling encodes it (1 s and 3 s).
   */
  pacing?: { writeMs: number; notificationMs: number };
}

export function createGitHub(options: GitHubOptions): GitHubClient {
  const retries = options.rateLimitRetries ?? 3;
  const warn = (message: string) => options.log?.warn(message);
  const groups = options.pacing
    ? {
        write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.pacing.writeMs }),
        notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.pacing.notificationMs }),
      }
    : {};
  return new GitHub({
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
}
