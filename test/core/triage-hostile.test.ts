import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countBySeverity } from '../../core/finding.js';
import type { DesiredIssue } from '../../core/issue-plan.js';
import { renderIssueBody } from '../../core/render/markdown.js';
import { embedJson, notesHtml, scriptSafeJson } from '../../core/render/site-page.js';
import { parseTriageComment } from '../../core/triage-command.js';
import { TriageCsv } from '../../core/triage-csv.js';
import { applyCommands } from '../../core/triage-decision.js';
import { renderTriageReply } from '../../core/triage-reply.js';

// One hostile command followed to every place its text lands: kept raw in the model and the CSV,
// escaped by each medium's own renderer (CSV formula guard, issue Markdown, site HTML, the bot's reply).

const HOSTILE = '=HYPERLINK("https://evil.example") | **bold** <img src=x onerror=alert(1)> </script><b>x</b> @maintainers @org/team #12 org/repo#34 [l](javascript:alert(1))';
const origin = { login: 'alice', at: '2026-12-05T09:00:00Z', url: 'https://github.com/rancher/cve-reports/issues/9#issuecomment-7' };
const HEADER = 'image,package_name,type,vulnerability_id,severity,url,patched_version,mirrored,state,notes,ignore_expires';

function noted(previous = '') {
  const { commands, problems } = parseTriageComment(`/cve waiting CVE-2024-1 ${HOSTILE}`);
  assert.deepEqual(problems, []);
  assert.equal(commands[0]!.text, HOSTILE, 'the parser keeps the text as written');
  return applyCommands({ state: 'triaged', notes: previous, ignoreExpires: '' }, commands, origin);
}

describe('hostile text in a command', () => {
  it('is stored raw in the CSV; a cell that starts like a formula is guarded and reads back as written', () => {
    // A person's earlier note that starts like a formula, then the command's line after it.
    const triage = noted('=SUM(A1:A9) seen by ops');
    const csv = new TriageCsv(`${HEADER}\nimg:1,openssl,debian,CVE-2024-1,HIGH,,,false,triaged,"'=SUM(A1:A9) seen by ops",\n`, 'cves-v2.9.0.csv');
    csv.set('img:1', 'openssl', 'CVE-2024-1', triage);
    const text = csv.text();
    assert.ok(text.includes(`"'=SUM(A1:A9) seen by ops\nwaiting: =HYPERLINK(""https://evil.example"")`), text);
    assert.doesNotMatch(text, /(^|,)"?=/m, 'no cell starts with =');
    const back = new TriageCsv(text, 'again.csv').rowsOf('img:1')[0]!.triage;
    assert.deepEqual(back, triage);
    assert.ok(back.notes.endsWith(`waiting: ${HOSTILE} (@alice, 2026-12-05, ${origin.url})`));
  });

  it('is escaped in the issue table: no cell breaks, no HTML, no @mention, no #ref', () => {
    const triage = noted();
    const finding = { vulnerabilityId: 'CVE-2024-1', severity: 'HIGH' as const, packageName: 'openssl', installedVersion: '1', fixedVersion: '2', title: 't', url: 'https://avd.aquasec.com/nvd/cve-2024-1', triage: [{ release: 'v2.9.0', state: triage.state, notes: triage.notes, ignored: false }] };
    const issue: DesiredIssue = { image: 'img:1', title: '[CVE Report]: img:1', labels: ['cve-report'], findings: [finding], counts: countBySeverity([finding]), ignored: 0, releases: ['v2.9.0'], projects: [] };
    const row = renderIssueBody(issue).split('\n').find((l) => l.startsWith('| CVE-2024-1'))!;
    let pipes = 0;
    for (let i = 0; i < row.length; i++) {
      if (row[i] === '\\') i++;
      else if (row[i] === '|') pipes++;
    }
    assert.equal(pipes, 9, `one row of eight cells: ${row}`);
    assert.doesNotMatch(row, /<img|<\/script>|<b>|@maintainers|@org\/team|#12|#34|\*\*bold\*\*|\[l\]\(/);
    assert.match(row, /waiting/);
  });

  it('is escaped in the site: text in the notes cell, and no way out of the embedded table data', () => {
    const { notes } = noted();
    const html = notesHtml(notes);
    assert.doesNotMatch(html, /<img|<b>|<\/script>|href="javascript/);
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(html.includes(`<a href="${origin.url}"`), 'the comment link stays a link');
    const embedded = embedJson('findings', { notes });
    assert.equal(embedded.match(/<\/script/gi)?.length, 1, 'only the element\'s own end tag');
    assert.doesNotMatch(embedded, /<img|<b>/i);
    assert.equal((JSON.parse(scriptSafeJson(JSON.stringify({ notes }))) as { notes: string }).notes, notes, 'raw once parsed');
  });

  it("is escaped in the bot's reply: no @mention, no #ref, no HTML, no Markdown", () => {
    const { problems } = parseTriageComment(`/cve ignore ${HOSTILE}`);
    const reply = renderTriageReply({
      commentId: 7,
      version: origin.at,
      commentUrl: origin.url,
      applied: 0,
      problems: [
        ...problems.map((p) => ({ kind: 'syntax' as const, line: p.line, source: p.source, message: p.message })),
        { kind: 'unknown-release', line: 2, release: 'v9<b>@x', releases: ['v2.9.0'] },
      ],
    });
    const visible = reply.split('\n').slice(1).join('\n');
    assert.doesNotMatch(visible, /<img|<\/script>|<b>|@maintainers|@org\/team|@x|#12|#34|\*\*bold\*\*|\[l\]\(/);
    assert.match(visible, /line 1 \(/);
  });
});
