import type { ImageRecord } from '../image-list.js';
import type { ReleaseReport, TriagedFinding } from '../triage.js';

/**
 * A product id Trivy matches when it scans the image: an OCI package URL by repository, with no
 * version, so it matches every digest of the repository (go-vex: a purl without a version or
 * with fewer qualifiers matches a more specific one). Trivy builds the image's purl from its
 * repo digest with go-containerregistry, which names Docker Hub `index.docker.io` and its
 * official images `library/<name>`: a `docker.io` repository_url would never match.
 */
export function imagePurl(registry: string, repository: string): string {
  const hub = registry === 'docker.io' || registry === 'index.docker.io';
  const path = hub && !repository.includes('/') ? `library/${repository}` : repository;
  const name = path.split('/').at(-1)!.toLowerCase();
  return `pkg:oci/${encodeURIComponent(name)}?repository_url=${encodeURIComponent(`${hub ? 'index.docker.io' : registry}/${path}`)}`;
}

/**
 * A package's purl without version, qualifiers and subpath: a statement for it holds for the
 * package at any version, as our triage key (image or repository, package, id) does.
 */
export function packagePurlWithoutVersion(purl: string): string {
  const base = purl.split('#')[0]!.split('?')[0]!;
  const at = base.lastIndexOf('@');
  return at > base.lastIndexOf('/') ? base.slice(0, at) : base;
}

interface VexProduct {
  '@id': string;
  identifiers: { purl: string };
  subcomponents?: { '@id': string; identifiers: { purl: string } }[];
}

export interface OpenVexOptions {
  /** Document timestamp (ISO 8601); the caller decides, so the renderer stays pure. */
  timestamp: string;
  author?: string;
}

type VexStatement = { vulnerability: { name: string }; products: VexProduct[]; status: 'not_affected'; impact_statement: string };

/**
 * States every honoured ignore a person wrote as `not_affected`, with their notes as the impact
 * statement, so `trivy --vex` can apply the triage back to scans. The statement names the
 * package as a subcomponent of the image when Trivy gave its purl, so it suppresses that
 * package's finding and not the same CVE in another package of the image. Left out: expired
 * ignores (not honoured), and ignores a VEX statement wrote: restating them would let this
 * file, fed back as a source, keep a finding ignored after its real source withdrew it.
 * Rows are added one at a time as the merge produces them; only ignores are kept.
 */
export class OpenVexStatements {
  private readonly statements = new Map<string, VexStatement>();

  add(row: Pick<TriagedFinding, 'ignored' | 'vexApplied' | 'packagePurl' | 'vulnerabilityId' | 'notes'>, record: Pick<ImageRecord, 'registry' | 'repository'> | undefined): void {
    if (!row.ignored || row.vexApplied || !record) return;
    const purl = imagePurl(record.registry, record.repository);
    const sub = row.packagePurl ? packagePurlWithoutVersion(row.packagePurl) : '';
    const key = `${row.vulnerabilityId}\u0000${purl}\u0000${sub}\u0000${row.notes}`;
    if (this.statements.has(key)) return;
    const product: VexProduct = { '@id': purl, identifiers: { purl } };
    if (sub) product.subcomponents = [{ '@id': sub, identifiers: { purl: sub } }];
    this.statements.set(key, {
      vulnerability: { name: row.vulnerabilityId },
      products: [product],
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
