import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countBySeverity, type Severity } from '../../core/finding.js';
import type { DesiredIssue, IssueFinding } from '../../core/issue-plan.js';
import { escapeMarkdownCell, GITHUB_BODY_LIMIT, issueMarker, readIssueMarker, renderIssueBody, safeHttpUrl } from '../../core/render/markdown.js';

function issueFinding(vulnerabilityId: string, extra: Partial<IssueFinding> = {}): IssueFinding {
  return {
    vulnerabilityId,
    severity: 'HIGH',
    packageName: 'openssl',
    installedVersion: '3.0.15-1~deb12u1',
    fixedVersion: '3.0.15-1~deb12u2',
    title: `${vulnerabilityId} title`,
    url: `https://avd.aquasec.com/nvd/${vulnerabilityId.toLowerCase()}`,
    triage: [{ release: 'v2.9.0', state: 'triaged', notes: '', ignored: false }],
    ...extra,
  };
}

function issue(findings: IssueFinding[], extra: Partial<DesiredIssue> = {}): DesiredIssue {
  const image = extra.image ?? 'rancher/fleet:v0.9.6';
  return {
    image,
    title: `[CVE Report]: ${image}`,
    labels: ['cve-report'],
    findings,
    counts: countBySeverity(findings),
    ignored: 0,
    releases: ['v2.9.0'],
    projects: ['fleet:0.9.600'],
    ...extra,
  };
}

/** Table rows of a body: lines that start with a pipe, after the header and the delimiter row. */
function tableRows(body: string): string[] {
  return body.split('\n').filter((l) => l.startsWith('|')).slice(2);
}

/** Pipes that GitHub treats as cell separators: not escaped with a backslash. */
function unescapedPipes(line: string): number {
  let n = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '|') n++;
  }
  return n;
}

describe('renderIssueBody', () => {
  it('has the marker, a summary line, releases, projects and one table row per finding', () => {
    const findings = [issueFinding('CVE-1', { severity: 'CRITICAL' }), issueFinding('CVE-2'), issueFinding('CVE-3', { severity: 'LOW' })];
    const body = renderIssueBody(issue(findings, { releases: ['v2.8.6', 'v2.9.0'], projects: ['fleet:0.9.600', 'rancher'], ignored: 2 }));
    assert.equal(readIssueMarker(body), 'rancher/fleet:v0.9.6');
    assert.ok(body.startsWith(issueMarker('rancher/fleet:v0.9.6')));
    assert.match(body, /3 vulnerabilities \(1 CRITICAL, 1 HIGH, 1 LOW\); 2 ignored in every release/);
    assert.match(body, /Releases: v2\.8\.6, v2\.9\.0/);
    assert.match(body, /Projects: fleet:0\.9\.600, rancher/);
    const rows = tableRows(body);
    assert.equal(rows.length, 3);
    for (const row of rows) assert.equal(unescapedPipes(row), 9, row);
    assert.ok(rows[0]!.includes('CVE-1') && rows[0]!.includes('CRITICAL'));
    assert.ok(rows[0]!.includes('[CVE-1 title](https://avd.aquasec.com/nvd/cve-1)'), rows[0]);
    assert.doesNotMatch(body, /more findings are not shown/);
  });

  it('is deterministic', () => {
    const i = issue([issueFinding('CVE-1'), issueFinding('CVE-2')]);
    assert.equal(renderIssueBody(i), renderIssueBody(structuredClone(i)));
  });

  it('escapes pipes, backticks and HTML and neutralises @mentions in cells', () => {
    const hostile = 'a | b `code` <script>alert(1)</script> @someone *bold* [x](y) #123';
    const body = renderIssueBody(
      issue([issueFinding('CVE-2025-0001', { title: hostile, packageName: 'pkg|name', installedVersion: '1|2', fixedVersion: '@admin' })], {
        projects: ['@team'],
        releases: ['v2.9.0|x'],
      }),
    );
    const [row] = tableRows(body);
    assert.equal(unescapedPipes(row!), 9, `a raw | splits the row: ${row}`);
    assert.ok(!body.includes('<script>'), 'no raw HTML');
    assert.ok(!/@someone|@admin|@team/.test(body), 'no live @mention');
    assert.ok(body.includes('@&#8203;someone'));
    assert.ok(!/#123/.test(body), 'no issue reference');
    assert.ok(!body.includes('`code`'), 'backticks escaped');
    // The text is still readable: only escapes were added.
    assert.ok(row!.includes('a \\| b \\`code\\` &lt;script&gt;alert(1)&lt;/script&gt;'), row);
  });

  it('links only http and https URLs', () => {
    const body = renderIssueBody(
      issue([
        issueFinding('CVE-A', { title: 'script', url: 'javascript:alert(1)' }),
        issueFinding('CVE-B', { title: 'data', url: 'data:text/html,<b>x</b>' }),
        issueFinding('CVE-C', { title: 'empty', url: '' }),
        issueFinding('CVE-D', { title: 'plain http', url: 'http://example.com/advisory' }),
      ]),
    );
    assert.ok(!body.includes('javascript:'), 'a javascript: URL is not rendered');
    assert.ok(!body.includes('data:text'), 'a data: URL is not rendered');
    const rows = tableRows(body);
    assert.ok(rows.find((r) => r.includes('CVE-A'))!.endsWith('| script | triaged |  |'));
    assert.ok(rows.find((r) => r.includes('CVE-C'))!.endsWith('| empty | triaged |  |'));
    assert.ok(rows.find((r) => r.includes('CVE-D'))!.includes('[plain http](http://example.com/advisory)'));
  });

  it('keeps a URL from breaking the table or the link', () => {
    const body = renderIssueBody(issue([issueFinding('CVE-1', { url: 'https://example.com/a|b?q=(x) y&z=`c`' })]));
    const [row] = tableRows(body);
    assert.equal(unescapedPipes(row!), 9, `the URL splits the row: ${row}`);
    const target = /\]\(([^)]*)\)/.exec(row!)?.[1];
    assert.ok(target, row);
    assert.ok(!/[\s()|`]/.test(target!), `link target ${target} has characters that end or break the link`);
    assert.equal(decodeURIComponent(target!), 'https://example.com/a|b?q=(x) y&z=`c`', 'the link still goes to the same address');
  });

  it('uses the vulnerability id as link text when the title is missing', () => {
    const [row] = tableRows(renderIssueBody(issue([issueFinding('CVE-9', { title: '' })])));
    assert.ok(row!.endsWith('| [CVE-9](https://avd.aquasec.com/nvd/cve-9) | triaged |  |'), row);
  });

  it("shows what colleagues wrote: each CVE's state and notes, escaped, long notes cut with a link to the site", () => {
    const long = `${'We checked the call graph: the vulnerable parser is never reached. '.repeat(5)}@alice | see #42`;
    const body = renderIssueBody(
      issue(
        [
          issueFinding('CVE-1', { triage: [{ release: 'v2.9.0', state: 'waiting', notes: 'fix in @rancher/fleet | 0.9.7 <b>soon</b>', ignored: false }] }),
          issueFinding('CVE-2', { triage: [{ release: 'v2.9.0', state: 'triaged', notes: long, ignored: false }] }),
        ],
        { image: 'rancher/fleet:v0.9.6' },
      ),
      { imagePageUrl: (image) => `https://cves.example.org/image-${image.replace(/\W/g, '_')}.html` },
    );
    const [one, two] = tableRows(body);
    assert.ok(one!.includes('| waiting | fix in @&#8203;rancher/fleet \\| 0.9.7 &lt;b&gt;soon&lt;/b&gt; |'), one);
    assert.equal(unescapedPipes(one!), 9, 'notes cannot split the row');
    assert.ok(!/@alice|@rancher|#42/.test(body), 'no live mention or issue reference from notes');
    assert.match(two!, /never reached\.… \[\(all notes\)\]\(https:\/\/cves\.example\.org\/image-rancher_fleet_v0_9_6\.html\)/);
    assert.ok(!two!.includes('alice') && two!.split('We checked').length - 1 < 5, 'the tail of long notes is cut');
    const withoutSite = tableRows(renderIssueBody(issue([issueFinding('CVE-2', { triage: [{ release: 'v2.9.0', state: 'triaged', notes: long, ignored: false }] })])))[0]!;
    assert.match(withoutSite, /… \(all notes in the release CSV\) \|$/);
  });

  it('says when a CVE is ignored in some of the image\'s releases but not all', () => {
    const body = renderIssueBody(
      issue(
        [
          issueFinding('CVE-1', {
            triage: [
              { release: 'v2.10.0', state: 'triaged', notes: '', ignored: false },
              { release: 'v2.9.0', state: 'ignore', notes: 'not shipped in 2.9', ignored: true },
            ],
          }),
          issueFinding('CVE-2'),
        ],
        { releases: ['v2.10.0', 'v2.9.0'] },
      ),
    );
    assert.match(body, /; 1 ignored in some releases but not all \(see State\)\./);
    assert.ok(tableRows(body)[0]!.includes('| triaged in v2.10.0; ignore in v2.9.0 | not shipped in 2.9 |'), tableRows(body)[0]);
  });

  it('stays within 65,536 characters with thousands of findings and says how many are not shown', () => {
    const findings = Array.from({ length: 5000 }, (_, i) =>
      issueFinding(`CVE-2024-${String(10000 + i)}`, {
        severity: (['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as Severity[])[i % 4]!,
        packageName: `golang.org/x/package-${i}`,
        title: `A fairly long vulnerability title number ${i} that describes the problem in some detail`,
      }),
    );
    const body = renderIssueBody(issue(findings), { reportLink: 'https://example.github.io/image-scanning/release-v2.9.0.html' });
    assert.ok(body.length <= GITHUB_BODY_LIMIT, `${body.length} characters`);
    const shown = tableRows(body).length;
    assert.ok(shown > 100 && shown < 5000, `${shown} rows shown`);
    const match = /(\d+) more findings are not shown/.exec(body);
    assert.ok(match, 'the body says rows were left out');
    assert.equal(Number(match![1]), 5000 - shown);
    assert.ok(body.includes('https://example.github.io/image-scanning/release-v2.9.0.html'));
    assert.match(body, /5000 vulnerabilities/, 'the summary still counts every finding');
  });

  it('stays within the limit whatever the length of the report link', () => {
    const findings = Array.from({ length: 300 }, (_, i) => issueFinding(`CVE-2024-${1000 + i}`));
    const reportLink = `https://example.github.io/${'very-long-path/'.repeat(60)}release.html`;
    for (const limit of [4000, 6000]) {
      const body = renderIssueBody(issue(findings), { limit, reportLink });
      assert.ok(body.length <= limit, `limit ${limit}: ${body.length} characters`);
      assert.ok(body.includes(reportLink));
    }
  });

  it('respects a smaller limit and points to the CSV without a report link', () => {
    const findings = Array.from({ length: 200 }, (_, i) => issueFinding(`CVE-2024-${1000 + i}`));
    for (const limit of [2000, 3000, 5000]) {
      const body = renderIssueBody(issue(findings), { limit });
      assert.ok(body.length <= limit, `limit ${limit}: ${body.length} characters`);
      assert.match(body, /See the release CSV for the full list\./);
      const match = /(\d+) more findings are not shown/.exec(body)!;
      assert.equal(Number(match[1]) + tableRows(body).length, 200);
    }
  });
});

describe('issue marker', () => {
  it('round-trips images, including ones with "--" that would end an HTML comment', () => {
    for (const image of ['rancher/fleet:v0.9.6', 'registry.example.com:5000/a--b/c---d:v1', `rancher/x@sha256:${'ab'.repeat(32)}`]) {
      const marker = issueMarker(image);
      assert.equal(marker.indexOf('-->'), marker.length - 3, `the comment ends only at its end: ${marker}`);
      assert.equal(readIssueMarker(`text before\n${marker}\ntext after`), image);
    }
    assert.equal(readIssueMarker('no marker here'), undefined);
    assert.equal(readIssueMarker(null), undefined);
  });
});

describe('escapeMarkdownCell and safeHttpUrl', () => {
  it('flattens newlines so a cell stays on its row', () => {
    assert.equal(escapeMarkdownCell('a\nb\r\nc\rd'), 'a b c d');
  });

  it('accepts only http(s) URLs', () => {
    assert.equal(safeHttpUrl('https://avd.aquasec.com/nvd/cve-2024-2511'), 'https://avd.aquasec.com/nvd/cve-2024-2511');
    assert.equal(safeHttpUrl('HTTP://Example.com/x'), 'http://example.com/x');
    for (const url of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,x', 'vbscript:x', 'file:///etc/passwd', '/relative', 'not a url', '']) {
      assert.equal(safeHttpUrl(url), undefined, url);
    }
  });
});
