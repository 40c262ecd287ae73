/** Clients and assertions the fake GitHub's own tests share: plain Octokit, Octokit as the project composes it, rate headers. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';
import { startFakeGitHub } from './github-server.js';
import type { FakeGitHub, FakeGitHubOptions } from './github-server.js';
export const OWNER = 'rancher';
export const REPO = 'image-scanning';
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const RATE_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-used', 'x-ratelimit-resource', 'x-github-request-id'];

export async function fakeFor(t: TestContext, options?: FakeGitHubOptions): Promise<FakeGitHub> {
  const fake = await startFakeGitHub(options);
  t.after(() => fake.close());
  return fake;
}

export function plain(fake: FakeGitHub, auth: string | null = 'test-token') {
  return new Octokit({ auth: auth ?? undefined, baseUrl: fake.url, log: silent });
}

const Resilient = Octokit.plugin(throttling, retry);

/** Octokit with plugin-retry and plugin-throttling as the project composes them, with waits turned down. */
export function resilient(fake: FakeGitHub, calls: { rateLimit: number[]; secondary: number[] } = { rateLimit: [], secondary: [] }) {
  return new Resilient({
    auth: 'test-token',
    baseUrl: fake.url,
    log: silent,
    retry: { retries: 5, retryAfterBaseValue: 1 },
    throttle: {
      retryAfterBaseValue: 1,
      // plugin-throttling paces writes 1 s apart by default; tests do not wait.
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
      onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
        calls.rateLimit.push(retryAfter);
        return retryCount < 3;
      },
      onSecondaryRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
        calls.secondary.push(retryAfter);
        return retryCount < 5;
      },
    },
  });
}

export async function rejection(promise: Promise<unknown>): Promise<{ status: number; message: string; response?: { data: unknown; headers: Record<string, string | number | undefined> } }> {
  try {
    await promise;
  } catch (error) {
    return error as never;
  }
  assert.fail('expected the request to fail');
}

export function assertRateHeaders(headers: Record<string, string | number | undefined>, where: string) {
  for (const name of RATE_HEADERS) assert.ok(headers[name] !== undefined && headers[name] !== '', `${where}: missing ${name}`);
}

export function assertNoViolations(fake: FakeGitHub) {
  assert.deepEqual(
    fake.violations.map((v) => v.message),
    [],
  );
}
