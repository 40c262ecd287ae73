import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../../core/finding.js';
import { parseTrivyReport, UnparsableReportError } from '../../core/trivy-report.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/core/', import.meta.url));
const SHARED_TRIVY = fileURLToPath(new URL('../../../../shared/fixtures/trivy/', import.meta.url));

const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

interface RawVuln {
  VulnerabilityID: string;
  PkgName?: string;
  PkgPath?: string;
  InstalledVersion?: string;
  FixedVersion?: string;
  Severity?: string;
  Status?: string;
  Title?: string;
  PrimaryURL?: string;
  PublishedDate?: string;
}
interface RawResult {
  Target: string;
  Class: string;
  Type: string;
  Vulnerabilities?: RawVuln[];
}

/**
 * Checks, independently of the parser, that each vulnerability of each result is
 * exactly one finding with the same fields. Returns the number of vulnerabilities.
 */
function assertEveryVulnerabilityOnce(text: string, findings: Finding[], image: string): number {
  const report = JSON.parse(text) as { Results?: RawResult[] };
  const remaining = [...findings];
  let total = 0;
  for (const result of report.Results ?? []) {
    for (const v of result.Vulnerabilities ?? []) {
      total++;
      const matches = remaining.filter(
        (f) =>
          f.target === result.Target &&
          f.vulnerabilityId === v.VulnerabilityID &&
          f.packageName === v.PkgName &&
          f.installedVersion === v.InstalledVersion &&
          f.packagePath === (v.PkgPath ?? ''),
      );
      assert.equal(matches.length >= 1, true, `${v.VulnerabilityID} in ${v.PkgName} (${result.Target}) has no finding`);
      const f = matches[0]!;
      assert.equal(f.image, image);
      assert.equal(f.class, result.Class);
      assert.equal(f.type, result.Type);
      assert.equal(f.fixedVersion, v.FixedVersion ?? '');
      assert.equal(f.severity, (v.Severity ?? 'UNKNOWN').toUpperCase());
      assert.equal(f.status, v.Status ?? '');
      assert.equal(f.title, v.Title ?? '');
      assert.equal(f.url, v.PrimaryURL ?? '');
      assert.equal(f.publishedDate, v.PublishedDate ?? '');
      remaining.splice(remaining.indexOf(f), 1);
    }
  }
  assert.deepEqual(remaining, [], 'no finding without a vulnerability in the report');
  assert.equal(findings.length, total);
  return total;
}

describe('parseTrivyReport: own fixtures', () => {
  it('keeps OS and language-package results, and the same CVE in two packages as two findings', () => {
    const text = fixture('trivy-os-and-lang.json');
    const scan = parseTrivyReport(text, 'rancher/example:v1.2.3');
    assert.equal(scan.outcome, 'findings');
    assert.equal(scan.osScanned, true);
    assert.equal(scan.os, 'debian 12.8');
    assert.equal(scan.image, 'rancher/example:v1.2.3');
    assert.equal(assertEveryVulnerabilityOnce(text, scan.findings, 'rancher/example:v1.2.3'), 5);

    const twice = scan.findings.filter((f) => f.vulnerabilityId === 'CVE-2024-2511');
    assert.deepEqual(twice.map((f) => f.packageName).sort(), ['libssl3', 'openssl']);

    const go = scan.findings.find((f) => f.vulnerabilityId === 'CVE-2024-45337')!;
    assert.deepEqual(
      [go.target, go.class, go.type, go.packageName, go.installedVersion, go.fixedVersion, go.severity],
      ['usr/bin/app', 'lang-pkgs', 'gobinary', 'golang.org/x/crypto', 'v0.21.0', '0.31.0', 'CRITICAL'],
    );
    const stdlib = scan.findings.find((f) => f.packageName === 'stdlib')!;
    assert.equal(stdlib.severity, 'HIGH', 'severity is upper-cased');
    assert.equal(stdlib.fixedVersion, '1.22.7, 1.23.1');

    const zlib = scan.findings.find((f) => f.packageName === 'zlib1g')!;
    assert.deepEqual(
      [zlib.fixedVersion, zlib.title, zlib.url, zlib.publishedDate, zlib.status, zlib.severity],
      ['', '', '', '', 'will_not_fix', 'CRITICAL'],
      'missing FixedVersion, Title, PrimaryURL and PublishedDate become empty strings',
    );
  });

  it('a report with only language packages has findings but no OS scanned', () => {
    const text = fixture('trivy-lang-only.json');
    const scan = parseTrivyReport(text, 'rancher/static-binary:v0.1.0');
    assert.equal(scan.outcome, 'findings');
    assert.equal(scan.osScanned, false);
    assert.equal(scan.os, undefined);
    assert.equal(assertEveryVulnerabilityOnce(text, scan.findings, 'rancher/static-binary:v0.1.0'), 1);
    assert.equal(scan.findings[0]!.vulnerabilityId, 'GHSA-xr7q-jx4m-x55m');
  });

  it('a report with no Results and no OS (a Windows image) is "os-not-scanned", never clean', () => {
    const scan = parseTrivyReport(fixture('trivy-windows-no-results.json'), 'rancher/windows-agent:v2.5.8');
    assert.equal(scan.outcome, 'os-not-scanned');
    assert.equal(scan.osScanned, false);
    assert.deepEqual(scan.findings, []);
    assert.equal(scan.os, undefined);
  });

  it('a language-only report without vulnerabilities is "os-not-scanned" too', () => {
    const text = JSON.stringify({ SchemaVersion: 2, Results: [{ Target: 'app/go.mod', Class: 'lang-pkgs', Type: 'gomod' }] });
    assert.equal(parseTrivyReport(text, 'x').outcome, 'os-not-scanned');
  });

  it('an OS result with no Vulnerabilities key is "clean"', () => {
    const scan = parseTrivyReport(fixture('trivy-os-clean.json'), 'registry.suse.com/bci/bci-micro:15.6');
    assert.equal(scan.outcome, 'clean');
    assert.equal(scan.osScanned, true);
    assert.equal(scan.os, 'suse linux enterprise server 15.6');
    assert.deepEqual(scan.findings, []);
  });

  it('treats null Results and null Vulnerabilities as empty', () => {
    assert.equal(parseTrivyReport('{"SchemaVersion":2,"Results":null}', 'x').outcome, 'os-not-scanned');
    const scan = parseTrivyReport('{"SchemaVersion":2,"Results":[{"Target":"t","Class":"os-pkgs","Type":"alpine","Vulnerabilities":null}]}', 'x');
    assert.equal(scan.outcome, 'clean');
  });

  it('maps an unknown or missing severity to UNKNOWN', () => {
    const text = JSON.stringify({
      SchemaVersion: 2,
      Results: [
        {
          Target: 't',
          Class: 'os-pkgs',
          Type: 'alpine',
          Vulnerabilities: [
            { VulnerabilityID: 'CVE-1', PkgName: 'a', InstalledVersion: '1', Severity: 'NEGLIGIBLE' },
            { VulnerabilityID: 'CVE-2', PkgName: 'b', InstalledVersion: '1' },
          ],
        },
      ],
    });
    assert.deepEqual(
      parseTrivyReport(text, 'x').findings.map((f) => f.severity),
      ['UNKNOWN', 'UNKNOWN'],
    );
  });
});

describe('parseTrivyReport: findings a VEX statement suppressed (--show-suppressed)', () => {
  const report = {
    SchemaVersion: 2,
    Results: [
      {
        Target: 'e2e/alpine (alpine 3.19.1)',
        Class: 'os-pkgs',
        Type: 'alpine',
        Vulnerabilities: [{ VulnerabilityID: 'CVE-2099-1001', PkgName: 'libcrypto3', InstalledVersion: '3.1.4-r0', Severity: 'HIGH', PkgIdentifier: { PURL: 'pkg:apk/alpine/libcrypto3@3.1.4-r0?arch=x86_64' } }],
        ExperimentalModifiedFindings: [
          {
            Type: 'vulnerability',
            Status: 'not_affected',
            Statement: 'vulnerable_code_not_in_execute_path',
            Source: '/etc/vex/suse.json',
            Finding: { VulnerabilityID: 'CVE-2099-1001', PkgName: 'libssl3', InstalledVersion: '3.1.4-r0', FixedVersion: '3.1.4-r5', Severity: 'HIGH', Title: 't' },
          },
          { Type: 'secret', Status: 'ignored', Finding: { RuleID: 'aws' } },
        ],
      },
    ],
  };

  it('keeps each suppressed vulnerability as a finding with its status, justification and source', () => {
    const scan = parseTrivyReport(JSON.stringify(report), 'img');
    assert.equal(scan.findings.length, 2, 'the secret is not a vulnerability and is left out');
    const [open, suppressed] = scan.findings;
    assert.equal(open!.vex, undefined);
    assert.equal(open!.packagePurl, 'pkg:apk/alpine/libcrypto3@3.1.4-r0?arch=x86_64');
    assert.deepEqual([suppressed!.packageName, suppressed!.fixedVersion, suppressed!.target, suppressed!.class, suppressed!.type], ['libssl3', '3.1.4-r5', 'e2e/alpine (alpine 3.19.1)', 'os-pkgs', 'alpine']);
    assert.deepEqual(suppressed!.vex, { status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', source: '/etc/vex/suse.json' });
    assert.equal(scan.outcome, 'findings', 'an image whose every finding is suppressed is not clean: its ignores are in the CSV');
  });
});

describe('parseTrivyReport: refuses what is not a Trivy report', () => {
  const image = 'rancher/broken:v9';
  const valid = fixture('trivy-os-and-lang.json');
  const cases: [string, string, RegExp][] = [
    ['non-JSON text', 'FATAL image scan error: something went wrong', /not JSON/],
    ['empty output', '', /not JSON.*empty output/],
    ['truncated JSON', valid.slice(0, Math.floor(valid.length / 2)), /not JSON/],
    ['a JSON array', '[]', /not an object/],
    ['JSON null', 'null', /not an object/],
    ['SchemaVersion 1', JSON.stringify({ SchemaVersion: 1, Results: [] }), /SchemaVersion 1; only 2/],
    ['no SchemaVersion', JSON.stringify({ Results: [] }), /SchemaVersion undefined/],
    ['Results not a list', JSON.stringify({ SchemaVersion: 2, Results: { Target: 'x' } }), /"Results" that is not a list/],
    ['a Result that is not an object', JSON.stringify({ SchemaVersion: 2, Results: ['x'] }), /Results\[0\] is not an object/],
    ['Vulnerabilities not a list', JSON.stringify({ SchemaVersion: 2, Results: [{ Class: 'os-pkgs', Vulnerabilities: 'none' }] }), /Results\[0\]\.Vulnerabilities is not a list/],
    [
      'a vulnerability without VulnerabilityID',
      JSON.stringify({
        SchemaVersion: 2,
        Results: [
          { Class: 'os-pkgs', Vulnerabilities: [] },
          { Class: 'lang-pkgs', Vulnerabilities: [{ VulnerabilityID: 'CVE-1', PkgName: 'a' }, { PkgName: 'b', Severity: 'HIGH' }] },
        ],
      }),
      /Results\[1\]\.Vulnerabilities\[1\] has no VulnerabilityID/,
    ],
    ['a null vulnerability', JSON.stringify({ SchemaVersion: 2, Results: [{ Class: 'os-pkgs', Vulnerabilities: [null] }] }), /has no VulnerabilityID/],
    ['suppressed findings that are not a list', JSON.stringify({ SchemaVersion: 2, Results: [{ Class: 'os-pkgs', ExperimentalModifiedFindings: {} }] }), /Results\[0\]\.ExperimentalModifiedFindings is not a list/],
    ['a suppressed finding that is not an object', JSON.stringify({ SchemaVersion: 2, Results: [{ Class: 'os-pkgs', ExperimentalModifiedFindings: [7] }] }), /ExperimentalModifiedFindings\[0\] is not an object/],
    [
      'a suppressed vulnerability without Finding',
      JSON.stringify({ SchemaVersion: 2, Results: [{ Class: 'os-pkgs', ExperimentalModifiedFindings: [{ Type: 'vulnerability', Status: 'not_affected' }] }] }),
      /ExperimentalModifiedFindings\[0\] has no Finding/,
    ],
    [
      'a suppressed vulnerability without Status',
      JSON.stringify({ SchemaVersion: 2, Results: [{ Class: 'os-pkgs', ExperimentalModifiedFindings: [{ Type: 'vulnerability', Finding: { VulnerabilityID: 'CVE-1' } }] }] }),
      /ExperimentalModifiedFindings\[0\] has no Status/,
    ],
    [
      'a suppressed vulnerability without VulnerabilityID',
      JSON.stringify({ SchemaVersion: 2, Results: [{ Class: 'os-pkgs', ExperimentalModifiedFindings: [{ Type: 'vulnerability', Status: 'fixed', Finding: { PkgName: 'a' } }] }] }),
      /ExperimentalModifiedFindings\[0\]\.Finding has no VulnerabilityID/,
    ],
  ];
  for (const [what, text, message] of cases) {
    it(`refuses ${what} with an error naming the image`, () => {
      assert.throws(
        () => parseTrivyReport(text, image),
        (error: unknown) =>
          error instanceof UnparsableReportError && error.name === 'UnparsableReportError' && error.message.includes(image) && message.test(error.message),
      );
    });
  }
});

describe('conformance: real Trivy reports (../shared/fixtures/trivy)', () => {
  it('turns every vulnerability of every result into exactly one finding', (t) => {
    if (!existsSync(SHARED_TRIVY)) return t.skip(`shared Trivy fixtures not found at ${SHARED_TRIVY}`);
    const files = readdirSync(SHARED_TRIVY)
      .filter((f) => f.endsWith('.json'))
      .sort();
    assert.ok(files.length > 0, `no .json report in ${SHARED_TRIVY}`);
    for (const file of files) {
      const text = readFileSync(join(SHARED_TRIVY, file), 'utf8');
      const image = `fixture/${file}`;
      const scan = parseTrivyReport(text, image);
      const count = assertEveryVulnerabilityOnce(text, scan.findings, image);
      const raw = JSON.parse(text) as { Results?: RawResult[] };
      const hasOs = (raw.Results ?? []).some((r) => r.Class === 'os-pkgs');
      assert.equal(scan.osScanned, hasOs, file);
      assert.equal(scan.outcome, count > 0 ? 'findings' : hasOs ? 'clean' : 'os-not-scanned', file);
      t.diagnostic(`${file}: ${count} vulnerabilities -> ${scan.findings.length} findings (outcome ${scan.outcome}, os ${scan.os ?? 'none'})`);
    }
  });

  it('matches the counts the fixtures README states', (t) => {
    if (!existsSync(SHARED_TRIVY)) return t.skip(`shared Trivy fixtures not found at ${SHARED_TRIVY}`);
    const expected: Record<string, { total: number; CRITICAL: number; os: string; outcome: string }> = {
      'alpine-3.9-os-pkgs-critical.json': { total: 6, CRITICAL: 2, os: 'alpine 3.9.4', outcome: 'findings' },
      'debian-10-buster-os-pkgs-critical-unfixed.json': { total: 2, CRITICAL: 1, os: 'debian 10.1', outcome: 'findings' },
      'distroless-base-debian-9-os-pkgs.json': { total: 4, CRITICAL: 0, os: 'debian 9.9', outcome: 'findings' },
      'sle-micro-5.4-no-vulnerabilities.json': { total: 0, CRITICAL: 0, os: 'slem 5.4', outcome: 'clean' },
    };
    for (const [file, want] of Object.entries(expected)) {
      const path = join(SHARED_TRIVY, file);
      if (!existsSync(path)) {
        t.diagnostic(`${file} not present; skipped`);
        continue;
      }
      const scan = parseTrivyReport(readFileSync(path, 'utf8'), file);
      assert.equal(scan.findings.length, want.total, file);
      assert.equal(scan.findings.filter((f) => f.severity === 'CRITICAL').length, want.CRITICAL, file);
      assert.equal(scan.os, want.os, file);
      assert.equal(scan.outcome, want.outcome, file);
    }
    const alpine = join(SHARED_TRIVY, 'alpine-3.9-os-pkgs-critical.json');
    if (existsSync(alpine)) {
      const scan = parseTrivyReport(readFileSync(alpine, 'utf8'), 'alpine');
      const pkgs = scan.findings.filter((f) => f.vulnerabilityId === 'CVE-2019-1549').map((f) => f.packageName);
      assert.deepEqual(pkgs.sort(), ['libcrypto1.1', 'libssl1.1']);
      assert.equal(scan.findings.find((f) => f.vulnerabilityId === 'CVE-2019-14697')!.title, '');
    }
    const buster = join(SHARED_TRIVY, 'debian-10-buster-os-pkgs-critical-unfixed.json');
    if (existsSync(buster)) {
      const f = parseTrivyReport(readFileSync(buster, 'utf8'), 'buster').findings.find((x) => x.vulnerabilityId === 'CVE-2019-18276')!;
      assert.deepEqual([f.packageName, f.status, f.fixedVersion], ['bash', 'affected', '']);
    }
  });
});
