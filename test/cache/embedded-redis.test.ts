// The scan cache as the project runs it: Debian's redis-server, started on loopback with a
// password and persistence, and the health check every scan makes. Needs redis-server (CI
// installs Debian's); skipped with the reason otherwise, unless IMAGE_SCANNING_E2E=required.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findRedisServer, startCacheServer } from '../../cache/embedded-redis.js';
import { CacheServiceError, checkCacheService, parseRedisUrl, redisCommands } from '../../cache/redis-protocol.js';
import { freePort } from '../../host/ports.js';
import { ConfigError, configuredCacheBackend, loadEnvConfig } from '../../worker/config.js';
import { tempDir } from '../helpers/harness.js';

const server = await findRedisServer({ install: false }).catch((error: Error) => error);
const skip = server instanceof Error ? `cache service tests skipped: ${server.message}` : false;
if (skip && process.env.IMAGE_SCANNING_E2E === 'required') throw new Error(`IMAGE_SCANNING_E2E=required, but ${skip}`);

describe('the embedded scan cache (redis-server)', { skip }, () => {
  it('listens on loopback only, wants its password, keeps the password off the command line, and keeps its data across a restart', async (t) => {
    const dir = join(await tempDir('image-scanning-cache-'), 'redis');
    const port = await freePort();
    const first = await startCacheServer({ server: server as string, dir, port });
    t.after(() => first.stop());
    await checkCacheService(first.url);

    const config = readFileSync(join(dir, 'redis.conf'), 'utf8');
    assert.match(config, /^bind 127\.0\.0\.1$/m);
    assert.match(config, /^appendonly yes$/m);
    assert.equal(statSync(join(dir, 'redis.conf')).mode & 0o077, 0, 'the config holds the password: owner only');
    assert.equal(statSync(join(dir, 'password')).mode & 0o077, 0);
    const password = parseRedisUrl(first.url).password!;
    assert.ok(password.length >= 32);
    assert.ok(!readFileSync(`/proc/${first.pid}/cmdline`, 'utf8').includes(password), 'no password in argv');

    // Without the password, or with another, the server refuses, and the check says so.
    await assert.rejects(checkCacheService(`redis://127.0.0.1:${port}`), (e: Error) => e instanceof CacheServiceError && /does not answer|refused the credentials/.test(e.message));
    await assert.rejects(checkCacheService(`redis://:nope@127.0.0.1:${port}`), /refused the credentials/);
    assert.deepEqual(await redisCommands({ host: '127.0.0.1', port }, [['GET', 'x']]), ['-NOAUTH Authentication required.']);

    // What Trivy stored last week is there this week.
    assert.deepEqual(await redisCommands(parseRedisUrl(first.url), [['SET', 'fanal::blob::sha256:1', '{"SchemaVersion":2}']]), ['+OK']);
    await first.stop();
    await assert.rejects(checkCacheService(first.url), /does not answer \(ECONNREFUSED\)/);
    const second = await startCacheServer({ server: server as string, dir, port });
    t.after(() => second.stop());
    assert.equal(second.url, first.url, 'the same password after a restart');
    assert.deepEqual(await redisCommands(parseRedisUrl(second.url), [['GET', 'fanal::blob::sha256:1']]), ['{"SchemaVersion":2}']);
  });
});

describe('the cache health check', () => {
  it('gives up on a cache that takes the connection but never answers, within its timeout, naming the cache', async (t) => {
    // A Redis stuck behind a full disk or a SIGSTOP: it accepts, then says nothing.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    await assert.rejects(checkCacheService(`redis://:pw@127.0.0.1:${port}`, 800), (e: Error) => e instanceof CacheServiceError && /redis:\/\/\*\*\*\*@127\.0\.0\.1:\d+ does not answer \(no answer within 800 ms\)/.test(e.message));
    const waited = Date.now() - started;
    assert.ok(waited >= 700 && waited < 3000, `waited ${waited} ms`);
  });
});

describe('TRIVY_CACHE_BACKEND', () => {
  it('takes redis:// or memory, and refuses fs with the reason', () => {
    assert.equal(configuredCacheBackend(loadEnvConfig({ TRIVY_CACHE_BACKEND: 'redis://cache:6379' })), 'redis://cache:6379');
    assert.equal(configuredCacheBackend(loadEnvConfig({ TRIVY_CACHE_BACKEND: 'memory' })), 'memory');
    assert.equal(configuredCacheBackend(loadEnvConfig({})), undefined, 'unset: the embedded cache');
    assert.throws(() => loadEnvConfig({ TRIVY_CACHE_BACKEND: 'fs' }), (e: Error) => e instanceof ConfigError && /TRIVY_CACHE_BACKEND: .*fs is refused: its file lock/.test(e.message));
  });

  it('puts the password of TRIVY_CACHE_PASSWORD_FILE into the URL, and refuses a file everyone can read', async () => {
    const dir = await tempDir('image-scanning-cache-config-');
    const file = join(dir, 'cache-password');
    await writeFile(file, 'p@ss/word\n', { mode: 0o600 });
    const url = configuredCacheBackend(loadEnvConfig({ TRIVY_CACHE_BACKEND: 'redis://cache:6379', TRIVY_CACHE_PASSWORD_FILE: file }));
    assert.equal(parseRedisUrl(url!).password, 'p@ss/word');
    assert.equal(parseRedisUrl(url!).host, 'cache');
    await writeFile(join(dir, 'open'), 'x', { mode: 0o644 });
    assert.throws(() => configuredCacheBackend(loadEnvConfig({ TRIVY_CACHE_BACKEND: 'redis://cache:6379', TRIVY_CACHE_PASSWORD_FILE: join(dir, 'open') })), /readable by every user/);
    assert.throws(() => configuredCacheBackend(loadEnvConfig({ TRIVY_CACHE_BACKEND: 'redis://:a@cache:6379', TRIVY_CACHE_PASSWORD_FILE: file })), /keep one/);
  });
});
