/**
 * Scan failures by kind. Trivy exits 1 for every error, so the kind comes from
 * its stderr. Permanent kinds are not retried: asking again cannot make a
 * missing manifest appear.
 */
export type PermanentScanFailure = 'ImageNotFound' | 'RegistryUnauthorized' | 'InvalidImageReference' | 'UnparsableReport';
export type RetryableScanFailure =
  | 'RegistryRateLimited'
  | 'ScanTimeout'
  | 'NetworkError'
  | 'DatabaseError'
  | 'CacheUnavailable'
  | 'ScannerLockContention'
  | 'ScannerError';
export type ScanFailureType = PermanentScanFailure | RetryableScanFailure;

export const PERMANENT_SCAN_FAILURES = [
  'ImageNotFound',
  'RegistryUnauthorized',
  'InvalidImageReference',
  'UnparsableReport',
] as const satisfies readonly PermanentScanFailure[];

export interface ScanFailure {
  type: ScanFailureType;
  permanent: boolean;
  /** One line a person can act on. */
  summary: string;
}

interface Rule {
  type: ScanFailureType;
  pattern: RegExp;
  summary: string;
}

// Order matters: a Docker Hub 429 also mentions the manifest URL, and a missing
// image also reports that the local Docker daemon is unreachable, so the most
// specific registry answers are checked before generic network errors.
const RULES: Rule[] = [
  { type: 'RegistryRateLimited', pattern: /TOOMANYREQUESTS|toomanyrequests|429 Too Many Requests|status(?: code)?:? 429\b|rate limit/i, summary: 'registry rate limit reached' },
  { type: 'InvalidImageReference', pattern: /could not parse reference|invalid reference format|repository name must/i, summary: 'invalid image reference' },
  { type: 'ImageNotFound', pattern: /MANIFEST_UNKNOWN|manifest unknown|NAME_UNKNOWN|not found: manifest/i, summary: 'image not found in the registry' },
  { type: 'RegistryUnauthorized', pattern: /UNAUTHORIZED|unauthorized|authentication required|\bDENIED\b|401 Unauthorized|pull access denied/, summary: 'registry refused access (unauthorized)' },
  // Trivy before v0.68.0 held trivy.db read-write for a whole scan, and its fs cache backend still
  // holds fanal.db: a second process gives up after 5 s. Never expected with the project's own
  // settings (v0.74.0, read-only DB, Redis cache), so the message says which setting to fix.
  {
    type: 'ScannerLockContention',
    pattern: /may be in use by another process|cache may be in use/i,
    summary: 'another Trivy process holds the DB or cache file lock (use Trivy >= 0.68.0 with the Redis cache backend, TRIVY_CACHE_BACKEND=redis://..., and no fs cache shared between scans)',
  },
  // The layer cache: Trivy reports Redis errors while storing or reading analyses. Checked before
  // generic network errors, which a refused connection to Redis would otherwise look like.
  {
    type: 'CacheUnavailable',
    pattern: /Redis cache|redis cache|Redis URL|redis: |NOAUTH|WRONGPASS/,
    summary: 'the scan cache (Redis) is unavailable; check that it runs and that TRIVY_CACHE_BACKEND is right',
  },
  { type: 'DatabaseError', pattern: /vulnerability DB|DB error|--skip-db-update|trivy-db|db\.Init/i, summary: 'vulnerability database unavailable' },
  { type: 'ScanTimeout', pattern: /context deadline exceeded|timed? ?out/i, summary: 'scan timed out' },
  { type: 'NetworkError', pattern: /connection refused|connection reset|no such host|i\/o timeout|TLS handshake|EOF|network is unreachable/i, summary: 'network error while fetching the image' },
];

/** Classifies a failed Trivy run from its stderr. Unknown errors are retryable. */
export function classifyTrivyFailure(stderr: string): ScanFailure {
  const detail = lastMeaningfulLine(stderr);
  for (const rule of RULES) {
    if (rule.pattern.test(stderr)) {
      return { type: rule.type, permanent: isPermanent(rule.type), summary: detail ? `${rule.summary}: ${detail}` : rule.summary };
    }
  }
  return { type: 'ScannerError', permanent: false, summary: detail ? `trivy failed: ${detail}` : 'trivy failed without a message' };
}

export function isPermanent(type: ScanFailureType): boolean {
  return (PERMANENT_SCAN_FAILURES as readonly string[]).includes(type);
}

function lastMeaningfulLine(text: string): string {
  // Trivy masks the cache URL in its own log lines; an error quoting it must not show the password either.
  text = text.replace(/redis:\/\/[^@\s/]*@/g, 'redis://****@');
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1) ?? '';
  return last.length > 500 ? `${last.slice(0, 500)}…` : last;
}
