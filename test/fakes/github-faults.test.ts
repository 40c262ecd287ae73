/** The fake GitHub's injected faults (5xx, rate limits, resets) as Octokit with its plugins meets them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertNoViolations, assertRateHeaders, fakeFor, OWNER, plain, rejection, REPO, resilient } from './github-test-clients.js';

describe('fake GitHub server: faults', () => {
  it('a 503 is retried by plugin-retry, and the failed attempt changed nothing', async (t) => {
    const fake = await fakeFor(t);
    const fault = fake.inject({ kind: 'status', status: 503, match: { method: 'POST', path: /\/issues$/ } });
    const { data } = await resilient(fake).rest.issues.create({ owner: OWNER, repo: REPO, title: 'once' });
    assert.equal(data.number, 1);
    assert.equal(fault.hits, 1);
    assert.deepEqual(
      fake.requests.map((r) => [r.method, r.status, r.fault]),
      [
        ['POST', 503, 'status'],
        ['POST', 201, undefined],
      ],
    );
    assert.equal(fake.issues(OWNER, REPO).length, 1);
    assertNoViolations(fake);
  });

  it('a secondary rate limit carries retry-after and is waited out through onSecondaryRateLimit', async (t) => {
    const fake = await fakeFor(t);
    const calls = { rateLimit: [] as number[], secondary: [] as number[] };
    fake.inject({ kind: 'secondary-rate-limit', retryAfter: 2, match: { method: 'GET' } });
    const error = await rejection(plain(fake).rest.issues.listForRepo({ owner: OWNER, repo: REPO }));
    assert.equal(error.status, 403);
    assert.equal(error.response!.headers['retry-after'], '2');
    assert.match(error.message, /You have exceeded a secondary rate limit/);

    fake.inject({ kind: 'secondary-rate-limit', retryAfter: 1, times: 2 });
    const { status } = await resilient(fake, calls).rest.issues.listForRepo({ owner: OWNER, repo: REPO });
    assert.equal(status, 200);
    assert.deepEqual(calls.secondary, [1, 1]);
    assert.deepEqual(calls.rateLimit, []);
  });

  it('a primary rate limit answers 403 with x-ratelimit-remaining 0 and a reset, seen by onRateLimit', async (t) => {
    const fake = await fakeFor(t);
    fake.inject({ kind: 'rate-limit', resetIn: 30 });
    const error = await rejection(plain(fake).rest.issues.listForRepo({ owner: OWNER, repo: REPO }));
    assert.equal(error.status, 403);
    assert.equal(error.response!.headers['x-ratelimit-remaining'], '0');
    const reset = Number(error.response!.headers['x-ratelimit-reset']);
    assert.ok(reset >= Date.now() / 1000 + 28 && reset <= Date.now() / 1000 + 31, String(reset));
    assert.match(error.message, /API rate limit exceeded/);

    const calls = { rateLimit: [] as number[], secondary: [] as number[] };
    fake.inject({ kind: 'rate-limit', resetIn: 1 });
    assert.equal((await resilient(fake, calls).rest.issues.listForRepo({ owner: OWNER, repo: REPO })).status, 200);
    assert.equal(calls.rateLimit.length, 1);
  });

  it('a reset surfaces as an error without retries and is retried with plugin-retry', async (t) => {
    const fake = await fakeFor(t);
    fake.inject({ kind: 'reset', match: { method: 'POST' } });
    const error = await rejection(plain(fake).rest.issues.create({ owner: OWNER, repo: REPO, title: 'reset' }));
    assert.equal(error.status, 500, 'Octokit reports network errors as 500');
    assert.equal(fake.issues(OWNER, REPO).length, 0);
    assert.deepEqual(
      fake.requests.map((r) => [r.status, r.fault]),
      [[0, 'reset']],
    );

    fake.inject({ kind: 'reset', times: 2 });
    const { data } = await resilient(fake).rest.issues.create({ owner: OWNER, repo: REPO, title: 'reset twice' });
    assert.equal(data.number, 1);
    assert.equal(fake.issues(OWNER, REPO).length, 1);
  });

  it('afterApply applies the write and still answers 502, so a retry duplicates it', async (t) => {
    const fake = await fakeFor(t);
    fake.inject({ kind: 'status', status: 502, afterApply: true, match: { method: 'POST' } });
    await resilient(fake).rest.issues.create({ owner: OWNER, repo: REPO, title: 'twice' });
    assert.deepEqual(
      fake.issues(OWNER, REPO).map((i) => i.title),
      ['twice', 'twice'],
    );
  });

  it('delays a matching request, and leaves others alone', async (t) => {
    const fake = await fakeFor(t);
    const octokit = plain(fake);
    await octokit.rest.issues.listLabelsForRepo({ owner: OWNER, repo: REPO }); // warm: validators compiled
    fake.inject({ kind: 'delay', ms: 300, match: { path: /\/labels$/ } });
    let started = performance.now();
    await octokit.rest.issues.listForRepo({ owner: OWNER, repo: REPO });
    assert.ok(performance.now() - started < 250);
    started = performance.now();
    await octokit.rest.issues.listLabelsForRepo({ owner: OWNER, repo: REPO });
    assert.ok(performance.now() - started >= 290);
  });

  it('faultRate injects deterministic faults into reads and writes; retries converge without duplicates', async (t) => {
    const run = async () => {
      const fake = await fakeFor(t);
      fake.faultRate(0.3, 42);
      const octokit = resilient(fake);
      for (let i = 1; i <= 15; i++) {
        await octokit.rest.issues.create({ owner: OWNER, repo: REPO, title: `issue ${i}`, labels: ['cve'] });
        await octokit.rest.issues.get({ owner: OWNER, repo: REPO, issue_number: i });
      }
      return fake;
    };
    const a = await run();
    const b = await run();
    const faults = a.requests.flatMap((r) => (r.fault ? [`${r.method} ${r.fault} ${r.status}`] : []));
    assert.ok(faults.length >= 5, `expected faults, got ${faults.length}`);
    assert.ok(faults.some((f) => f.startsWith('GET')) && faults.some((f) => f.startsWith('POST')));
    assert.deepEqual(b.requests.flatMap((r) => (r.fault ? [`${r.method} ${r.fault} ${r.status}`] : [])), faults, 'same seed, same faults');
    assert.deepEqual(
      a.issues(OWNER, REPO).map((i) => i.title),
      Array.from({ length: 15 }, (_, i) => `issue ${i + 1}`),
      'faults come before the change: every issue exactly once',
    );
    assertNoViolations(a);
  });

  it('puts the rate-limit headers on every response', async (t) => {
    const fake = await fakeFor(t);
    const octokit = plain(fake);
    const ok = await octokit.rest.issues.listForRepo({ owner: OWNER, repo: REPO });
    assertRateHeaders(ok.headers, '200');
    assert.equal(ok.headers['x-ratelimit-limit'], '5000');
    assert.equal(ok.headers['x-ratelimit-resource'], 'core');
    const notFound = await rejection(octokit.rest.issues.get({ owner: OWNER, repo: REPO, issue_number: 7 }));
    assertRateHeaders(notFound.response!.headers, '404');
    fake.inject({ kind: 'status', status: 500 });
    const serverError = await rejection(octokit.rest.issues.get({ owner: OWNER, repo: REPO, issue_number: 7 }));
    assert.equal(serverError.status, 500);
    assertRateHeaders(serverError.response!.headers, '500');
    const later = await octokit.rest.issues.listForRepo({ owner: OWNER, repo: REPO });
    assert.ok(Number(later.headers['x-ratelimit-remaining']) < Number(ok.headers['x-ratelimit-remaining']));
    assert.notEqual(later.headers['x-github-request-id'], ok.headers['x-github-request-id']);
  });
});

