// One contract, two stores: the folder (the embedded default) and PostgreSQL (shared by workers
// on any host), the latter on a real PostgreSQL server started here from the machine's binaries
// (skipped with the reason when there are none, unless IMAGE_SCANNING_E2E=required).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { utimes, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { maskPostgresUrl, PostgresResultStore, ResultStoreUnavailableError } from '../../../activities/store/postgres-result-store.js';
import { FolderResultStore, storeKeys, withinRun, type ResultStore } from '../../../activities/store/result-store.js';
import { readSbom, sbomKeys, touchSbom, writeSbom } from '../../../activities/store/sbom-store.js';
import { ensureRole, initPostgres, startPostgres, stopPostgres, type PostgresInstance } from '../../../cluster/postgres.js';
import { freePort } from '../../../host/ports.js';
import { tempDir } from '../../helpers/harness.js';
import { postgresAvailable } from '../../helpers/postgres.js';

const DAY = 24 * 3600 * 1000;

async function text(stream: Readable | undefined): Promise<string | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

interface StoreUnderTest {
  store: ResultStore;
  /** Makes a run's entries look `days` old. */
  age(runKey: string, days: number): Promise<void>;
  /** Makes one entry look `days` old. */
  ageKey(key: string, days: number): Promise<void>;
}

function contract(name: string, make: () => Promise<StoreUnderTest>, options: { skip?: string | false } = {}) {
  describe(`result store contract: ${name}`, { skip: options.skip }, () => {
    let s: StoreUnderTest;
    before(async () => {
      s = await make();
    });
    after(async () => {
      await s?.store.close?.();
    });

    it('reads what was written, and nothing for a key never written', async () => {
      const key = storeKeys.result('run-1', 'docker.io/rancher/fleet:v0.11.2');
      await s.store.writeJson(key, { image: 'rancher/fleet:v0.11.2', findings: [{ id: 'CVE-1' }] });
      assert.deepEqual(await s.store.readJson(key), { image: 'rancher/fleet:v0.11.2', findings: [{ id: 'CVE-1' }] });
      assert.equal(await s.store.readJson(storeKeys.result('run-1', 'docker.io/rancher/none:v1')), undefined);
    });

    it('replaces a value written again (a retried scan), also when the writes race', async () => {
      const key = storeKeys.result('run-2', 'docker.io/rancher/shell:v0.2.1');
      await Promise.all(Array.from({ length: 12 }, (_, i) => s.store.writeJson(key, { attempt: i })));
      const value = await s.store.readJson<{ attempt: number }>(key);
      assert.ok(value && value.attempt >= 0 && value.attempt < 12, JSON.stringify(value));
      await s.store.writeJson(key, { attempt: 'last' });
      assert.deepEqual(await s.store.readJson(key), { attempt: 'last' });
      assert.deepEqual(await s.store.list(`${storeKeys.run('run-2')}/results`), [key.split('/').pop()], 'one entry for the image');
    });

    it('keeps large values intact (1 MB of findings, text that does not compress, non-ASCII)', async () => {
      const key = storeKeys.result('run-3', 'docker.io/rancher/rancher:v2.10.1');
      const findings = Array.from({ length: 4000 }, (_, i) => ({ id: `CVE-2024-${i}`, title: `Überlauf ${i} — ${randomBytes(64).toString('base64')}` }));
      await s.store.writeJson(key, { findings });
      assert.deepEqual(await s.store.readJson(key), { findings });
    });

    it('stores a file of several parts and gives it back as a stream, replaced whole by a shorter one', async () => {
      const dir = await tempDir('image-scanning-file-');
      const key = storeKeys.reportRows('run-5', 'v2.9.0');
      // Over 2 MiB of text that compresses badly, with multi-byte characters across part boundaries.
      const long = Array.from({ length: 40_000 }, (_, i) => `rancher/ümage-${i},${randomBytes(48).toString('base64')}\n`).join('');
      assert.ok(Buffer.byteLength(long) > 2 * 1024 * 1024);
      await writeFile(join(dir, 'long.csv'), long);
      await s.store.writeFile(key, join(dir, 'long.csv'));
      assert.equal(await text(await s.store.openFile(key)), long);
      await writeFile(join(dir, 'short.csv'), 'image\nrancher/short:v1\n');
      await s.store.writeFile(key, join(dir, 'short.csv'));
      assert.equal(await text(await s.store.openFile(key)), 'image\nrancher/short:v1\n');
      assert.equal(await s.store.openFile(storeKeys.reportRows('run-5', 'v0.0.0')), undefined);
      const inRun = withinRun(s.store, 'run-5');
      assert.equal(await text(await inRun.openFile(key.replace(`${storeKeys.run('run-5')}/`, ''))), 'image\nrancher/short:v1\n', 'seen from inside the run');
    });

    it('lists the names one level down, sorted, and sees a run from inside its folder', async () => {
      await s.store.writeJson(storeKeys.latestReport('v2.9.0'), { release: 'v2.9.0' });
      await s.store.writeJson(storeKeys.latestReport('v2.10.1'), { release: 'v2.10.1' });
      const names = await s.store.list('releases');
      assert.equal(names.length, 2);
      assert.deepEqual(names, [...names].sort());
      assert.deepEqual(await s.store.readJson(`releases/${names[0]}/latest-report.json`), { release: names[0]!.startsWith('v2.10') ? 'v2.10.1' : 'v2.9.0' });
      assert.deepEqual(await s.store.list('nothing-here'), []);
      const inRun = withinRun(s.store, 'run-4');
      await inRun.writeJson('releases/x/images.json', [1, 2]);
      assert.deepEqual(await s.store.readJson(storeKeys.images('run-4', 'x').replace(/releases\/[^/]+\//, 'releases/x/')), [1, 2]);
    });

    it('prunes runs older than the retention window and keeps the rest, and what no run owns', async () => {
      await s.store.writeJson(storeKeys.result('run-old', 'docker.io/a:1'), { old: true });
      await s.store.writeJson(storeKeys.result('run-new', 'docker.io/a:1'), { old: false });
      await s.age('run-old', 120);
      const removed = await s.store.prune(90);
      assert.ok(removed >= 1, `removed ${removed}`);
      assert.equal(await s.store.readJson(storeKeys.result('run-old', 'docker.io/a:1')), undefined);
      assert.deepEqual(await s.store.readJson(storeKeys.result('run-new', 'docker.io/a:1')), { old: false });
      assert.equal((await s.store.list('releases')).length, 2, 'the newest reports outlive every run');
      assert.equal(await s.store.prune(90, Date.now() + 1 * DAY), 0, 'nothing else is that old');
    });

    it('prunes SBOMs of digests no run has seen for the retention period, and keeps those seen since', async () => {
      const sbom = (digest: string, trivyVersion = '0.74.0') => ({ digest, trivyVersion, image: 'docker.io/a:1', madeAt: new Date().toISOString(), verified: false, sbom: null });
      const unseen = `sha256:${'1'.repeat(64)}`;
      const seen = `sha256:${'2'.repeat(64)}`;
      const recent = `sha256:${'3'.repeat(64)}`;
      const oldVersion = `sha256:${'4'.repeat(64)}`;
      for (const d of [unseen, seen, recent]) await writeSbom(s.store, sbom(d));
      await writeSbom(s.store, sbom(oldVersion, '0.50.0'));
      await s.store.writeJson(storeKeys.result('run-kept', 'docker.io/a:1'), { kept: true });
      for (const d of [unseen, seen]) await s.ageKey(sbomKeys.sbom(d, '0.74.0'), 120);
      await s.ageKey(sbomKeys.sbom(oldVersion, '0.50.0'), 120);
      // A run resolved `seen` again (scan-by-path touches the SBOM it finds): its retention starts again.
      await touchSbom(s.store, seen, '0.74.0');
      await touchSbom(s.store, `sha256:${'5'.repeat(64)}`, '0.74.0');
      const removed = await s.store.prune(90);
      assert.equal(removed, 2, 'the unseen SBOM and the one of a Trivy version no longer used');
      assert.deepEqual(await readSbom(s.store, unseen, '0.74.0'), {});
      assert.deepEqual(await readSbom(s.store, oldVersion, '0.50.0'), {});
      assert.equal((await readSbom(s.store, seen, '0.74.0')).stored?.digest, seen);
      assert.equal((await readSbom(s.store, recent, '0.74.0')).stored?.digest, recent);
      assert.deepEqual(await s.store.readJson(storeKeys.result('run-kept', 'docker.io/a:1')), { kept: true }, 'runs within the period are kept');
      assert.equal(await s.store.readJson(sbomKeys.sbom(`sha256:${'5'.repeat(64)}`, '0.74.0')), undefined, 'touching an absent SBOM writes nothing');
    });
  });
}

contract('folder', async () => {
  const root = await tempDir('image-scanning-store-');
  return {
    store: new FolderResultStore(root),
    age: async (runKey, days) => {
      const then = new Date(Date.now() - days * DAY);
      await utimes(join(root, storeKeys.run(runKey)), then, then);
    },
    ageKey: async (key, days) => {
      const then = new Date(Date.now() - days * DAY);
      await utimes(join(root, key), then, then);
    },
  };
});

const pgSkip = await postgresAvailable();
if (pgSkip && process.env.IMAGE_SCANNING_E2E === 'required') throw new Error(`IMAGE_SCANNING_E2E=required, but ${pgSkip}`);
let instance: PostgresInstance | undefined;
after(async () => {
  if (instance) await stopPostgres(instance, 'fast');
});

contract(
  'PostgreSQL',
  async () => {
    const dir = await tempDir('image-scanning-pg-');
    instance = { dataDir: join(dir, 'pgdata'), port: await freePort(), superPassword: randomBytes(12).toString('hex') };
    await initPostgres(instance);
    await startPostgres(instance);
    const password = randomBytes(12).toString('hex');
    await ensureRole(instance, 'image_scanning', password, ['image_scanning']);
    const url = `postgres://image_scanning:${password}@127.0.0.1:${instance.port}/image_scanning`;
    return {
      store: new PostgresResultStore(url),
      age: async (runKey, days) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`UPDATE scan_store SET written_at = written_at - make_interval(days => $2) WHERE key LIKE $1`, [`${storeKeys.run(runKey)}/%`, days]);
        await client.end();
      },
      ageKey: async (key, days) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`UPDATE scan_store SET written_at = written_at - make_interval(days => $2) WHERE key = $1`, [key, days]);
        await client.end();
      },
    };
  },
  { skip: pgSkip },
);

describe('the PostgreSQL store when the database is not there', () => {
  it('fails with an error naming the store, not its password', async () => {
    const port = await freePort();
    const store = new PostgresResultStore(`postgres://image_scanning:top-secret@127.0.0.1:${port}/image_scanning`);
    try {
      await assert.rejects(store.readJson('runs/x/y.json'), (error: Error) => {
        assert.ok(error instanceof ResultStoreUnavailableError);
        assert.match(error.message, new RegExp(`postgres://image_scanning:\\*\\*\\*\\*@127\\.0\\.0\\.1:${port}/image_scanning failed \\(ECONNREFUSED\\)`));
        assert.doesNotMatch(error.message, /top-secret/);
        return true;
      });
    } finally {
      await store.close();
    }
    assert.equal(maskPostgresUrl('postgres://u:p@h:1/d'), 'postgres://u:****@h:1/d');
  });
});
