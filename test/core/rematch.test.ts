import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../../core/finding.js';
import { choosePath, normalizeScan, osTargetAsImage, pinnedReference, registryOf, scanDifference, storedSbomProblem, type StoredSbom } from '../../core/rematch.js';
import type { ImageScan } from '../../core/scan.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const sbom = (version = '0.74.0') => ({ bomFormat: 'CycloneDX', specVersion: '1.6', metadata: { tools: { components: [{ name: 'trivy', version }] } }, components: [] });
const stored = (over: Partial<StoredSbom> = {}): StoredSbom => ({ digest: DIGEST, trivyVersion: '0.74.0', image: 'x', madeAt: '', verified: true, sbom: sbom(), ...over });

function finding(over: Partial<Finding>): Finding {
  return {
    image: 'r/a:1', target: 'r/a:1 (alpine 3.19.1)', class: 'os-pkgs', type: 'alpine', packageName: 'zlib', packagePath: '', installedVersion: '1.3-r2',
    fixedVersion: '1.3.1-r0', vulnerabilityId: 'CVE-2099-1002', severity: 'CRITICAL', status: 'fixed', title: '', url: '', publishedDate: '', ...over,
  };
}

describe('choosePath', () => {
  it('re-matches only an unchanged digest with a verified SBOM of this Trivy, and no full scan asked for', () => {
    assert.equal(choosePath({ digest: DIGEST, trivyVersion: '0.74.0', full: false, stored: stored() }).path, 'rematch');
    assert.match((choosePath({ digest: DIGEST, trivyVersion: '0.74.0', full: true, stored: stored() }) as { reason: string }).reason, /full scan was asked/);
    assert.match((choosePath({ trivyVersion: '0.74.0', full: false, stored: stored() }) as { reason: string }).reason, /no digest/);
    assert.match((choosePath({ digest: DIGEST, trivyVersion: '0.74.0', full: false }) as { reason: string }).reason, /no SBOM/);
    assert.match((choosePath({ digest: DIGEST, trivyVersion: '0.74.0', full: false, stored: stored({ verified: false, unverifiedReason: 'differs' }) }) as { reason: string }).reason, /needs full scans: differs/);
    assert.match((choosePath({ digest: DIGEST, trivyVersion: '0.74.0', full: false, storedProblem: 'corrupt' }) as { reason: string }).reason, /corrupt/);
  });
});

describe('storedSbomProblem', () => {
  it('accepts a whole record and names what is wrong with any other', () => {
    assert.equal(storedSbomProblem(stored(), DIGEST, '0.74.0'), undefined);
    assert.match(storedSbomProblem('text', DIGEST, '0.74.0')!, /not an object/);
    assert.match(storedSbomProblem(stored({ digest: 'sha256:b' }), DIGEST, '0.74.0')!, /is for sha256:b/);
    assert.match(storedSbomProblem(stored({ trivyVersion: '0.73.0' }), DIGEST, '0.74.0')!, /Trivy 0\.73\.0/);
    assert.match(storedSbomProblem(stored({ sbom: sbom('0.60.0') }), DIGEST, '0.74.0')!, /document was made by Trivy 0\.60\.0/);
    assert.match(storedSbomProblem(stored({ sbom: { bomFormat: 'SPDX' } }), DIGEST, '0.74.0')!, /not a CycloneDX/);
    assert.equal(storedSbomProblem(stored({ verified: false, sbom: null }), DIGEST, '0.74.0'), undefined, 'an unverified mark is read as such');
  });
});

describe('normalizeScan and scanDifference', () => {
  it('writes the OS target as the image, whatever Trivy named it after', () => {
    assert.equal(osTargetAsImage('/tmp/x/1.cdx.json (alpine 3.19.1)', 'r/a:1'), 'r/a:1 (alpine 3.19.1)');
    assert.equal(osTargetAsImage(`r/a@${DIGEST} (debian 12.5)`, 'r/a:1'), 'r/a:1 (debian 12.5)');
    const scan: ImageScan = { image: 'r/a:1', outcome: 'findings', osScanned: true, findings: [finding({ target: '/tmp/1.cdx.json (alpine 3.19.1)' }), finding({ class: 'lang-pkgs', target: 'usr/bin/app', vulnerabilityId: 'CVE-1' })] };
    const n = normalizeScan(scan, 'r/a:1');
    assert.deepEqual(n.findings.map((f) => f.target).sort(), ['r/a:1 (alpine 3.19.1)', 'usr/bin/app']);
  });

  it('finds no difference between equal scans and names the first one otherwise', () => {
    const a: ImageScan = { image: 'r/a:1', outcome: 'findings', osScanned: true, os: 'alpine 3.19.1', findings: [finding({})] };
    assert.equal(scanDifference(a, normalizeScan(a, 'r/a:1')), undefined);
    assert.match(scanDifference(a, { ...a, outcome: 'clean', findings: [] })!, /outcome findings by the full scan, clean from the SBOM/);
    assert.match(scanDifference(a, { ...a, findings: [finding({ installedVersion: '1.3-r3' })] })!, /only in the full scan \(first: CVE-2099-1002 in zlib 1\.3-r2\)/);
    assert.match(scanDifference(a, { ...a, findings: [finding({}), finding({ vulnerabilityId: 'CVE-9' })] })!, /only from the SBOM/);
  });
});

describe('references', () => {
  it('pins a tag to its digest and names the registry', () => {
    assert.equal(pinnedReference('docker.io/rancher/fleet:v0.10.2', DIGEST), `docker.io/rancher/fleet@${DIGEST}`);
    assert.equal(pinnedReference('127.0.0.1:5000/e2e/a:1.0', DIGEST), `127.0.0.1:5000/e2e/a@${DIGEST}`);
    assert.equal(pinnedReference(`r/a@sha256:${'b'.repeat(64)}`, DIGEST), `r/a@${DIGEST}`);
    assert.equal(registryOf('docker.io/rancher/fleet:v1'), 'docker.io');
    assert.equal(registryOf('127.0.0.1:5000/e2e/a:1'), '127.0.0.1:5000');
    assert.equal(registryOf('rancher/fleet:v1'), 'docker.io');
  });
});
