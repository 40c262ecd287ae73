import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExitCode, checkImage } from '../../core/image-check.js';
import { renderImageCheck } from '../../core/render/check.js';
import type { ImageScan } from '../../core/scan.js';
import type { TriagedFinding } from '../../core/triage.js';
import { finding } from '../helpers/reports.js';

const IMG = 'rancher/fleet:v0.13.0';
const row = (id: string, state: string, notes: string, ignored: boolean): TriagedFinding => ({ ...finding(IMG, id), state, notes, ignored, firstSeen: '2026-01-01', mirrored: false, windows: false, projects: [] });
const scan = (findings: ReturnType<typeof finding>[], outcome: ImageScan['outcome'] = findings.length ? 'findings' : 'clean'): ImageScan => ({ image: IMG, outcome, osScanned: true, findings });

describe('checkImage', () => {
  it('counts a CVE ignored in only one of its releases as remaining, and one ignored in all as not', () => {
    const reported = [
      { release: 'v2.12.0', rows: [row('CVE-A', 'ignore', 'why', true), row('CVE-B', 'ignore', 'why', true)] },
      { release: 'v2.13-head', rows: [row('CVE-A', 'triaged', '', false), row('CVE-B', 'ignore', 'why', true)] },
    ];
    const check = checkImage(scan([finding(IMG, 'CVE-A'), finding(IMG, 'CVE-B')]), reported);
    assert.deepEqual(check.cves.map((c) => [c.vulnerabilityId, c.status, c.ignored]), [['CVE-A', 'still present', false], ['CVE-B', 'still present', true]]);
    assert.equal(check.remaining, 1);
    assert.equal(checkExitCode(check), 3);
  });

  it('a new CVE a VEX statement suppresses is ignored; a new one without is not', () => {
    const vexed = finding(IMG, 'CVE-V', 'HIGH', { vex: { status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', source: 'rancher.openvex.json' } });
    const check = checkImage(scan([vexed, finding(IMG, 'CVE-N')]), []);
    assert.deepEqual(check.cves.map((c) => [c.vulnerabilityId, c.status, c.ignored]), [['CVE-N', 'new', false], ['CVE-V', 'new', true]]);
    assert.equal(check.remaining, 1);
    assert.equal(checkExitCode(checkImage(scan([vexed]), [])), 0);
  });

  it('a failed scan judges nothing: no CVE is called fixed', () => {
    const failed: ImageScan = { ...scan([], 'failed'), failure: { type: 'RegistryUnauthorized', permanent: true, summary: 'denied' } };
    const check = checkImage(failed, [{ release: 'v2.12.0', rows: [row('CVE-A', 'triaged', '', false)] }]);
    assert.equal(check.failure, 'RegistryUnauthorized: denied');
    assert.deepEqual(check.cves, []);
  });

  it('prints people\'s notes without control characters (no terminal escapes)', () => {
    const check = checkImage(scan([finding(IMG, 'CVE-A')]), [{ release: 'v2.12.0', rows: [row('CVE-A', 'waiting', 'see \u001b[31mred\u001b[0m\nnext line', false)] }]);
    const text = renderImageCheck(check);
    assert.ok(!text.includes('\u001b'), JSON.stringify(text));
    assert.match(text, /v2\.12\.0: waiting "see +\[31mred +\[0m next line"/);
  });
});
