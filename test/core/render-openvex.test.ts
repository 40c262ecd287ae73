import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imagePurl, packagePurlWithoutVersion, renderOpenVex } from '../../core/render/openvex.js';
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
        products: [{ '@id': 'pkg:oci/fleet?repository_url=index.docker.io%2Francher%2Ffleet', identifiers: { purl: 'pkg:oci/fleet?repository_url=index.docker.io%2Francher%2Ffleet' } }],
        status: 'not_affected',
        impact_statement: 'only reachable from the CLI, which the image does not ship',
      },
    ]);
  });

  it('names Docker Hub as Trivy (go-containerregistry) does: index.docker.io, official images under library/', () => {
    assert.equal(imagePurl('docker.io', 'rancher/fleet'), 'pkg:oci/fleet?repository_url=index.docker.io%2Francher%2Ffleet');
    assert.equal(imagePurl('docker.io', 'nginx'), 'pkg:oci/nginx?repository_url=index.docker.io%2Flibrary%2Fnginx');
  });

  it('names the package as a subcomponent, without version, and leaves out expired and VEX-written ignores', () => {
    const a = 'rancher/fleet:v0.9.6';
    const purl = 'pkg:apk/alpine/libssl3@3.1.4-r0?arch=x86_64&distro=3.19.1';
    const report = releaseReport('v2.9.0', {
      [a]: [
        finding(a, 'CVE-2024-1', 'HIGH', { packagePurl: purl }),
        finding(a, 'CVE-2024-2', 'HIGH', { packageName: 'zlib' }),
        finding(a, 'CVE-2024-3', 'HIGH', { vex: { status: 'not_affected', justification: 'component_not_present', source: 'suse.json' } }),
      ],
    }, [ignoreRow(a, 'CVE-2024-1', 'not used'), { ...ignoreRow(a, 'CVE-2024-2', 'accepted', 'zlib'), ignoreExpires: '2026-01-01' }]);
    const doc = JSON.parse(renderOpenVex(report, { timestamp: '2026-11-29T00:00:00Z' })) as { statements: { vulnerability: { name: string }; products: { subcomponents?: { '@id': string }[] }[] }[] };
    assert.deepEqual(doc.statements.map((s) => s.vulnerability.name), ['CVE-2024-1']);
    assert.deepEqual(doc.statements[0]!.products[0]!.subcomponents, [{ '@id': 'pkg:apk/alpine/libssl3', identifiers: { purl: 'pkg:apk/alpine/libssl3' } }]);
    assert.equal(packagePurlWithoutVersion('pkg:golang/golang.org/x/text@v0.3.7'), 'pkg:golang/golang.org/x/text');
    assert.equal(packagePurlWithoutVersion('pkg:npm/%40babel/core@7.0.0#sub'), 'pkg:npm/%40babel/core');
  });

  it('builds OCI package URLs with the registry in repository_url', () => {
    assert.equal(imagePurl('registry.example.com:5000', 'rancher/shell'), 'pkg:oci/shell?repository_url=registry.example.com%3A5000%2Francher%2Fshell');
  });
});
