/**
 * Scan failures by kind. Trivy exits 1 for every error, so the kind comes from
 * its stderr. Permanent kinds are not retried: asking again cannot make a
 * missing manifest appear.
 */
export type PermanentScanFailure = 'ImageNotFound' | 'RegistryUnauthorized' | 'InvalidImageReference' | 'UnparsableReport';
export type RetryableScanFailure = 'RegistryRateLimited' | 'ScanTimeout' | 'NetworkError' | 'DatabaseError' | 'ScannerError';
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
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1) ?? '';
  return last.length > 500 ? `${last.slice(0, 500)}…` : last;
}
