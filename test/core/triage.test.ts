import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding, Severity } from '../../core/finding.js';
import { buildImageRecords, parseImageList, type ImageRecord } from '../../core/image-list.js';
import type { ImageScan } from '../../core/scan.js';
import { mergeTriage, summarizeReport, type MergeInput, type PreviousRow } from '../../core/triage.js';

const TODAY = '2025-01-13';

function records(...images: string[]): ImageRecord[] {
  return buildImageRecords({ images: parseImageList(images.join('\n'), 'test') });
}

function finding(image: string, vulnerabilityId: string, packageName: string, severity: Severity = 'HIGH', extra: Partial<Finding> = {}): Finding {
  return {
    image,
    target: 'debian 12.8',
    class: 'os-pkgs',
    type: 'debian',
    packageName,
    packagePath: '',
    installedVersion: '1.0',
    fixedVersion: '1.1',
    vulnerabilityId,
    severity,
    status: 'fixed',
    title: `${vulnerabilityId} in ${packageName}`,
    url: `https://avd.aquasec.com/nvd/${vulnerabilityId.toLowerCase()}`,
    publishedDate: '2024-01-01T00:00:00Z',
    ...extra,
  };
}

function scanned(image: string, findings: Finding[], osScanned = true): ImageScan {
  return { image, outcome: findings.length ? 'findings' : osScanned ? 'clean' : 'os-not-scanned', osScanned, findings };
}

function failedScan(image: string): ImageScan {
  return { image, outcome: 'failed', osScanned: false, findings: [], failure: { type: 'ImageNotFound', permanent: true, summary: 'image not found in the registry: MANIFEST_UNKNOWN' } };
}

function prev(image: string, vulnerabilityId: string, packageName: string, state: string, notes: string, firstSeen = '2024-06-01'): PreviousRow {
  return {
    image,
    packageName,
    vulnerabilityId,
    state,
    notes,
    firstSeen,
    cells: { image, package_name: packageName, vulnerability_id: vulnerabilityId, state, notes, first_seen: firstSeen, severity: 'HIGH' },
  };
}

function merge(input: Partial<MergeInput> & Pick<MergeInput, 'images' | 'scans'>) {
  return mergeTriage({ release: 'v2.9.0', previous: [], today: TODAY, ...input });
}

const scansOf = (...scans: ImageScan[]) => new Map(scans.map((s) => [s.image, s]));

describe('mergeTriage: carrying triage over', () => {
  it('carries state, notes and firstSeen by exact (image, package, id)', () => {
    const image = 'rancher/fleet:v0.9.6';
    const report = merge({
      images: records(image),
      scans: scansOf(scanned(image, [finding(image, 'CVE-1', 'openssl'), finding(image, 'CVE-1', 'libssl3'), finding(image, 'CVE-2', 'openssl')])),
      previous: [
        prev(image, 'CVE-1', 'openssl', 'waiting', 'upstream fix pending, see rancher/fleet#1500', '2024-05-02'),
        // Same CVE, other package: must not leak onto libssl3.
        prev(image, 'CVE-2', 'openssl', 'ignore', 'not reachable'),
      ],
    });
    const by = (id: string, pkg: string) => report.rows.find((r) => r.vulnerabilityId === id && r.packageName === pkg)!;
    assert.deepEqual([by('CVE-1', 'openssl').state, by('CVE-1', 'openssl').notes, by('CVE-1', 'openssl').firstSeen], ['waiting', 'upstream fix pending, see rancher/fleet#1500', '2024-05-02']);
    assert.deepEqual([by('CVE-1', 'libssl3').state, by('CVE-1', 'libssl3').notes, by('CVE-1', 'libssl3').firstSeen], ['triaged', '', TODAY]);
    assert.deepEqual([by('CVE-2', 'openssl').state, by('CVE-2', 'openssl').ignored], ['ignore', true]);
  });

  it('carries triage across a tag bump by (repository, package, id) when the new tag has no rows of its own', () => {
    const oldImage = 'rancher/fleet:v0.9.5';
    const newImage = 'rancher/fleet:v0.9.6';
    const report = merge({
      images: records(newImage),
      scans: scansOf(scanned(newImage, [finding(newImage, 'CVE-1', 'openssl'), finding(newImage, 'CVE-3', 'zlib')])),
      previous: [prev(oldImage, 'CVE-1', 'openssl', 'ignore', 'only used in tests', '2024-03-03'), prev('rancher/shell:v0.1.6', 'CVE-3', 'zlib', 'waiting', 'other repo')],
    });
    const cve1 = report.rows.find((r) => r.vulnerabilityId === 'CVE-1')!;
    assert.deepEqual([cve1.image, cve1.state, cve1.notes, cve1.firstSeen, cve1.ignored], [newImage, 'ignore', 'only used in tests', '2024-03-03', true]);
    const cve3 = report.rows.find((r) => r.vulnerabilityId === 'CVE-3')!;
    assert.deepEqual([cve3.state, cve3.notes], ['triaged', ''], 'another repository does not lend its notes');
  });

  it('matches the repository with its registry: docker.io/x and quay.io/x are different images', () => {
    const report = merge({
      images: records('quay.io/rancher/fleet:v2'),
      scans: scansOf(scanned('quay.io/rancher/fleet:v2', [finding('quay.io/rancher/fleet:v2', 'CVE-1', 'openssl')])),
      previous: [prev('rancher/fleet:v1', 'CVE-1', 'openssl', 'waiting', 'docker hub note')],
    });
    assert.equal(report.rows[0]!.notes, '');
    // The same repository spelled with an explicit docker.io does inherit.
    const hub = merge({
      images: records('docker.io/rancher/fleet:v2'),
      scans: scansOf(scanned('docker.io/rancher/fleet:v2', [finding('docker.io/rancher/fleet:v2', 'CVE-1', 'openssl')])),
      previous: [prev('rancher/fleet:v1', 'CVE-1', 'openssl', 'waiting', 'docker hub note')],
    });
    assert.equal(hub.rows[0]!.notes, 'docker hub note');
  });

  it('does not borrow from another tag when the exact image already has rows of its own', () => {
    const image = 'rancher/fleet:v0.9.6';
    const report = merge({
      images: records(image),
      scans: scansOf(scanned(image, [finding(image, 'CVE-1', 'openssl'), finding(image, 'CVE-9', 'curl')])),
      previous: [prev(image, 'CVE-1', 'openssl', 'waiting', 'exact'), prev('rancher/fleet:v0.9.5', 'CVE-9', 'curl', 'ignore', 'old tag note')],
    });
    const cve9 = report.rows.find((r) => r.vulnerabilityId === 'CVE-9')!;
    assert.deepEqual([cve9.state, cve9.notes, cve9.firstSeen], ['triaged', '', TODAY]);
  });

  it('prefers a row with notes when several previous rows share a key', () => {
    const image = 'rancher/fleet:v1';
    const report = merge({
      images: records(image),
      scans: scansOf(scanned(image, [finding(image, 'CVE-1', 'stdlib')])),
      previous: [prev(image, 'CVE-1', 'stdlib', 'triaged', ''), prev(image, 'CVE-1', 'stdlib', 'waiting', 'go 1.22.7 bump'), prev(image, 'CVE-1', 'stdlib', 'triaged', '')],
    });
    assert.equal(report.rows[0]!.notes, 'go 1.22.7 bump');
  });

  it('gives new findings state "triaged" and firstSeen today, and keeps unknown states as written', () => {
    const image = 'rancher/shell:v0.1.6';
    const report = merge({
      images: records(image),
      scans: scansOf(scanned(image, [finding(image, 'CVE-1', 'a'), finding(image, 'CVE-2', 'b'), finding(image, 'CVE-3', 'c')])),
      previous: [prev(image, 'CVE-2', 'b', 'Needs Review', 'asked security team'), prev(image, 'CVE-3', 'c', '', 'note without state')],
    });
    const by = new Map(report.rows.map((r) => [r.vulnerabilityId, r]));
    assert.deepEqual([by.get('CVE-1')!.state, by.get('CVE-1')!.firstSeen], ['triaged', TODAY]);
    assert.equal(by.get('CVE-2')!.state, 'Needs Review');
    assert.equal(by.get('CVE-2')!.ignored, false);
    assert.deepEqual([by.get('CVE-3')!.state, by.get('CVE-3')!.notes], ['triaged', 'note without state']);
    assert.deepEqual(report.problems, []);
  });
});

describe('mergeTriage: ignore needs a justification', () => {
  it('reports ignore with empty notes as a problem and does not honour it; ignore with notes is honoured', () => {
    const image = 'rancher/shell:v0.1.6';
    const report = merge({
      images: records(image),
      scans: scansOf(scanned(image, [finding(image, 'CVE-1', 'curl', 'CRITICAL'), finding(image, 'CVE-2', 'busybox'), finding(image, 'CVE-3', 'zlib')])),
      previous: [prev(image, 'CVE-1', 'curl', 'ignore', '   '), prev(image, 'CVE-2', 'busybox', 'ignore', 'shell never runs busybox httpd'), prev(image, 'CVE-3', 'zlib', 'IGNORE', 'upper-case state')],
    });
    const by = new Map(report.rows.map((r) => [r.vulnerabilityId, r]));
    assert.equal(by.get('CVE-1')!.ignored, false);
    assert.equal(by.get('CVE-1')!.state, 'ignore', 'the state is kept as written even when not honoured');
    assert.equal(by.get('CVE-2')!.ignored, true);
    assert.equal(by.get('CVE-3')!.ignored, true);
    assert.equal(report.problems.length, 1);
    assert.deepEqual([report.problems[0]!.image, report.problems[0]!.packageName, report.problems[0]!.vulnerabilityId], [image, 'curl', 'CVE-1']);
    assert.match(report.problems[0]!.message, /ignore/);
    const summary = summarizeReport(report);
    assert.equal(summary.ignored, 2);
    assert.equal(summary.invalidIgnores, 1);
    assert.deepEqual(summary.byState, { ignore: 2, IGNORE: 1 });
  });
});

describe('mergeTriage: failed scans, outcomes and counts', () => {
  it('keeps the previous rows of an image whose scan failed, and lists it as failed', () => {
    const ok = 'rancher/fleet:v1';
    const broken = 'rancher/gone:v1';
    const never = 'rancher/never:v1';
    const previous = [prev(broken, 'CVE-7', 'openssl', 'ignore', 'keep me'), prev(broken, 'CVE-8', 'curl', 'triaged', ''), prev(ok, 'CVE-1', 'openssl', 'triaged', '')];
    const report = merge({
      images: records(ok, broken, never),
      scans: scansOf(scanned(ok, [finding(ok, 'CVE-1', 'openssl')]), failedScan(broken)),
      previous,
    });
    assert.deepEqual(report.carriedRows, [previous[0], previous[1]]);
    assert.ok(report.rows.every((r) => r.image === ok));
    assert.deepEqual(
      report.images.failed.map((f) => [f.image, f.type]),
      [
        [broken, 'ImageNotFound'],
        [never, 'NotScanned'],
      ],
    );
    assert.match(report.images.failed[0]!.summary, /MANIFEST_UNKNOWN/);
    // The failed image's CVEs are neither new nor fixed.
    assert.deepEqual(report.changes, { new: 0, fixed: 0, unchanged: 1 });
    const summary = summarizeReport(report);
    assert.equal(summary.images.failed, 2);
    assert.equal(summary.images.total, 3);
  });

  it('counts clean, OS-not-scanned and with-findings images', () => {
    const report = merge({
      images: records('a/clean:1', 'a/windows:1', 'a/static:1', 'a/vuln:1'),
      scans: scansOf(scanned('a/clean:1', []), scanned('a/windows:1', [], false), scanned('a/static:1', [finding('a/static:1', 'GHSA-1', 'grpc')], false), scanned('a/vuln:1', [finding('a/vuln:1', 'CVE-1', 'x')])),
    });
    assert.equal(report.images.clean, 1);
    assert.equal(report.images.withFindings, 2);
    assert.deepEqual(report.images.osNotScanned, ['a/windows:1', 'a/static:1']);
    assert.deepEqual(report.images.failed, []);
    const summary = summarizeReport(report);
    assert.deepEqual(summary.images, { total: 4, withFindings: 2, clean: 1, osNotScanned: 2, failed: 0 });
    assert.deepEqual(summary.osNotScannedImages, ['a/windows:1', 'a/static:1']);
  });

  it('counts new, fixed and unchanged findings against the previous report', () => {
    const a = 'rancher/a:v1';
    const b = 'rancher/b:v1';
    const left = 'rancher/left:v1';
    const report = merge({
      images: records(a, b),
      scans: scansOf(scanned(a, [finding(a, 'CVE-1', 'p'), finding(a, 'CVE-2', 'p'), finding(a, 'CVE-3', 'p')]), scanned(b, [])),
      previous: [
        prev(a, 'CVE-1', 'p', 'triaged', ''), // unchanged
        prev(a, 'CVE-9', 'p', 'triaged', ''), // fixed: gone from a scanned image
        prev(b, 'CVE-5', 'q', 'triaged', ''), // fixed: b is clean now
        prev(left, 'CVE-6', 'r', 'triaged', ''), // fixed: image left the release
      ],
    });
    assert.deepEqual(report.changes, { new: 2, fixed: 3, unchanged: 1 });
    const summary = summarizeReport(report);
    assert.deepEqual(summary.changes, report.changes);
    assert.equal(summary.findings, 3);
    assert.deepEqual(summary.bySeverity, { CRITICAL: 0, HIGH: 3, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
  });

  it('a tag bump that carries a finding over counts it neither as new nor as fixed', () => {
    const report = merge({
      images: records('rancher/fleet:v2'),
      scans: scansOf(scanned('rancher/fleet:v2', [finding('rancher/fleet:v2', 'CVE-1', 'openssl'), finding('rancher/fleet:v2', 'CVE-2', 'curl')])),
      previous: [prev('rancher/fleet:v1', 'CVE-1', 'openssl', 'waiting', 'upstream'), prev('rancher/fleet:v1', 'CVE-3', 'zlib', 'triaged', '')],
    });
    // CVE-1 continues under the new tag (same firstSeen, same notes), CVE-2 is new, CVE-3 is fixed.
    assert.deepEqual(report.changes, { new: 1, fixed: 1, unchanged: 1 });
    assert.equal(report.rows.find((r) => r.vulnerabilityId === 'CVE-1')!.firstSeen, '2024-06-01');
  });
});

describe('mergeTriage: row order and record fields', () => {
  it('sorts rows by image, severity (CRITICAL first), vulnerability id, then package', () => {
    const a = 'rancher/a:v1';
    const b = 'rancher/b:v1';
    const report = merge({
      images: records(b, a),
      scans: scansOf(
        scanned(b, [finding(b, 'CVE-1', 'z', 'LOW'), finding(b, 'CVE-1', 'a', 'CRITICAL')]),
        scanned(a, [
          finding(a, 'CVE-9', 'p', 'UNKNOWN'),
          finding(a, 'CVE-2', 'q', 'MEDIUM'),
          finding(a, 'CVE-3', 'p', 'CRITICAL'),
          finding(a, 'CVE-2', 'p', 'MEDIUM'),
          finding(a, 'CVE-1', 'p', 'HIGH'),
          finding(a, 'CVE-10', 'p', 'CRITICAL'),
        ]),
      ),
    });
    assert.deepEqual(
      report.rows.map((r) => `${r.image} ${r.severity} ${r.vulnerabilityId} ${r.packageName}`),
      [
        'rancher/a:v1 CRITICAL CVE-10 p',
        'rancher/a:v1 CRITICAL CVE-3 p',
        'rancher/a:v1 HIGH CVE-1 p',
        'rancher/a:v1 MEDIUM CVE-2 p',
        'rancher/a:v1 MEDIUM CVE-2 q',
        'rancher/a:v1 UNKNOWN CVE-9 p',
        'rancher/b:v1 CRITICAL CVE-1 a',
        'rancher/b:v1 LOW CVE-1 z',
      ],
    );
  });

  it('stamps rows with the image record (mirrored, windows, projects) and the record reference', () => {
    const list = parseImageList('rancher/mirrored-pause:3.6\n', 'images');
    const windowsImages = parseImageList('rancher/mirrored-pause:3.6\n', 'windows');
    const images = buildImageRecords({ images: list, windowsImages, sources: { entries: [{ ref: list.entries[0]!, projects: ['system', 'rke2All'], line: 1 }], problems: [] } });
    const report = merge({ images, scans: scansOf(scanned('rancher/mirrored-pause:3.6', [finding('something-else', 'CVE-1', 'p')])) });
    const row = report.rows[0]!;
    assert.deepEqual([row.image, row.mirrored, row.windows, row.projects], ['rancher/mirrored-pause:3.6', true, true, ['rke2All', 'system']]);
  });
});

describe('mergeTriage: VEX statements and expiring ignores', () => {
  const img = 'rancher/fleet:v0.9.6';
  const vex = { status: 'not_affected', justification: 'component_not_present', source: 'vex/suse.json' };

  it('a suppressed finding stays a row, ignored with a VEX note, and is counted as a VEX ignore', () => {
    const report = merge({ images: records(img), scans: scansOf(scanned(img, [finding(img, 'CVE-1', 'openssl', 'CRITICAL', { vex }), finding(img, 'CVE-2', 'zlib')])) });
    const by = new Map(report.rows.map((r) => [r.vulnerabilityId, r]));
    assert.deepEqual([by.get('CVE-1')!.state, by.get('CVE-1')!.notes, by.get('CVE-1')!.ignored], ['ignore', 'VEX not_affected (component_not_present) [source: vex/suse.json]', true]);
    assert.equal(by.get('CVE-2')!.ignored, false);
    const s = summarizeReport(report);
    assert.equal(s.ignored, 1);
    assert.equal(s.vexIgnored, 1);
    assert.deepEqual(s.vexDisagreements, []);
  });

  it('next run without the statement: the VEX-written row is an open finding again', () => {
    const first = merge({ images: records(img), scans: scansOf(scanned(img, [finding(img, 'CVE-1', 'openssl', 'HIGH', { vex })])) });
    const carried = first.rows.map((r) => prev(r.image, r.vulnerabilityId, r.packageName, r.state, r.notes));
    const second = merge({ images: records(img), scans: scansOf(scanned(img, [finding(img, 'CVE-1', 'openssl')])), previous: carried });
    assert.deepEqual([second.rows[0]!.state, second.rows[0]!.notes, second.rows[0]!.ignored], ['triaged', '', false]);
    assert.equal(second.changes.new, 0, 'it is the same finding, not a new one');
  });

  it("a person's state wins over VEX; the summary lists the disagreement", () => {
    const report = merge({
      images: records(img),
      scans: scansOf(scanned(img, [finding(img, 'CVE-1', 'openssl', 'HIGH', { vex })])),
      previous: [prev(img, 'CVE-1', 'openssl', 'waiting', 'fix expected in 0.9.7')],
    });
    assert.deepEqual([report.rows[0]!.state, report.rows[0]!.notes, report.rows[0]!.ignored], ['waiting', 'fix expected in 0.9.7', false]);
    const s = summarizeReport(report);
    assert.equal(s.vexDisagreements?.length, 1);
    assert.match(s.vexDisagreements![0]!.detail, /vex\/suse\.json/);
  });

  it('an expired ignore counts again and is listed; an unreadable date is a problem', () => {
    const previous = [
      { ...prev(img, 'CVE-1', 'openssl', 'ignore', 'accepted until the rebuild'), ignoreExpires: TODAY },
      { ...prev(img, 'CVE-2', 'zlib', 'ignore', 'accepted'), ignoreExpires: '2025-01-14' },
      { ...prev(img, 'CVE-3', 'curl', 'ignore', 'accepted'), ignoreExpires: '14.01.2025' },
    ];
    const report = merge({ images: records(img), scans: scansOf(scanned(img, [finding(img, 'CVE-1', 'openssl'), finding(img, 'CVE-2', 'zlib'), finding(img, 'CVE-3', 'curl')])), previous });
    const by = new Map(report.rows.map((r) => [r.vulnerabilityId, r]));
    assert.deepEqual([by.get('CVE-1')!.ignored, by.get('CVE-1')!.ignoreExpired], [false, true], 'the end date itself is expired');
    assert.deepEqual([by.get('CVE-2')!.ignored, by.get('CVE-2')!.ignoreExpired], [true, false], 'the day before the end date is ignored');
    assert.equal(by.get('CVE-3')!.ignored, false);
    assert.equal(by.get('CVE-3')!.ignoreExpires, '14.01.2025', 'kept as written');
    assert.deepEqual(report.problems.map((p) => p.vulnerabilityId), ['CVE-3']);
    const s = summarizeReport(report);
    assert.deepEqual(s.expiredIgnores?.map((e) => [e.vulnerabilityId, e.detail]), [['CVE-1', `ignore expired on ${TODAY}`]]);
    assert.equal(s.ignored, 1);
    assert.equal(s.invalidIgnores, 1);
  });
});
