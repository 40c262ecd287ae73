// docker-compose.yml and `image-scanning cluster up` describe one deployment; nothing starts
// Docker here, so this keeps the two in step: the same server, UI and tool versions, the same
// dynamic config, the same environment for the workers, the same cache settings.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { TEMPORAL_SERVER_VERSION, UI_SERVER_VERSION } from '../../cluster/binaries.js';
import { workerEnvironment } from '../../cluster/cluster.js';
import { DYNAMIC_CONFIG, MAX_FRONTEND_PORT, SERVER_CONFIG_DIR, type ClusterState } from '../../cluster/state.js';
import { tempDir } from '../helpers/harness.js';
import { CLI } from '../helpers/processes.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8')) as {
  services: Record<string, { image?: string; environment?: Record<string, string>; volumes?: string[] }>;
};
const s = compose.services;
const state: ClusterState = { frontendPort: 17233, workers: 3, passwords: { postgres: 'a', temporal: 'b', store: 'c', cache: 'd' } };

describe('`cluster up --port`', () => {
  it('refuses a port whose membership ports do not fit the server\'s smallint column, before starting anything', async () => {
    const dir = await tempDir('image-scanning-cluster-port-');
    const up = promisify(execFile)(process.execPath, [CLI, 'cluster', 'up', '--port', String(MAX_FRONTEND_PORT + 1)], { env: { ...process.env, IMAGE_SCANNING_CLUSTER_DIR: join(dir, 'c') } });
    await assert.rejects(up, (e: { code?: number; stderr?: string }) => e.code === 2 && /give a port up to 32664/.test(e.stderr ?? ''));
    assert.ok(!existsSync(join(dir, 'c')), 'nothing was created');
  });
});

describe('docker-compose.yml and `cluster up` in step', () => {
  it('run the same Temporal server, admin tools and UI server versions', () => {
    assert.equal(s.temporal!.image, `temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    assert.match(s['temporal-schema']!.image!, new RegExp(`^temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.replace(/\./g, '\\.')}-`));
    assert.match(s['temporal-namespace']!.image!, new RegExp(`^temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.replace(/\./g, '\\.')}-`));
    assert.equal(s['temporal-ui']!.image, `temporalio/ui:${UI_SERVER_VERSION}`);
  });

  it('give the server the same dynamic config file', () => {
    const mount = s.temporal!.volumes!.find((v) => v.includes('dynamicconfig'))!;
    assert.equal(`${ROOT}${mount.split(':')[0]!.replace(/^\.\//, '')}`, DYNAMIC_CONFIG.replace(/\/production-sql\.yaml$/, ''));
    assert.equal(s.temporal!.environment!.DYNAMIC_CONFIG_FILE_PATH!.split('/').pop(), DYNAMIC_CONFIG.split('/').pop());
    const config = readFileSync(`${SERVER_CONFIG_DIR}/cluster.yaml`, 'utf8');
    assert.match(config, /pluginName: postgres12/, 'PostgreSQL 12+ plugin, as compose (DB=postgres12)');
    assert.equal(s.temporal!.environment!.DB, 'postgres12');
    assert.match(config, /numHistoryShards: 4/);
  });

  it('give the workers the same environment variables', () => {
    const cluster = Object.keys(workerEnvironment('/c', state, 1, { trivy: '/usr/local/bin/trivy', crane: '/usr/local/bin/crane' })).sort();
    const composed = Object.keys(s.worker!.environment!).sort();
    assert.deepEqual(cluster, composed);
    const env = workerEnvironment('/c', state, 1, { trivy: 'trivy' });
    assert.match(env.IMAGE_SCANNING_STORE!, /^postgres:\/\/image_scanning:c@127\.0\.0\.1:17533\/image_scanning$/);
    assert.match(s.worker!.environment!.IMAGE_SCANNING_STORE!, /^postgres:\/\/[^@]+@postgresql:5432\/image_scanning$/);
    assert.equal(env.TRIVY_CACHE_BACKEND, 'redis://127.0.0.1:17534', 'the password comes from the secret file, as in compose');
    assert.equal(s.worker!.environment!.TRIVY_CACHE_BACKEND, 'redis://scan-cache:6379');
    assert.match(env.IMAGE_SCANNING_METRICS_ADDRESS!, /^127\.0\.0\.1:17634$/);
    assert.match(s.worker!.environment!.IMAGE_SCANNING_METRICS_ADDRESS!, /:9464$/);
  });
});
