import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyTrivyFailure, isPermanent, PERMANENT_SCAN_FAILURES } from '../../core/failures.js';
import { PERMANENT_SCAN_FAILURE_TYPES } from '../../workflows/activity-options.js';

// Trivy's own prefix and the list of runtimes it tries before the remote registry.
const PREFIX = '2025-01-13T09:00:00Z\tFATAL\tFatal error\trun error: image scan error: scan error: unable to initialize a scanner: unable to initialize an image scanner';
const runtimes = (image: string, remote: string) =>
  [
    `${PREFIX}: unable to find the specified image "${image}" in ["docker" "containerd" "podman" "remote"]: 4 errors occurred:`,
    `\t* docker error: unable to inspect the image (${image}): Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?`,
    '\t* containerd error: containerd socket not found: /run/containerd/containerd.sock',
    '\t* podman error: unable to initialize Podman client: no podman socket found: stat podman/podman.sock: no such file or directory',
    `\t* remote error: ${remote}`,
    '',
  ].join('\n');

const STDERR = {
  notFound: runtimes('rancher/nope:v1', 'GET https://index.docker.io/v2/rancher/nope/manifests/v1: MANIFEST_UNKNOWN: manifest unknown; unknown tag=v1'),
  unauthorized: runtimes(
    'registry.example.com/private/app:v1',
    'GET https://registry.example.com/v2/private/app/manifests/v1: UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:private/app Type:repository]]',
  ),
  invalidRef: `${PREFIX}: unable to find the specified image "rancher/Fleet:v1": could not parse reference: rancher/Fleet:v1\n`,
  rateLimited: runtimes(
    'rancher/fleet:v0.3.5',
    'GET https://index.docker.io/v2/rancher/fleet/manifests/v0.3.5: TOOMANYREQUESTS: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
  ),
  timeout: `2025-01-13T09:00:00Z\tFATAL\tFatal error\trun error: image scan error: scan error: scan failed: failed analysis: analyze error: pipeline error: failed to analyze layer (sha256:abc): post analysis error: context deadline exceeded\n\nAnalysis timed out; please increase the timeout with --timeout\n`,
  refused: runtimes('localhost:5000/x:v1', 'Get "https://localhost:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused'),
  database: [
    '2025-01-13T09:00:00Z\tINFO\t[vulndb] Need to update DB',
    '2025-01-13T09:00:00Z\tINFO\t[vulndb] Downloading vulnerability DB...',
    '2025-01-13T09:00:00Z\tFATAL\tFatal error\tinit error: DB error: failed to download vulnerability DB: database download error: OCI repository error: 1 error occurred:',
    '\t* Get "https://mirror.gcr.io/v2/": dial tcp: lookup mirror.gcr.io: no such host',
    '',
  ].join('\n'),
  unknown: '2025-01-13T09:00:00Z\tFATAL\tFatal error\tsomething nobody has seen before\n  happened while scanning\n',
  // Trivy v0.66.0, a second scan while another held trivy.db (measured with the offline sample).
  dbLocked: '2026-11-20T10:00:05Z\tFATAL\tFatal error\trun error: init error: DB error: error in vulnerability DB initialize: vulnerability database may be in use by another process: timeout\n',
  // Trivy v0.74.0 on an fs cache that another scan holds.
  cacheLocked: '2026-12-01T20:50:05Z\tFATAL\tFatal error\trun error: init error: unable to initialize cache: unable to initialize fs cache: cache may be in use by another process: timeout\n',
  // Trivy v0.74.0 with its Redis down, and with a wrong password (both seen here).
  cacheDown: [
    'redis: 2026/12/01 20:50:08 pool.go:762: redis: connection pool: failed to dial after 5 attempts: dial tcp 127.0.0.1:6398: connect: connection refused',
    '2026-12-01T20:50:13Z\tFATAL\tFatal error\trun error: image scan error: scan error: scan failed: failed analysis: analyze error: pipeline error: failed to store layer: sha256:a5d6 in cache: unable to store blob information in Redis cache (sha256:a5d6): dial tcp 127.0.0.1:6398: connect: connection refused',
    '',
  ].join('\n'),
  cacheRefused:
    '2026-12-01T20:50:08Z\tFATAL\tFatal error\trun error: image scan error: scan error: scan failed: failed analysis: analyze error: pipeline error: failed to store layer: sha256:a5d6 in cache: unable to store blob information in Redis cache (sha256:a5d6): WRONGPASS invalid username-password pair or user is disabled.\n',
};

describe('classifyTrivyFailure', () => {
  const cases: [keyof typeof STDERR, string, boolean][] = [
    ['notFound', 'ImageNotFound', true],
    ['unauthorized', 'RegistryUnauthorized', true],
    ['invalidRef', 'InvalidImageReference', true],
    ['rateLimited', 'RegistryRateLimited', false],
    ['timeout', 'ScanTimeout', false],
    ['refused', 'NetworkError', false],
    ['database', 'DatabaseError', false],
    ['unknown', 'ScannerError', false],
    ['dbLocked', 'ScannerLockContention', false],
    ['cacheLocked', 'ScannerLockContention', false],
    ['cacheDown', 'CacheUnavailable', false],
    ['cacheRefused', 'CacheUnavailable', false],
  ];
  for (const [name, type, permanent] of cases) {
    it(`classifies ${name} as ${type} (${permanent ? 'permanent' : 'retryable'})`, () => {
      const failure = classifyTrivyFailure(STDERR[name]);
      assert.equal(failure.type, type);
      assert.equal(failure.permanent, permanent);
      assert.equal(isPermanent(failure.type), permanent);
    });
  }

  it('puts the last non-blank stderr line into the summary', () => {
    const notFound = classifyTrivyFailure(STDERR.notFound);
    assert.ok(notFound.summary.endsWith('* remote error: GET https://index.docker.io/v2/rancher/nope/manifests/v1: MANIFEST_UNKNOWN: manifest unknown; unknown tag=v1'), notFound.summary);
    const unknown = classifyTrivyFailure(STDERR.unknown);
    assert.equal(unknown.summary, 'trivy failed: happened while scanning');
    const timeout = classifyTrivyFailure(STDERR.timeout);
    assert.ok(timeout.summary.includes('Analysis timed out'), timeout.summary);
  });

  it('says what to fix for a lock held by another Trivy, and never reads it as a plain DB error', () => {
    for (const name of ['dbLocked', 'cacheLocked'] as const) {
      const failure = classifyTrivyFailure(STDERR[name]);
      assert.match(failure.summary, /Trivy >= 0\.68\.0 with the Redis cache backend, TRIVY_CACHE_BACKEND=redis/, name);
      assert.ok(failure.summary.endsWith(': timeout'), failure.summary);
    }
  });

  it('tells a cache that is down from a registry that is, and hides a cache password Trivy quotes', () => {
    assert.match(classifyTrivyFailure(STDERR.cacheDown).summary, /^the scan cache \(Redis\) is unavailable/);
    assert.equal(classifyTrivyFailure(STDERR.refused).type, 'NetworkError', 'a refused registry is still a network error');
    const quoted = classifyTrivyFailure('FATAL\tunable to initialize redis cache: failed to parse Redis URL redis://:hunter2@cache:6379/x\n');
    assert.equal(quoted.type, 'CacheUnavailable');
    assert.doesNotMatch(quoted.summary, /hunter2/);
    assert.match(quoted.summary, /redis:\/\/\*\*\*\*@cache:6379/);
  });

  it('does not let a rate-limit message that names a manifest URL read as image-not-found', () => {
    // Docker Hub's 429 body mentions the manifest; a registry may also add "manifest unknown" wording.
    const failure = classifyTrivyFailure(`${STDERR.rateLimited}GET https://index.docker.io/v2/x/manifests/y: toomanyrequests: too many requests\n`);
    assert.equal(failure.type, 'RegistryRateLimited');
    assert.equal(failure.permanent, false);
  });

  it('handles CRLF stderr, empty stderr and very long lines', () => {
    assert.equal(classifyTrivyFailure('line one\r\nMANIFEST_UNKNOWN: manifest unknown\r\n').summary, 'image not found in the registry: MANIFEST_UNKNOWN: manifest unknown');
    assert.deepEqual(classifyTrivyFailure(''), { type: 'ScannerError', permanent: false, summary: 'trivy failed without a message' });
    const long = classifyTrivyFailure(`x${'y'.repeat(2000)}`);
    assert.ok(long.summary.length < 600, `summary is ${long.summary.length} characters`);
    assert.ok(long.summary.endsWith('…'));
  });
});

describe('permanent failure types', () => {
  it('core/failures.ts and workflows/activity-options.ts name the same permanent failures', () => {
    assert.deepEqual([...PERMANENT_SCAN_FAILURES].sort(), [...PERMANENT_SCAN_FAILURE_TYPES].sort());
  });

  it('only permanent kinds are permanent', () => {
    for (const type of PERMANENT_SCAN_FAILURES) assert.equal(isPermanent(type), true, type);
    for (const type of ['RegistryRateLimited', 'ScanTimeout', 'NetworkError', 'DatabaseError', 'CacheUnavailable', 'ScannerLockContention', 'ScannerError'] as const) {
      assert.equal(isPermanent(type), false, type);
    }
  });
});
