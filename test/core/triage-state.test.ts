import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  countTriage,
  emptyTriageCounts,
  ignoreHasExpired,
  isVexNote,
  NO_JUSTIFICATION,
  parseIgnoreExpires,
  resolveTriageState,
  vexNote,
  type VexSuppression,
} from '../../core/triage-state.js';

const today = '2026-11-29';
const vex: VexSuppression = { status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', source: 'vex/suse.json' };

describe('resolveTriageState: VEX precedence', () => {
  it('a finding with no previous row and a VEX statement is ignored, with a note naming the source and justification', () => {
    const s = resolveTriageState({ vex, today });
    assert.equal(s.state, 'ignore');
    assert.equal(s.notes, 'VEX not_affected (vulnerable_code_not_in_execute_path) [source: vex/suse.json]');
    assert.equal(s.ignored, true);
    assert.equal(s.vexApplied, true);
    assert.equal(s.problem, undefined);
    assert.equal(s.vexDisagreement, undefined);
  });

  it('applies VEX over the default state the tool wrote itself (triaged, no notes)', () => {
    for (const state of ['triaged', '', ' Triaged ']) {
      const s = resolveTriageState({ previous: { state, notes: '' }, vex, today });
      assert.equal(s.ignored, true, state);
      assert.equal(s.vexApplied, true);
    }
  });

  it('a VEX-written row whose statement is gone comes back as an open finding', () => {
    const previous = { state: 'ignore', notes: vexNote(vex), ignoreExpires: '' };
    const s = resolveTriageState({ previous, today });
    assert.deepEqual([s.state, s.notes, s.ignored, s.vexApplied], ['triaged', '', false, false]);
  });

  it('a VEX-written row is rewritten from this run\'s statement', () => {
    const previous = { state: 'ignore', notes: vexNote(vex) };
    const s = resolveTriageState({ previous, vex: { ...vex, justification: 'component_not_present' }, today });
    assert.equal(s.notes, 'VEX not_affected (component_not_present) [source: vex/suse.json]');
    assert.equal(s.ignored, true);
  });

  it('a note a person edited is theirs: it keeps the ignore after the statement is gone', () => {
    for (const notes of [`${vexNote(vex)} checked by Ana`, `Ana: ${vexNote(vex)}`, `${vexNote(vex)}\nsee #12`]) {
      assert.equal(isVexNote(notes), false, notes);
      const s = resolveTriageState({ previous: { state: 'ignore', notes }, today });
      assert.deepEqual([s.state, s.notes, s.ignored, s.vexApplied], ['ignore', notes, true, false], notes);
    }
    // An end date a person added makes the row theirs too.
    const dated = resolveTriageState({ previous: { state: 'ignore', notes: vexNote(vex), ignoreExpires: '2027-01-01' }, today });
    assert.deepEqual([dated.ignored, dated.vexApplied, dated.ignoreExpires], [true, false, '2027-01-01']);
  });

  it("a person's state wins over VEX, and the disagreement is said", () => {
    for (const previous of [{ state: 'waiting', notes: '' }, { state: 'triaged', notes: 'upstream fix in 1.2, see #44' }, { state: 'waiting', notes: vexNote(vex) }]) {
      const s = resolveTriageState({ previous, vex, today });
      assert.equal(s.ignored, false, JSON.stringify(previous));
      assert.equal(s.state, previous.state);
      assert.equal(s.notes, previous.notes, "the person's notes are kept");
      assert.equal(s.vexApplied, false);
      assert.match(s.vexDisagreement ?? '', /vex\/suse\.json.*not affected.*person/);
    }
  });

  it("a person's justified ignore agrees with VEX: no disagreement, the person's note stays", () => {
    const s = resolveTriageState({ previous: { state: 'ignore', notes: 'not shipped' }, vex, today });
    assert.deepEqual([s.ignored, s.notes, s.vexApplied, s.vexDisagreement], [true, 'not shipped', false, undefined]);
  });

  it('a VEX note stays one line whatever the statement holds, and is recognised on the next run', () => {
    const hostile: VexSuppression = { status: 'not_affected', justification: 'a)\n(b', source: 'VEX Repository: default (https://github.com/rancher/vexhub)\r\n=cmd' };
    const note = vexNote(hostile);
    assert.equal(/[\r\n]/.test(note), false);
    assert.equal(isVexNote(note), true);
    assert.equal(note, 'VEX not_affected (a b) [source: VEX Repository: default (https://github.com/rancher/vexhub) =cmd]');
    assert.equal(isVexNote('VEX not_affected'), false);
    assert.equal(isVexNote('not reachable'), false);
  });
});

describe('resolveTriageState: ignores that expire', () => {
  const ignore = (ignoreExpires: string) => ({ state: 'ignore', notes: 'accepted risk until the 2.10 rebuild', ignoreExpires });

  it('the day before the end date is still ignored', () => {
    const s = resolveTriageState({ previous: ignore('2026-11-30'), today });
    assert.deepEqual([s.ignored, s.expired, s.problem], [true, false, undefined]);
  });

  it('on the end date itself the ignore has expired (as Trivy expired_at), and after it too', () => {
    for (const date of ['2026-11-29', '2026-11-28', '2025-01-01']) {
      const s = resolveTriageState({ previous: ignore(date), today });
      assert.deepEqual([s.ignored, s.expired, s.state, s.ignoreExpires], [false, true, 'ignore', date], date);
      assert.equal(s.problem, undefined, 'an expired ignore is listed, not a problem');
    }
    assert.equal(ignoreHasExpired('2026-11-29', '2026-11-28'), false);
    assert.equal(ignoreHasExpired('2026-11-29', '2026-11-29'), true);
  });

  it('an unreadable end date is flagged and the ignore not honoured; the cell is kept as written', () => {
    for (const date of ['29/11/2026', '2026-02-30', '2026-13-01', 'next week', '2026-1-5']) {
      const s = resolveTriageState({ previous: ignore(date), today });
      assert.equal(s.ignored, false, date);
      assert.equal(s.expired, false);
      assert.equal(s.ignoreExpires, date);
      assert.match(s.problem ?? '', /ignore_expires .* is not a date \(YYYY-MM-DD\); the ignore is not honoured/, date);
    }
  });

  it('an ignore without a justification is still the same problem, with or without a date', () => {
    assert.equal(resolveTriageState({ previous: { state: 'ignore', notes: ' ' }, today }).problem, NO_JUSTIFICATION);
    const both = resolveTriageState({ previous: { state: 'ignore', notes: '', ignoreExpires: 'soon' }, today });
    assert.ok(both.problem?.startsWith(NO_JUSTIFICATION) && both.problem.includes('"soon"'));
  });

  it('an expired ignore that VEX still calls not affected stays counted: the person set the date', () => {
    const s = resolveTriageState({ previous: ignore('2026-01-01'), vex, today });
    assert.deepEqual([s.ignored, s.expired], [false, true]);
    assert.match(s.vexDisagreement ?? '', /expired on 2026-01-01/);
  });

  it('parseIgnoreExpires takes only real YYYY-MM-DD days', () => {
    assert.equal(parseIgnoreExpires(' 2028-02-29 '), '2028-02-29');
    assert.equal(parseIgnoreExpires('2027-02-29'), undefined);
    assert.equal(parseIgnoreExpires('2026-11-29T00:00:00Z'), undefined);
    assert.equal(parseIgnoreExpires(''), undefined);
  });
});

describe('countTriage', () => {
  it('counts one row at a time: VEX ignores, expired ignores and disagreements', () => {
    const acc = emptyTriageCounts();
    const row = { image: 'a', packageName: 'p', vulnerabilityId: 'CVE-1', severity: 'HIGH' as const };
    countTriage(acc, { ...row, vexApplied: true });
    countTriage(acc, { ...row, ignoreExpired: true, ignoreExpires: '2026-01-01' });
    countTriage(acc, { ...row, vexDisagreement: 'VEX says no' });
    countTriage(acc, row);
    assert.equal(acc.vexIgnored, 1);
    assert.deepEqual(acc.expiredIgnores, [{ ...row, detail: 'ignore expired on 2026-01-01' }]);
    assert.deepEqual(acc.vexDisagreements, [{ ...row, detail: 'VEX says no' }]);
  });
});
