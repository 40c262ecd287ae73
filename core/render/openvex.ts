import type { ImageRecord } from '../image-list.js';
import type { ReleaseReport, TriagedFinding } from '../triage.js';

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

type VexStatement = { vulnerability: { name: string }; products: { '@id': string; identifiers: { purl: string } }[]; status: 'not_affected'; impact_statement: string };

/**
 * States every honoured ignore of a release as `not_affected`, with the person's notes as
 * the impact statement, so `trivy --vex` can apply the triage back to scans. Rows are added
 * one at a time as the merge produces them; only ignores are kept.
 */
export class OpenVexStatements {
  private readonly statements = new Map<string, VexStatement>();

  add(row: Pick<TriagedFinding, 'ignored' | 'vulnerabilityId' | 'notes'>, record: Pick<ImageRecord, 'registry' | 'repository'> | undefined): void {
    if (!row.ignored || !record) return;
    const purl = imagePurl(record.registry, record.repository);
    const key = `${row.vulnerabilityId}\u0000${purl}\u0000${row.notes}`;
    if (this.statements.has(key)) return;
    this.statements.set(key, {
      vulnerability: { name: row.vulnerabilityId },
      products: [{ '@id': purl, identifiers: { purl } }],
      status: 'not_affected',
      impact_statement: row.notes,
    });
  }

  render(release: string, options: OpenVexOptions): string {
    const sorted = [...this.statements.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
    const doc = {
      '@context': 'https://openvex.dev/ns/v0.2.0',
      '@id': `urn:image-scanning:vex:${encodeURIComponent(release)}`,
      author: options.author ?? 'image-scanning',
      timestamp: options.timestamp,
      version: 1,
      statements: sorted,
    };
    return `${JSON.stringify(doc, null, 2)}\n`;
  }
}

export function renderOpenVex(report: Pick<ReleaseReport, 'release' | 'rows' | 'images'>, options: OpenVexOptions): string {
  const records = new Map(report.images.records.map((r) => [r.image, r]));
  const statements = new OpenVexStatements();
  for (const row of report.rows) statements.add(row, records.get(row.image));
  return statements.render(report.release, options);
}
