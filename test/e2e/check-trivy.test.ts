// `image-scanning check IMAGE` end to end with the real Trivy, the sample images and the
// vulnerability DB built here: reports written by the real activities and a person's edits,
// then one image checked as still present, fixed (a DB without the advisory) and new (a DB
// with one more), with exit codes. Needs what test/e2e/real-trivy.test.ts needs; skipped the same way without it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ImageCheck } from '../../core/image-check.js';
import { PROJECT_ROOT } from '../../host/paths.js';
import { Harness } from '../helpers/harness.js';
import { checkCli, editReleaseCsv, scanReleasesNow } from '../helpers/release-runs.js';
import { copySampleCache, locateSample, SAMPLE_IMAGES, startSampleRegistry, type SampleRegistry } from './offline-sample.js';

const sample = await locateSample();
const skip = 'missing' in sample ? `check end-to-end test skipped: ${sample.missing}` : false;
if (skip && process.env.IMAGE_SCANNING_E2E === 'required') throw new Error(`IMAGE_SCANNING_E2E=required, but ${skip}`);

const RELEASES = ['e2e-head', 'e2e-tag'];

/** A sample DB built from the fixture advisories changed by `change`. */
async function changedDb(dir: string, name: string, change: (a: { advisories: Record<string, Record<string, Record<string, unknown>>>; vulnerabilities: Record<string, unknown> }) => void): Promise<string> {
  const advisories = JSON.parse(await readFile(join(PROJECT_ROOT, 'test', 'fixtures', 'e2e', 'advisories.json'), 'utf8')) as Parameters<typeof change>[0];
  change(advisories);
  const file = join(dir, `advisories-${name}.json`);
  await writeFile(file, JSON.stringify(advisories));
  const cacheDir = join(dir, `trivy-cache-${name}`);
  await promisify(execFile)(join(PROJECT_ROOT, '.tools', 'bin', 'fixture-db'), ['-advisories', file, '-cache-dir', cacheDir]);
  return cacheDir;
}

describe('image-scanning check IMAGE with the real Trivy and sample images', { skip }, () => {
  const trivy = 'trivy' in sample ? sample.trivy : '';
  let registry: SampleRegistry;
  let h: Harness;
  let cacheDir: string;
  let alpine: string;

  before(async () => {
    registry = await startSampleRegistry();
    h = await Harness.create('image-scanning-e2e-check-');
    cacheDir = await copySampleCache(join(h.dir, 'trivy-cache'));
    alpine = registry.ref(SAMPLE_IMAGES.alpine);
    const deps = h.deps({ bin: trivy, cacheDir, timeoutSeconds: 120 });
    const list = await h.writeList('images.txt', [alpine, registry.ref(SAMPLE_IMAGES.goApp)]);
    await scanReleasesNow(deps, 'run-1', RELEASES, list);
    // CVE-2099-1001 (libcrypto3, libssl3) ignored with a justification in both releases; zlib's CVE-2099-1002 waiting in the head.
    for (const release of RELEASES) await editReleaseCsv(h.reportsDir, release, alpine, 'CVE-2099-1001', 'ignore', `not reachable (${release})`);
    await editReleaseCsv(h.reportsDir, 'e2e-head', alpine, 'CVE-2099-1002', 'waiting', 'zlib 1.3.1 in the next base image');
    await scanReleasesNow(deps, 'run-2', RELEASES, list);
  });

  after(async () => {
    await registry?.stop();
  });

  const check = (db: string, ...args: string[]) =>
    checkCli(args, { IMAGE_SCANNING_DATA_DIR: join(h.dir, 'data'), TRIVY_BIN: trivy, TRIVY_CACHE_DIR: db, TRIVY_CACHE_BACKEND: 'memory', IMAGE_SCANNING_REMATCH: 'false', TRIVY_TIMEOUT: '120' });

  it('still present: the CRITICAL zlib CVE people set to waiting remains, exit 3; the ignored one is shown as ignored', async () => {
    const { code, stdout, stderr } = await check(cacheDir, alpine);
    assert.equal(code, 3, stdout + stderr);
    assert.match(stdout, /3 still present, 0 fixed, 0 new/);
    const line = (pkg: string) => stdout.split('\n').find((l) => l.includes(` ${pkg} `)) ?? '';
    assert.match(line('zlib'), /still present +CRITICAL CVE-2099-1002 zlib 1\.3-r2 \(fixed in 1\.3\.1-r0\) \| e2e-head: waiting "zlib 1\.3\.1 in the next base image"; e2e-tag: triaged/);
    assert.match(line('libssl3'), /\[ignored in every release\] \| e2e-head: ignore "not reachable \(e2e-head\)"; e2e-tag: ignore "not reachable \(e2e-tag\)"/);
  });

  it('fixed: with a DB without the zlib advisory only ignored CVEs remain, exit 0; --json says the same', async () => {
    const db = await changedDb(h.dir, 'no-zlib', (a) => {
      delete a.advisories['alpine 3.19']!.zlib;
    });
    const { code, stdout, stderr } = await check(db, '--json', alpine);
    assert.equal(code, 0, stdout + stderr);
    const doc = JSON.parse(stdout) as ImageCheck & { exitCode: number };
    assert.equal(doc.exitCode, 0);
    assert.deepEqual(doc.cves.map((c) => [c.status, c.vulnerabilityId, c.packageName, c.ignored]), [
      ['still present', 'CVE-2099-1001', 'libcrypto3', true],
      ['still present', 'CVE-2099-1001', 'libssl3', true],
      ['fixed', 'CVE-2099-1002', 'zlib', false],
    ]);
  });

  it('new: a DB with one more zlib advisory gives a new CVE, exit 3', async () => {
    const db = await changedDb(h.dir, 'more', (a) => {
      a.advisories['alpine 3.19']!.zlib!['CVE-2099-1009'] = { FixedVersion: '1.3.2-r0' };
      a.vulnerabilities['CVE-2099-1009'] = { Title: 'zlib: added for check', Description: 'new', Severity: 'HIGH', VendorSeverity: { alpine: 3 }, PublishedDate: '2099-02-01T00:00:00Z' };
    });
    const { code, stdout } = await check(db, alpine);
    assert.equal(code, 3, stdout);
    assert.match(stdout.split('\n').find((l) => l.includes('CVE-2099-1009')) ?? '', /^ {2}new +HIGH +CVE-2099-1009 zlib/);
    assert.match(stdout, /3 still present, 0 fixed, 1 new/);
  });

  it('an image the registry does not have: the scan fails, exit 1', async () => {
    const { code, stdout } = await check(cacheDir, registry.ref(SAMPLE_IMAGES.missing));
    assert.equal(code, 1, stdout);
    assert.match(stdout, /the scan failed: ImageNotFound/);
  });
});
