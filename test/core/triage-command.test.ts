import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTriageComment } from '../../core/triage-command.js';
import { applyCommands, decideRow, mayTriage } from '../../core/triage-decision.js';
import { TriageCsv } from '../../core/triage-csv.js';
import { escapeReplyText, renderTriageReply } from '../../core/triage-reply.js';

const origin = { login: 'alice', at: '2026-12-05T09:00:00Z', url: 'https://github.com/o/r/issues/1#issuecomment-7' };

describe('the /cve grammar', () => {
  it('reads each verb, several ids, until and in, in any order, and keeps the text raw', () => {
    const { commands, problems } = parseTriageComment(
      ['thanks!', '/cve ignore CVE-2024-1234,CVE-2024-5678 until 2027-03-01 in v2.9.0 not reachable =1+1 @bob #12', '/cve waiting upstream fix', '/cve reopen CVE-2024-1234'].join('\n'),
    );
    assert.deepEqual(problems.map((p) => p.message), ['/cve waiting needs a vulnerability id such as CVE-2024-1234; "upstream" is not one']);
    assert.equal(commands.length, 2);
    assert.deepEqual(commands[0], { verb: 'ignore', ids: ['CVE-2024-1234', 'CVE-2024-5678'], until: '2027-03-01', release: 'v2.9.0', text: 'not reachable =1+1 @bob #12', line: 2 });
    assert.deepEqual(commands[1], { verb: 'reopen', ids: ['CVE-2024-1234'], text: '', line: 4 });
  });

  it('refuses an ignore without justification, a bad date and until on another verb; skips quotes and code fences', () => {
    const { commands, problems } = parseTriageComment(
      ['/cve ignore CVE-2024-1234', '/cve ignore CVE-2024-1234 until 2027-02-30 why', '/cve waiting CVE-2024-1234 until 2027-01-01 x', '> /cve ignore CVE-2024-9999 quoted', '```', '/cve ignore CVE-2024-9999 in code', '```', '/cve frobnicate CVE-2024-1'].join('\n'),
    );
    assert.equal(commands.length, 0);
    assert.deepEqual(problems.map((p) => p.line), [1, 2, 3, 8]);
    assert.match(problems[0]!.message, /justification/);
    assert.match(problems[1]!.message, /"2027-02-30" is not a date/);
    assert.match(problems[2]!.message, /only goes with ignore/);
  });
});

describe('triage decisions', () => {
  const [ignore] = parseTriageComment('/cve ignore CVE-2024-1 until 2027-03-01 not reachable').commands;
  const [reopen] = parseTriageComment('/cve reopen CVE-2024-1').commands;

  it('only write, maintain, admin or the team may triage', () => {
    assert.equal(mayTriage({ permission: 'write' }), true);
    assert.equal(mayTriage({ permission: 'read', roleName: 'maintain' }), true);
    assert.equal(mayTriage({ permission: 'read', roleName: 'triage' }), false);
    assert.equal(mayTriage({ permission: 'none', teamMember: true }), true);
  });

  it('records who, when and the link, replaces the comment\'s own earlier line, and reopen keeps the notes', () => {
    const row = applyCommands({ state: 'triaged', notes: 'seen before', ignoreExpires: '' }, [ignore!], origin);
    assert.deepEqual(row, { state: 'ignore', notes: `seen before\nignore: not reachable (@alice, 2026-12-05, ${origin.url})`, ignoreExpires: '2027-03-01' });
    assert.deepEqual(applyCommands(row, [ignore!], origin), row, 'applying twice changes nothing');
    const reopened = applyCommands(row, [reopen!], { ...origin, url: 'https://github.com/o/r/issues/1#issuecomment-8' });
    assert.equal(reopened.state, 'triaged');
    assert.equal(reopened.ignoreExpires, '');
    assert.match(reopened.notes, /^seen before\nignore: not reachable .*\nreopened \(@alice/);
  });

  it('a retry is "already", a CSV edited since the baseline wins', () => {
    const base = { state: 'triaged', notes: '', ignoreExpires: '' };
    const applied = applyCommands(base, [ignore!], origin);
    assert.equal(decideRow(applied, base, [ignore!], origin).kind, 'already');
    assert.equal(decideRow({ ...base, notes: 'a person wrote this' }, base, [ignore!], origin).kind, 'csv-wins');
    assert.equal(decideRow(base, base, [ignore!], origin).kind, 'apply');
  });

  it('a row changed since the baseline wins only when the CSV changed at or after the comment', () => {
    const base = { state: 'triaged', notes: '', ignoreExpires: '' };
    const edited = { ...base, state: 'waiting', notes: 'a person wrote this' };
    assert.equal(decideRow(edited, base, [ignore!], origin, '2026-12-05T09:00:01Z').kind, 'csv-wins', 'edited after the comment');
    assert.equal(decideRow(edited, base, [ignore!], origin, '2026-12-05T09:00:00.000Z').kind, 'csv-wins', 'the same second: the person is kept');
    const applied = decideRow(edited, base, [ignore!], origin, '2026-12-05T08:59:59Z');
    assert.equal(applied.kind, 'apply', 'edited before the comment: the comment is newer');
    assert.deepEqual(applied.kind === 'apply' && applied.row, { state: 'ignore', notes: `a person wrote this\nignore: not reachable (@alice, 2026-12-05, ${origin.url})`, ignoreExpires: '2027-03-01' });
    assert.equal(decideRow(base, base, [ignore!], origin, '2026-12-05T10:00:00Z').kind, 'apply', 'a file changed elsewhere does not stop a row nobody touched');
  });
});

describe('hostile text', () => {
  it('is stored raw in the CSV, guarded against formulas, and read back the same', () => {
    const csv = new TriageCsv('image,package_name,type,vulnerability_id,severity,url,patched_version,mirrored,state,notes,ignore_expires\nimg:1,openssl,debian,CVE-2024-1,HIGH,,,false,triaged,,\n', 'test.csv');
    const [cmd] = parseTriageComment('/cve note CVE-2024-1 =HYPERLINK("http://evil") <img src=x> @org/team #1 | **x**').commands;
    csv.set('img:1', 'openssl', 'CVE-2024-1', { state: '=1+1', notes: applyCommands({ state: '', notes: '', ignoreExpires: '' }, [cmd!], origin).notes, ignoreExpires: '' });
    const text = csv.text();
    assert.match(text, /,'=1\+1,/);
    const again = new TriageCsv(text, 'again.csv').rowsOf('img:1')[0]!;
    assert.equal(again.triage.state, '=1+1');
    assert.ok(again.triage.notes.startsWith('note: =HYPERLINK("http://evil") <img src=x> @org/team #1 | **x** (@alice'));
  });

  it('is escaped in replies: no HTML, no @mentions, no #refs, no Markdown', () => {
    const text = escapeReplyText('<script>@alice #12 org/repo#3 #abc **b** [l](http://x)');
    assert.doesNotMatch(text, /<script>|@alice|#12|#3|#abc|\*\*b\*\*|\[l\]/);
    const reply = renderTriageReply({ commentId: 7, version: origin.at, commentUrl: origin.url, applied: 0, problems: [{ kind: 'unknown-id', line: 1, id: 'CVE-2024-1', known: Array.from({ length: 25 }, (_, i) => `CVE-2024-${100 + i}`) }] });
    assert.match(reply, /CVE-2024-119 \(and 5 more\)/);
    assert.doesNotMatch(reply, /CVE-2024-120/);
  });
});

describe('the help block', () => {
  it('is at the foot of every issue body, and is not itself read as commands', async () => {
    const { renderIssueBody } = await import('../../core/render/markdown.js');
    const { TRIAGE_HELP } = await import('../../core/triage-command.js');
    const body = renderIssueBody({ image: 'a:1', findings: [], counts: { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 }, ignored: 0, releases: [], projects: [] } as never);
    assert.ok(body.endsWith(TRIAGE_HELP));
    assert.deepEqual(parseTriageComment(TRIAGE_HELP), { commands: [], problems: [] });
  });
});
