import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding, Severity } from '../../core/finding.js';
import { buildImageRecords, parseImageList, parseImageSources } from '../../core/image-list.js';
import {
  buildDesiredIssues,
  countPlan,
  indexExistingIssues,
  planIssueChanges,
  projectLabel,
  type DesiredIssues,
  type ExistingIssue,
  type IssueChange,
} from '../../core/issue-plan.js';
import { readIssueMarker, renderIssueBody } from '../../core/render/markdown.js';
import type { ImageScan } from '../../core/scan.js';
import { mergeTriage, type PreviousRow, type ReleaseReport } from '../../core/triage.js';

function finding(image: string, vulnerabilityId: string, packageName: string, severity: Severity = 'HIGH'): Finding {
  return {
    image,
    target: 'x (debian 12.8)',
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
    publishedDate: '',
  };
}

interface ReleaseSpec {
  images: string[];
  windows?: string[];
  sources?: string;
  findings?: Record<string, Finding[]>;
  failed?: string[];
  /** image → vulnerability id → notes, written as state=ignore */
  ignores?: Record<string, Record<string, string>>;
}

function release(name: string, spec: ReleaseSpec): ReleaseReport {
  const records = buildImageRecords({
    images: parseImageList(spec.images.join('\n'), 'images'),
    windowsImages: parseImageList((spec.windows ?? []).join('\n'), 'windows'),
    sources: parseImageSources(spec.sources ?? '', 'sources'),
  });
  const scans = new Map<string, ImageScan>();
  for (const r of records) {
    if (spec.failed?.includes(r.image)) {
      scans.set(r.image, { image: r.image, outcome: 'failed', osScanned: false, findings: [], failure: { type: 'RegistryRateLimited', permanent: false, summary: '429' } });
    } else {
      const findings = spec.findings?.[r.image] ?? [];
      scans.set(r.image, { image: r.image, outcome: findings.length ? 'findings' : 'clean', osScanned: true, findings });
    }
  }
  const previous: PreviousRow[] = [];
  for (const [image, byId] of Object.entries(spec.ignores ?? {})) {
    for (const [id, notes] of Object.entries(byId)) {
      const f = spec.findings?.[image]?.find((x) => x.vulnerabilityId === id);
      assert.ok(f, `test setup: ${image} has no ${id}`);
      previous.push({ image, packageName: f.packageName, vulnerabilityId: id, state: 'ignore', notes, firstSeen: '2024-01-01', cells: {} });
    }
  }
  return mergeTriage({ release: name, images: records, scans, previous, today: '2025-01-13' });
}

function existing(number: number, fields: Partial<ExistingIssue>): ExistingIssue {
  return { number, title: '', body: '', state: 'open', labels: [], ...fields };
}

const only = <A extends IssueChange['action']>(changes: IssueChange[], action: A) => changes.filter((c): c is Extract<IssueChange, { action: A }> => c.action === action);

describe('buildDesiredIssues', () => {
  const fleet = 'rancher/fleet:v0.9.6';
  const pause = 'rancher/mirrored-pause:3.6';

  it('labels: cve-report, critical-cves, release/*, project/* without version, mirrored-image, windows', () => {
    const reports = [
      release('v2.9.0', {
        images: [fleet, pause],
        windows: [pause],
        sources: `${fleet} fleet:0.9.600,rancher\n${pause} rancher-monitoring:16.6.0,system`,
        findings: { [fleet]: [finding(fleet, 'CVE-1', 'openssl', 'HIGH')], [pause]: [finding(pause, 'CVE-2', 'stdlib', 'CRITICAL')] },
      }),
      release('v2.8.6', {
        images: [pause],
        sources: `${pause} rancher-monitoring:15.0.0`,
        findings: { [pause]: [finding(pause, 'CVE-2', 'stdlib', 'CRITICAL')] },
      }),
    ];
    const desired = buildDesiredIssues(reports);
    assert.deepEqual(desired.releases, ['v2.8.6', 'v2.9.0']);
    const by = new Map(desired.open.map((i) => [i.image, i]));
    assert.deepEqual(by.get(fleet)!.labels, ['cve-report', 'project/fleet', 'project/rancher', 'release/v2.9.0']);
    assert.deepEqual(by.get(pause)!.labels, ['critical-cves', 'cve-report', 'mirrored-image', 'project/rancher-monitoring', 'project/system', 'release/v2.8.6', 'release/v2.9.0', 'windows']);
    assert.equal(by.get(pause)!.title, `[CVE Report]: ${pause}`);
    assert.deepEqual(by.get(pause)!.releases, ['v2.8.6', 'v2.9.0']);
    assert.deepEqual(by.get(pause)!.projects, ['rancher-monitoring:15.0.0', 'rancher-monitoring:16.6.0', 'system']);
    assert.equal(by.get(pause)!.findings.length, 1, 'the same finding in two releases is listed once');
    assert.equal(by.get(pause)!.counts.CRITICAL, 1);
  });

  it("names a generated release with its commit in each issue's body (\"v2.13-head at 1a2b3c4\"), a released tag by name alone", () => {
    const img = 'rancher/fleet:v0.13.0';
    const findings = { [img]: [finding(img, 'CVE-1', 'openssl', 'HIGH')] };
    const head = { ...release('v2.13-head', { images: [img], findings }), source: { repository: 'https://github.com/rancher/rancher', ref: 'release/v2.13', commit: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d' } };
    const desired = buildDesiredIssues([head, release('v2.13.0', { images: [img], findings })]);
    const issue = desired.open[0]!;
    assert.deepEqual(issue.releases, ['v2.13-head', 'v2.13.0']);
    assert.deepEqual(issue.labels.filter((l) => l.startsWith('release/')), ['release/v2.13-head', 'release/v2.13.0'], 'labels keep the bare names');
    assert.match(renderIssueBody(issue), /^Releases: v2\.13-head at 1a2b3c4, v2\.13\.0$/m);
    const moved = buildDesiredIssues([{ ...head, source: { ...head.source, commit: 'ffffffe000' } }]).open[0]!;
    assert.match(renderIssueBody(moved), /^Releases: v2\.13-head at ffffffe$/m, 'a moved head changes the body, so the issue is updated');
  });

  it('leaves out a CVE ignored in every release containing the image, keeps one ignored in only one release', () => {
    const img = 'rancher/shell:v0.1.6';
    const findings = { [img]: [finding(img, 'CVE-CRIT', 'curl', 'CRITICAL'), finding(img, 'CVE-HIGH', 'busybox', 'HIGH'), finding(img, 'CVE-LOW', 'zlib', 'LOW')] };
    const desired = buildDesiredIssues([
      release('v2.8.6', { images: [img], findings, ignores: { [img]: { 'CVE-CRIT': 'not reachable', 'CVE-HIGH': 'not reachable' } } }),
      release('v2.9.0', { images: [img], findings, ignores: { [img]: { 'CVE-CRIT': 'not reachable' } } }),
    ]);
    const issue = desired.open.find((i) => i.image === img)!;
    assert.deepEqual(
      issue.findings.map((f) => f.vulnerabilityId),
      ['CVE-HIGH', 'CVE-LOW'],
    );
    assert.equal(issue.ignored, 1);
    assert.ok(!issue.labels.includes('critical-cves'), 'the only CRITICAL is ignored everywhere');
    assert.equal(issue.counts.CRITICAL, 0);
    // The CVE ignored in one release only carries what each release says, for the issue body.
    assert.deepEqual(issue.findings.find((f) => f.vulnerabilityId === 'CVE-HIGH')!.triage, [
      { release: 'v2.8.6', state: 'ignore', notes: 'not reachable', ignored: true },
      { release: 'v2.9.0', state: 'triaged', notes: '', ignored: false },
    ]);
  });

  it('does not honour an ignore without notes', () => {
    const img = 'rancher/shell:v0.1.6';
    const findings = { [img]: [finding(img, 'CVE-CRIT', 'curl', 'CRITICAL')] };
    const desired = buildDesiredIssues([release('v2.9.0', { images: [img], findings, ignores: { [img]: { 'CVE-CRIT': '' } } })]);
    assert.equal(desired.open.length, 1);
    assert.ok(desired.open[0]!.labels.includes('critical-cves'));
  });

  it('an ignore whose end date has come reopens the issue of an image it had resolved; a VEX ignore keeps it out', () => {
    const img = 'rancher/shell:v0.1.6';
    const f = finding(img, 'CVE-CRIT', 'curl', 'CRITICAL');
    const images = buildImageRecords({ images: parseImageList(img, 'images') });
    const scans = new Map<string, ImageScan>([[img, { image: img, outcome: 'findings', osScanned: true, findings: [f] }]]);
    const previous = (ignoreExpires: string): PreviousRow[] => [{ image: img, packageName: 'curl', vulnerabilityId: 'CVE-CRIT', state: 'ignore', notes: 'accepted', ignoreExpires, firstSeen: '2024-01-01', cells: {} }];
    const before = buildDesiredIssues([mergeTriage({ release: 'v2.9.0', images, scans, previous: previous('2025-01-14'), today: '2025-01-13' })]);
    assert.deepEqual([before.open.length, before.resolved], [0, [img]], 'the day before its end date the ignore holds');
    const on = buildDesiredIssues([mergeTriage({ release: 'v2.9.0', images, scans, previous: previous('2025-01-13'), today: '2025-01-13' })]);
    assert.equal(on.open.length, 1, 'on its end date the finding is reported again');
    assert.ok(on.open[0]!.labels.includes('critical-cves'));
    const closed = existing(9, { title: on.open[0]!.title, body: 'old', labels: on.open[0]!.labels, state: 'closed' });
    assert.equal(only(planIssueChanges(on, [closed]).changes, 'update')[0]?.reopen, true);
    const vexScans = new Map<string, ImageScan>([[img, { image: img, outcome: 'findings', osScanned: true, findings: [{ ...f, vex: { status: 'not_affected', justification: '', source: 'suse.json' } }] }]]);
    assert.equal(buildDesiredIssues([mergeTriage({ release: 'v2.9.0', images, scans: vexScans, previous: [], today: '2025-01-13' })]).open.length, 0);
  });

  it('resolves an image with nothing left to report and holds an image whose scan failed', () => {
    const img = 'rancher/shell:v0.1.6';
    const desired = buildDesiredIssues([
      release('v2.9.0', {
        images: [img, 'rancher/clean:v1', 'rancher/broken:v1'],
        findings: { [img]: [finding(img, 'CVE-1', 'curl')], 'rancher/broken:v1': [finding('rancher/broken:v1', 'CVE-2', 'x')] },
        ignores: { [img]: { 'CVE-1': 'accepted risk' } },
        failed: ['rancher/broken:v1'],
      }),
    ]);
    assert.deepEqual(desired.open, []);
    assert.deepEqual(desired.resolved, ['rancher/clean:v1', img]);
    assert.deepEqual(desired.held, ['rancher/broken:v1']);
  });

  it('holds an image that failed in one release even if another release lists findings for it', () => {
    const img = 'rancher/fleet:v1';
    const desired = buildDesiredIssues([
      release('v2.8.6', { images: [img], findings: { [img]: [finding(img, 'CVE-1', 'openssl', 'CRITICAL')] } }),
      release('v2.9.0', { images: [img], failed: [img] }),
    ]);
    assert.deepEqual(desired.held, [img]);
    assert.deepEqual(desired.open, []);
  });

  it('projectLabel drops the chart version', () => {
    assert.equal(projectLabel('rancher-webhook:0.1.200+up0.1.2'), 'project/rancher-webhook');
    assert.equal(projectLabel('k3sUpgrade'), 'project/k3sUpgrade');
    assert.ok(projectLabel(`x${'y'.repeat(80)}`).length <= 50, 'GitHub label names are at most 50 characters');
  });
});

describe('planIssueChanges', () => {
  const img = 'rancher/fleet:v0.9.6';
  const desiredFor = (...reports: ReleaseReport[]) => buildDesiredIssues(reports);
  const oneOpen = () => desiredFor(release('v2.9.0', { images: [img], findings: { [img]: [finding(img, 'CVE-1', 'openssl', 'CRITICAL')] } }));

  it('creates a missing issue with a marker, the legacy title and the labels', () => {
    const plan = planIssueChanges(oneOpen(), []);
    const [create] = only(plan.changes, 'create');
    assert.equal(plan.changes.length, 1);
    assert.equal(create!.title, `[CVE Report]: ${img}`);
    assert.equal(readIssueMarker(create!.body), img);
    assert.deepEqual(create!.labels, ['critical-cves', 'cve-report', 'release/v2.9.0']);
    assert.deepEqual(plan.labels, ['critical-cves', 'cve-report', 'release/v2.9.0']);
    assert.deepEqual(countPlan(plan), { create: 1, update: 0, reopen: 0, close: 0, unchanged: 0 });
  });

  it('adopts an issue made by the old system (legacy title, no marker): update, not create', () => {
    const legacy = existing(17, { title: `[CVE Report]: ${img}`, body: '| CVE | ... |', labels: ['cve-report', 'critical-cves'] });
    const plan = planIssueChanges(oneOpen(), [legacy]);
    assert.equal(only(plan.changes, 'create').length, 0);
    const [update] = only(plan.changes, 'update');
    assert.equal(update!.number, 17);
    assert.equal(update!.reopen, false);
    assert.equal(readIssueMarker(update!.body), img);
  });

  it('prefers the issue carrying the marker over one with only the legacy title', () => {
    const desired = oneOpen();
    const body = renderIssueBody(desired.open[0]!);
    const legacy = existing(3, { title: `[CVE Report]: ${img}`, body: 'old' });
    const marked = existing(40, { title: 'renamed by a person', body, labels: desired.open[0]!.labels });
    const plan = planIssueChanges(desired, [legacy, marked]);
    assert.deepEqual(
      plan.changes.map((c) => [c.action, c.action === 'create' ? 0 : c.number]),
      [['update', 40]],
      'the title is restored on the marked issue; the legacy one is left alone',
    );
    assert.equal(indexExistingIssues([legacy, marked]).get(img)!.number, 40);
  });

  it('makes no change when title, body and labels already match', () => {
    const desired = oneOpen();
    const issue = desired.open[0]!;
    const current = existing(5, { title: issue.title, body: renderIssueBody(issue), labels: [...issue.labels].reverse() });
    const plan = planIssueChanges(desired, [current]);
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.unchanged, 1);
  });

  it('updates when only the labels differ, keeping foreign labels and dropping stale owned ones', () => {
    const desired = oneOpen();
    const issue = desired.open[0]!;
    const current = existing(5, { title: issue.title, body: renderIssueBody(issue), labels: ['cve-report', 'critical-cves', 'release/v2.7.0', 'project/old', 'team/security', 'good first issue'] });
    const [update] = only(planIssueChanges(desired, [current]).changes, 'update');
    assert.deepEqual(update!.labels, ['critical-cves', 'cve-report', 'good first issue', 'release/v2.9.0', 'team/security']);
  });

  it('reopens a closed issue when CVEs come back', () => {
    const desired = oneOpen();
    const issue = desired.open[0]!;
    const closed = existing(9, { title: issue.title, body: renderIssueBody(issue), labels: issue.labels, state: 'closed' });
    const plan = planIssueChanges(desired, [closed]);
    const [update] = only(plan.changes, 'update');
    assert.equal(update!.number, 9);
    assert.equal(update!.reopen, true);
    assert.deepEqual(countPlan(plan), { create: 0, update: 0, reopen: 1, close: 0, unchanged: 0 });
  });

  it('prefers an open issue over a closed one for the same image', () => {
    const desired = oneOpen();
    const issue = desired.open[0]!;
    const body = renderIssueBody(issue);
    const plan = planIssueChanges(desired, [existing(2, { title: issue.title, body, state: 'closed', labels: issue.labels }), existing(8, { title: issue.title, body, labels: issue.labels })]);
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.unchanged, 1);
  });

  it('closes the open issue of a resolved image with a comment, and leaves a closed one alone', () => {
    const desired = desiredFor(release('v2.9.0', { images: [img, 'rancher/other:v1'] }));
    assert.deepEqual(desired.resolved, [img, 'rancher/other:v1']);
    const plan = planIssueChanges(desired, [existing(5, { title: `[CVE Report]: ${img}`, labels: ['cve-report'] }), existing(6, { title: '[CVE Report]: rancher/other:v1', state: 'closed' })]);
    const closes = only(plan.changes, 'close');
    assert.deepEqual(
      closes.map((c) => [c.number, c.image]),
      [[5, img]],
    );
    assert.ok(closes[0]!.comment.length > 0);
    assert.equal(plan.changes.length, 1);
  });

  it('never touches the issue of an image whose scan failed', () => {
    const desired = desiredFor(release('v2.9.0', { images: [img], failed: [img] }));
    const stale = existing(5, { title: 'stale title', body: `<!-- image-scanning:image=${img} -->\nold table`, labels: ['cve-report', 'release/v2.9.0'] });
    const closedStale = existing(6, { title: `[CVE Report]: ${img}`, state: 'closed' });
    const plan = planIssueChanges(desired, [stale, closedStale]);
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.held, [img]);
  });

  it('closes an issue whose image left the scanned releases only when all its release labels were scanned', () => {
    const desired: DesiredIssues = desiredFor(release('v2.9.0', { images: ['rancher/current:v1'] }), release('v2.8.6', { images: ['rancher/current:v1'] }));
    const gone = existing(11, { title: '[CVE Report]: rancher/gone:v1', labels: ['cve-report', 'release/v2.9.0', 'release/v2.8.6'] });
    const partly = existing(12, { title: '[CVE Report]: rancher/partly:v1', labels: ['cve-report', 'release/v2.9.0', 'release/v2.7.15'] });
    const legacy = existing(13, { title: '[CVE Report]: rancher/legacy:v1', labels: ['cve-report', 'critical-cves'] });
    const closedGone = existing(14, { title: '[CVE Report]: rancher/old:v1', labels: ['release/v2.9.0'], state: 'closed' });
    const notOurs = existing(15, { title: 'Bug: something else', labels: ['release/v2.9.0'] });
    const plan = planIssueChanges(desired, [gone, partly, legacy, closedGone, notOurs]);
    assert.deepEqual(
      plan.changes.map((c) => [c.action, c.action === 'create' ? 0 : c.number]),
      [['close', 11]],
    );
  });

  it('puts each label of every desired issue into plan.labels once', () => {
    const a = 'rancher/a:v1';
    const b = 'rancher/mirrored-b:v1';
    const desired = desiredFor(
      release('v2.9.0', {
        images: [a, b],
        sources: `${a} fleet:1.0\n${b} fleet:2.0`,
        findings: { [a]: [finding(a, 'CVE-1', 'x', 'CRITICAL')], [b]: [finding(b, 'CVE-2', 'y', 'LOW')] },
      }),
    );
    const plan = planIssueChanges(desired, []);
    assert.deepEqual(plan.labels, ['critical-cves', 'cve-report', 'mirrored-image', 'project/fleet', 'release/v2.9.0']);
    assert.equal(only(plan.changes, 'create').length, 2);
  });
});
