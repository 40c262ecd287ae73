import type { ReleaseReport } from '../triage.js';

/** A product id Trivy matches when it scans the image: an OCI package URL by repository. */
export function imagePurl(registry: string, repository: string): string {
  const name = repository.split('/').at(-1)!;
  return `pkg:oci/${encodeURIComponent(name)}?repository_url=${encodeURIComponent(`${registry}/${repository}`)}`;
}

export interface OpenVexOptions {
  /** Document timestamp (ISO 8601); the caller decides, so the renderer stays pure. */
  timestamp: string;
  author?: string;
}

/**
 * States every honoured ignore of a release as `not_affected`, with the person's
 * notes as the impact statement, so `trivy --vex` can apply the triage back to scans.
 */
export function renderOpenVex(report: Pick<ReleaseReport, 'release' | 'rows' | 'images'>, options: OpenVexOptions): string {
  const records = new Map(report.images.records.map((r) => [r.image, r]));
  const statements = new Map<string, { vulnerability: { name: string }; products: { '@id': string; identifiers: { purl: string } }[]; status: 'not_affected'; impact_statement: string }>();
  for (const row of report.rows) {
    if (!row.ignored) continue;
    const record = records.get(row.image);
    if (!record) continue;
    const purl = imagePurl(record.registry, record.repository);
    const key = `${row.vulnerabilityId}\u0000${purl}\u0000${row.notes}`;
    if (statements.has(key)) continue;
    statements.set(key, {
      vulnerability: { name: row.vulnerabilityId },
      products: [{ '@id': purl, identifiers: { purl } }],
      status: 'not_affected',
      impact_statement: row.notes,
    });
  }
  const sorted = [...statements.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
  const doc = {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': `urn:image-scanning:vex:${encodeURIComponent(report.release)}`,
    author: options.author ?? 'image-scanning',
    timestamp: options.timestamp,
    version: 1,
    statements: sorted,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
