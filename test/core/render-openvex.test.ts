import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imagePurl, renderOpenVex } from '../../core/render/openvex.js';
import { finding, ignoreRow, releaseReport } from '../helpers/reports.js';

describe('renderOpenVex', () => {
  it('states each honoured ignore as not_affected with the notes, and leaves out unjustified ignores', () => {
    const a = 'rancher/fleet:v0.9.6';
    const b = 'registry.example.com/rancher/shell:v0.1.6';
    const report = releaseReport('v2.9.0', { [a]: [finding(a, 'CVE-2024-1'), finding(a, 'CVE-2024-2')], [b]: [finding(b, 'CVE-2024-3')] }, [
      ignoreRow(a, 'CVE-2024-1', 'only reachable from the CLI, which the image does not ship'),
      ignoreRow(b, 'CVE-2024-3', '   '),
    ]);
    const doc = JSON.parse(renderOpenVex(report, { timestamp: '2026-11-29T00:00:00Z' })) as {
      '@context': string;
      timestamp: string;
      statements: { vulnerability: { name: string }; products: { '@id': string }[]; status: string; impact_statement: string }[];
    };
    assert.equal(doc['@context'], 'https://openvex.dev/ns/v0.2.0');
    assert.equal(doc.timestamp, '2026-11-29T00:00:00Z');
    assert.deepEqual(doc.statements, [
      {
        vulnerability: { name: 'CVE-2024-1' },
        products: [{ '@id': 'pkg:oci/fleet?repository_url=docker.io%2Francher%2Ffleet', identifiers: { purl: 'pkg:oci/fleet?repository_url=docker.io%2Francher%2Ffleet' } }],
        status: 'not_affected',
        impact_statement: 'only reachable from the CLI, which the image does not ship',
      },
    ]);
  });

  it('builds OCI package URLs with the registry in repository_url', () => {
    assert.equal(imagePurl('registry.example.com:5000', 'rancher/shell'), 'pkg:oci/shell?repository_url=registry.example.com%3A5000%2Francher%2Fshell');
  });
});
