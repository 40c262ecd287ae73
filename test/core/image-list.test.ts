import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildImageRecords, formatListProblems, parseImageList, parseImageSources, parseMirrorList, unmatchedSources } from '../../core/image-list.js';

const RANCHER_FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/rancher/', import.meta.url));
const DIGEST = `sha256:${'a1b2c3d4'.repeat(8)}`;

describe('parseImageList', () => {
  it('skips blank lines and # and // comments, tolerates CRLF and a missing final newline', () => {
    const text = '# Rancher images\r\n\r\nrancher/fleet:v0.3.5\r\n   \r\n// legacy comment\r\n  rancher/shell:v0.1.6  \r\nbusybox';
    const { entries, problems } = parseImageList(text, 'rancher-images.txt');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      entries.map((e) => e.reference),
      ['rancher/fleet:v0.3.5', 'rancher/shell:v0.1.6', 'busybox'],
    );
    assert.ok(entries.every((e) => !e.reference.includes('\r')));
    assert.equal(entries[2]!.canonical, 'docker.io/library/busybox:latest');
  });

  it('collapses duplicates, including different spellings of the same image, keeping the first', () => {
    const text = ['rancher/fleet:v0.3.5', 'busybox', 'rancher/fleet:v0.3.5', 'docker.io/library/busybox:latest', 'docker.io/rancher/fleet:v0.3.5', 'rancher/fleet:v0.3.6'].join('\n');
    const { entries, problems } = parseImageList(text, 'list');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      entries.map((e) => e.reference),
      ['rancher/fleet:v0.3.5', 'busybox', 'rancher/fleet:v0.3.6'],
    );
  });

  it('keeps registry prefixes and digests', () => {
    const text = `rgcrprod.azurecr.us/rancher/rancher:v2.8.6\nlocalhost:5000/x\nquay.io/calico/node@${DIGEST}\n`;
    const { entries, problems } = parseImageList(text, 'list');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      entries.map((e) => [e.registry, e.repository, e.tag, e.digest]),
      [
        ['rgcrprod.azurecr.us', 'rancher/rancher', 'v2.8.6', undefined],
        ['localhost:5000', 'x', undefined, undefined],
        ['quay.io', 'calico/node', undefined, DIGEST],
      ],
    );
  });

  it('reports a malformed line with its source and line number and keeps the rest', () => {
    const text = '# header\nrancher/fleet:v0.3.5\n\nrancher/Bad Image:v1\nrancher/shell:v0.1.6\nrancher/x:-1\n';
    const { entries, problems } = parseImageList(text, 'v9.9.9/rancher-images.txt');
    assert.deepEqual(
      entries.map((e) => e.reference),
      ['rancher/fleet:v0.3.5', 'rancher/shell:v0.1.6'],
    );
    assert.equal(problems.length, 2);
    assert.deepEqual(
      problems.map((p) => [p.source, p.line, p.text]),
      [
        ['v9.9.9/rancher-images.txt', 4, 'rancher/Bad Image:v1'],
        ['v9.9.9/rancher-images.txt', 6, 'rancher/x:-1'],
      ],
    );
    assert.match(problems[0]!.message, /whitespace/);
    assert.match(problems[1]!.message, /invalid tag/);
    const formatted = formatListProblems(problems).split('\n');
    assert.equal(formatted.length, 2);
    assert.ok(formatted[0]!.startsWith('v9.9.9/rancher-images.txt:4: '), formatted[0]);
    assert.ok(formatted[1]!.includes('"rancher/x:-1"'), formatted[1]);
  });

  it('counts line numbers over CRLF lines the way an editor shows them', () => {
    const { problems } = parseImageList('a:1\r\nb:2\r\n\r\nBAD\r\n', 'list');
    assert.deepEqual(
      problems.map((p) => [p.line, p.text]),
      [[4, 'BAD']],
    );
  });

  it('returns nothing for an empty list', () => {
    assert.deepEqual(parseImageList('', 'empty'), { entries: [], problems: [] });
    assert.deepEqual(parseImageList('\n\n# only comments\n', 'empty'), { entries: [], problems: [] });
  });
});

describe('parseImageSources', () => {
  it('reads <image> <source> and comma-separated source lists', () => {
    const text = 'busybox core\r\nrancher/mirrored-library-busybox:1.31.1 rancher-grafana:6.11.0,rancher-monitoring:16.6.0,rancher-pushprox:0.1.400\r\nregistry:2 system';
    const { entries, problems } = parseImageSources(text, 'rancher-images-sources.txt');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      entries.map((e) => [e.ref.canonical, e.projects]),
      [
        ['docker.io/library/busybox:latest', ['core']],
        ['docker.io/rancher/mirrored-library-busybox:1.31.1', ['rancher-grafana:6.11.0', 'rancher-monitoring:16.6.0', 'rancher-pushprox:0.1.400']],
        ['docker.io/library/registry:2', ['system']],
      ],
    );
  });

  it('reports lines with the wrong number of fields, an empty source list or a bad image, and keeps the rest', () => {
    const text = [
      'rancher/fleet:v0.3.5 fleet:0.3.500', // 1 ok
      'rancher/shell:v0.1.6', // 2: one field
      'rancher/rancher:v2.5.10 rancher extra', // 3: three fields
      'rancher/Bad:v1 core', // 4: bad image
      'rancher/webhook:v0.1.2 ,', // 5: no source
      'rancher/kubectl:v1.20.2 k3sUpgrade', // 6 ok
    ].join('\n');
    const { entries, problems } = parseImageSources(text, 'sources.txt');
    assert.deepEqual(
      entries.map((e) => e.ref.reference),
      ['rancher/fleet:v0.3.5', 'rancher/kubectl:v1.20.2'],
    );
    assert.deepEqual(
      problems.map((p) => [p.source, p.line]),
      [
        ['sources.txt', 2],
        ['sources.txt', 3],
        ['sources.txt', 4],
        ['sources.txt', 5],
      ],
    );
    assert.match(problems[0]!.message, /found 1 fields/);
    assert.match(problems[1]!.message, /found 3 fields/);
    assert.match(problems[2]!.message, /invalid repository name component/);
    assert.match(problems[3]!.message, /no source/);
  });
});

describe('parseMirrorList', () => {
  it('reads SOURCE DESTINATION TAG lines and reports malformed ones with their line', () => {
    const text = [
      '# LIST FORMAT: <SOURCE> <DESTINATION> <TAG>',
      'quay.io/calico/node rancher/mirrored-calico-node v3.26.1',
      'coredns/coredns rancher/coredns-coredns 1.10.1',
      'only-two fields',
      '',
    ].join('\n');
    const parsed = parseMirrorList(text, 'images-list');
    assert.deepEqual(parsed.entries.map((e) => e.destination), ['rancher/mirrored-calico-node', 'rancher/coredns-coredns']);
    assert.equal(parsed.problems.length, 1);
    assert.equal(parsed.problems[0]!.line, 4);
  });

  it('marks images of legacy unprefixed mirror destinations as mirrored', () => {
    const mirror = parseMirrorList('coredns/coredns rancher/coredns-coredns 1.10.1\n', 'images-list');
    const records = buildImageRecords({
      images: parseImageList('rancher/coredns-coredns:1.10.1\nrancher/fleet:v0.9.6\n', 'images.txt'),
      mirroredRepositories: new Set(mirror.entries.map((e) => e.destination)),
    });
    assert.deepEqual(records.map((r) => [r.image, r.mirrored]), [['rancher/coredns-coredns:1.10.1', true], ['rancher/fleet:v0.9.6', false]]);
  });
});

describe('buildImageRecords', () => {
  it('joins images, Windows images, sources and a mirror list into records', () => {
    const images = parseImageList(
      ['rancher/fleet:v0.3.5', 'rancher/mirrored-coredns-coredns:1.8.3', 'rancher/calico-node:v3.17.2', 'rancher/rancher-agent:v2.5.8', 'busybox'].join('\n'),
      'rancher-images.txt',
    );
    const windowsImages = parseImageList(['rancher/rancher-agent:v2.5.8', 'rancher/wmi_exporter-package:v0.0.7'].join('\n'), 'rancher-windows-images.txt');
    const sources = parseImageSources(
      [
        'rancher/fleet:v0.3.5 rancher,fleet:0.3.500',
        'rancher/mirrored-coredns-coredns:1.8.3 system',
        // The same image twice: the projects are merged.
        'rancher/fleet:v0.3.5 core',
        // Another spelling of busybox.
        'docker.io/library/busybox:latest core',
      ].join('\n'),
      'rancher-images-sources.txt',
    );
    const records = buildImageRecords({ images, windowsImages, sources, mirroredRepositories: new Set(['rancher/calico-node']) });

    assert.deepEqual(
      records.map((r) => r.image),
      ['rancher/fleet:v0.3.5', 'rancher/mirrored-coredns-coredns:1.8.3', 'rancher/calico-node:v3.17.2', 'rancher/rancher-agent:v2.5.8', 'busybox', 'rancher/wmi_exporter-package:v0.0.7'],
      'Linux images in list order, then Windows-only images',
    );
    const by = new Map(records.map((r) => [r.image, r]));
    assert.deepEqual(by.get('rancher/fleet:v0.3.5')!.projects, ['core', 'fleet:0.3.500', 'rancher'], 'projects are merged and sorted');
    assert.deepEqual(by.get('busybox')!.projects, ['core']);
    assert.deepEqual(by.get('rancher/calico-node:v3.17.2')!.projects, []);

    assert.deepEqual(
      records.map((r) => [r.image, r.mirrored, r.windows]),
      [
        ['rancher/fleet:v0.3.5', false, false],
        ['rancher/mirrored-coredns-coredns:1.8.3', true, false],
        ['rancher/calico-node:v3.17.2', true, false],
        ['rancher/rancher-agent:v2.5.8', false, true],
        ['busybox', false, false],
        ['rancher/wmi_exporter-package:v0.0.7', false, true],
      ],
    );
    const fleet = by.get('rancher/fleet:v0.3.5')!;
    assert.deepEqual([fleet.registry, fleet.repository, fleet.tag, fleet.canonical], ['docker.io', 'rancher/fleet', 'v0.3.5', 'docker.io/rancher/fleet:v0.3.5']);
  });

  it('works with only an image list', () => {
    const records = buildImageRecords({ images: parseImageList('rancher/fleet:v0.3.5\n', 'list') });
    assert.equal(records.length, 1);
    assert.deepEqual([records[0]!.windows, records[0]!.mirrored, records[0]!.projects], [false, false, []]);
  });
});

describe('real Rancher lists (../shared/fixtures/rancher)', () => {
  const read = (name: string) => readFileSync(join(RANCHER_FIXTURES, name), 'utf8');

  it('v2.5.10 rancher-images.txt: 192 images, 96 rancher/mirrored-*, no problems', (t) => {
    if (!existsSync(RANCHER_FIXTURES)) return t.skip(`shared Rancher fixtures not found at ${RANCHER_FIXTURES}`);
    const list = parseImageList(read('v2.5.10-rancher-images.txt'), 'v2.5.10-rancher-images.txt');
    assert.deepEqual(list.problems, []);
    assert.equal(list.entries.length, 192);
    const records = buildImageRecords({ images: list });
    assert.equal(records.filter((r) => r.mirrored).length, 96);
    assert.equal(new Set(records.map((r) => r.repository)).size, 139);
    assert.ok(records.every((r) => r.registry === 'docker.io'));
    t.diagnostic(`v2.5.10: ${list.entries.length} images, ${records.filter((r) => r.mirrored).length} mirrored`);
  });

  it('v2.8.6 Carbide list: 703 images, all on rgcrprod.azurecr.us', (t) => {
    if (!existsSync(RANCHER_FIXTURES)) return t.skip(`shared Rancher fixtures not found at ${RANCHER_FIXTURES}`);
    const list = parseImageList(read('v2.8.6-carbide-rancher-images.txt'), 'v2.8.6-carbide-rancher-images.txt');
    assert.deepEqual(list.problems, []);
    assert.equal(list.entries.length, 703);
    assert.ok(list.entries.every((e) => e.registry === 'rgcrprod.azurecr.us'));
    assert.equal(new Set(list.entries.map((e) => e.repository)).size, 202);
    const records = buildImageRecords({ images: list });
    assert.equal(records.filter((r) => r.mirrored).length, 290);
  });

  it('v2.5.10 sources: 192 entries, joined records carry projects', (t) => {
    if (!existsSync(RANCHER_FIXTURES)) return t.skip(`shared Rancher fixtures not found at ${RANCHER_FIXTURES}`);
    const images = parseImageList(read('v2.5.10-rancher-images.txt'), 'v2.5.10-rancher-images.txt');
    const sources = parseImageSources(read('v2.5.10-rancher-images-sources.txt'), 'v2.5.10-rancher-images-sources.txt');
    assert.deepEqual(sources.problems, []);
    assert.equal(sources.entries.length, 192);
    assert.equal(sources.entries.filter((e) => e.projects.length > 1).length, 17);
    assert.deepEqual(
      sources.entries.map((e) => e.ref.canonical),
      images.entries.map((e) => e.canonical),
      'the sources file lists the same images in the same order',
    );
    const records = buildImageRecords({ images, sources });
    assert.equal(records.length, 192);
    assert.ok(records.every((r) => r.projects.length > 0), 'every image has at least one project');
    const by = new Map(records.map((r) => [r.image, r]));
    assert.deepEqual(by.get('busybox')!.projects, ['core']);
    assert.deepEqual(by.get('registry:2')!.projects, ['system']);
    assert.deepEqual(by.get('rancher/mirrored-library-busybox:1.31.1')!.projects, ['rancher-grafana:6.11.0', 'rancher-monitoring:16.6.0', 'rancher-pushprox:0.1.400']);
    const tokens = records.flatMap((r) => r.projects);
    assert.equal(tokens.filter((p) => p.includes(':')).length, 135);
    assert.equal(tokens.filter((p) => p === 'system').length, 59);
  });

  it('v2.5.8-rc7 Windows list: 10 images, all windows when passed as windowsImages', (t) => {
    if (!existsSync(RANCHER_FIXTURES)) return t.skip(`shared Rancher fixtures not found at ${RANCHER_FIXTURES}`);
    const windowsImages = parseImageList(read('v2.5.8-rc7-rancher-windows-images.txt'), 'v2.5.8-rc7-rancher-windows-images.txt');
    assert.deepEqual(windowsImages.problems, []);
    assert.equal(windowsImages.entries.length, 10);
    const records = buildImageRecords({ images: { entries: [], problems: [] }, windowsImages });
    assert.equal(records.length, 10);
    assert.ok(records.every((r) => r.windows));
    assert.equal(records.filter((r) => r.mirrored).length, 0);
    assert.equal(new Set(records.map((r) => r.repository)).size, 7);
  });
});

describe('unmatchedSources', () => {
  it('names each sources line whose image is in no image list of the release', () => {
    const images = parseImageList('rancher/fleet:v0.9.6\n', 'rancher-images.txt');
    const sources = parseImageSources('rancher/fleet:v0.9.6 fleet:0.9\nrancher/ghost:v1 rancher\n', 'rancher-images-sources.txt');
    const problems = unmatchedSources({ images, sources }, 'rancher-images-sources.txt');
    assert.deepEqual(problems.map((p) => [p.source, p.line, p.text]), [['rancher-images-sources.txt', 2, 'rancher/ghost:v1']]);
    assert.match(formatListProblems(problems), /rancher-images-sources\.txt:2: rancher\/ghost:v1 is not in the release's image lists/);
  });
});
