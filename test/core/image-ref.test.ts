import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidImageReferenceError, isRancherMirrored, parseImageRef } from '../../core/image-ref.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseImageRef', () => {
  it('defaults the registry to docker.io and keeps the repository path', () => {
    const ref = parseImageRef('rancher/fleet:v0.3.5');
    assert.equal(ref.registry, 'docker.io');
    assert.equal(ref.repository, 'rancher/fleet');
    assert.equal(ref.tag, 'v0.3.5');
    assert.equal(ref.digest, undefined);
    assert.equal(ref.canonical, 'docker.io/rancher/fleet:v0.3.5');
  });

  it('gives an untagged single-name image the library/ namespace and the latest tag', () => {
    const ref = parseImageRef('busybox');
    assert.equal(ref.registry, 'docker.io');
    assert.equal(ref.repository, 'busybox');
    assert.equal(ref.tag, undefined);
    assert.equal(ref.canonical, 'docker.io/library/busybox:latest');
    // Every spelling of the same image has the same canonical form.
    assert.equal(parseImageRef('docker.io/library/busybox:latest').canonical, ref.canonical);
    assert.equal(parseImageRef('library/busybox').canonical, ref.canonical);
    assert.equal(parseImageRef('registry:2').canonical, 'docker.io/library/registry:2');
  });

  it('trims surrounding whitespace and keeps the trimmed text as the reference', () => {
    const ref = parseImageRef('  rancher/shell:v0.1.6\t');
    assert.equal(ref.reference, 'rancher/shell:v0.1.6');
    assert.equal(ref.tag, 'v0.1.6');
  });

  it('recognises a registry host by a dot, a port or localhost', () => {
    const quay = parseImageRef('quay.io/calico/node:v3.26.1');
    assert.deepEqual([quay.registry, quay.repository, quay.tag], ['quay.io', 'calico/node', 'v3.26.1']);

    const carbide = parseImageRef('rgcrprod.azurecr.us/rancher/rancher:v2.8.6');
    assert.deepEqual([carbide.registry, carbide.repository], ['rgcrprod.azurecr.us', 'rancher/rancher']);
    assert.equal(carbide.canonical, 'rgcrprod.azurecr.us/rancher/rancher:v2.8.6');

    const local = parseImageRef('localhost/app:dev');
    assert.deepEqual([local.registry, local.repository], ['localhost', 'app']);

    const upper = parseImageRef('Registry.Example.COM/team/app:1');
    assert.equal(upper.registry, 'registry.example.com', 'host names are case-insensitive and lower-cased');
  });

  it('does not mistake a registry port for a tag', () => {
    const untagged = parseImageRef('localhost:5000/x');
    assert.equal(untagged.registry, 'localhost:5000');
    assert.equal(untagged.repository, 'x');
    assert.equal(untagged.tag, undefined);
    assert.equal(untagged.canonical, 'localhost:5000/x:latest');

    const tagged = parseImageRef('registry.example.com:5000/team/app:1.2');
    assert.equal(tagged.registry, 'registry.example.com:5000');
    assert.equal(tagged.repository, 'team/app');
    assert.equal(tagged.tag, '1.2');
  });

  it('treats a first component without dot, colon or localhost as part of a Docker Hub repository', () => {
    const ref = parseImageRef('rancher/mirrored-calico-node:v3.26.1');
    assert.equal(ref.registry, 'docker.io');
    assert.equal(ref.repository, 'rancher/mirrored-calico-node');
  });

  it('parses digests, with and without a tag', () => {
    const bare = parseImageRef(`rancher/fleet@${DIGEST}`);
    assert.equal(bare.digest, DIGEST);
    assert.equal(bare.tag, undefined);
    assert.equal(bare.canonical, `docker.io/rancher/fleet@${DIGEST}`, 'a digest reference does not get :latest');

    const both = parseImageRef(`quay.io:443/a/b:v1@${DIGEST}`);
    assert.equal(both.registry, 'quay.io:443');
    assert.equal(both.repository, 'a/b');
    assert.equal(both.tag, 'v1');
    assert.equal(both.digest, DIGEST);
    assert.equal(both.canonical, `quay.io:443/a/b:v1@${DIGEST}`);
  });

  it('accepts the separators the distribution grammar allows', () => {
    for (const text of ['a/b_c:1', 'a/b__c:1', 'a/b---c:1', 'a/b.c:1', 'a/b:1.0_rc-1', 'a/b:_x']) {
      assert.doesNotThrow(() => parseImageRef(text), text);
    }
  });

  const garbage: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['rancher/Fleet:v1', /invalid repository name component "Fleet"/],
    ['Busybox', /invalid repository name component/],
    ['rancher/fleet v1', /whitespace/],
    ['rancher/fleet:-v1', /invalid tag "-v1"/],
    ['rancher/fleet:', /invalid tag ""/],
    [`rancher/fleet:${'x'.repeat(129)}`, /invalid tag/],
    ['rancher/fleet:v1!', /invalid tag/],
    ['rancher//fleet', /invalid repository name component ""/],
    ['/fleet', /invalid repository name component ""/],
    ['rancher/fleet-:v1', /invalid repository name component "fleet-"/],
    ['rancher/fleet@sha256:abc', /invalid digest/],
    ['rancher/fleet@', /invalid digest/],
    ['bad_host.example.com/x', /invalid registry/],
    [':v1', /invalid repository name component ""/],
    [`a/${'b'.repeat(256)}`, /over 255 characters/],
  ];
  for (const [text, message] of garbage) {
    it(`rejects ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`, () => {
      assert.throws(
        () => parseImageRef(text),
        (error: unknown) => error instanceof InvalidImageReferenceError && error.name === 'InvalidImageReferenceError' && message.test(error.message),
      );
    });
  }
});

describe('isRancherMirrored', () => {
  it('is true only for rancher/mirrored-* repositories', () => {
    assert.equal(isRancherMirrored(parseImageRef('rancher/mirrored-coredns-coredns:1.8.3')), true);
    assert.equal(isRancherMirrored(parseImageRef('rgcrprod.azurecr.us/rancher/mirrored-pause:3.6')), true);
    assert.equal(isRancherMirrored(parseImageRef('rancher/fleet:v0.3.5')), false);
    assert.equal(isRancherMirrored(parseImageRef('rancher/coredns-coredns:1.8.3')), false);
    assert.equal(isRancherMirrored(parseImageRef('someone/rancher-mirrored-x:1')), false);
    assert.equal(isRancherMirrored(parseImageRef('other/mirrored-x:1')), false);
  });
});
