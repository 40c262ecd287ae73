import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { cacheServerConfig, EMBEDDED_CACHE } from '../../cache/embedded-redis.js';
import { CRANE } from '../../client/crane-cli.js';
import { TRIVY_VERSION } from '../../client/trivy-cli.js';
import { ENV_VARIABLES } from '../../worker/config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Service {
  image?: string;
  build?: string | { context: string; target?: string };
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  secrets?: (string | { source: string; uid?: string; gid?: string; mode?: number })[];
  command?: string[] | string;
  healthcheck?: unknown;
  init?: boolean;
  stop_grace_period?: string;
}

const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown>; secrets: Record<string, unknown> };
const services = compose.services;

/** The scan worker's stage of the Dockerfile (its own lines, not the git-lists stage built on it). */
const workerStage = (dockerfile: string) => dockerfile.split(/^FROM /m).find((s) => / AS worker\n/.test(s)) ?? '';

describe('docker-compose.yml (parsed; no Docker engine runs here)', () => {
  it('has Temporal on PostgreSQL, schema and namespace setup, the Web UI and the workers', () => {
    assert.deepEqual(Object.keys(services).sort(), ['git-lists-worker', 'postgresql', 'scan-cache', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker']);
    assert.equal(services.temporal!.environment!.DB, 'postgres12');
    assert.equal(services.temporal!.depends_on!['temporal-schema']!.condition, 'service_completed_successfully');
    assert.equal(services['temporal-schema']!.depends_on!.postgresql!.condition, 'service_healthy');
    assert.ok(services.postgresql!.healthcheck && services.temporal!.healthcheck, 'health checks gate the start order');
    assert.equal(services.worker!.depends_on!['temporal-namespace']!.condition, 'service_completed_successfully');
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      assert.match(service.image ?? '', /^[\w./-]+:\d[\w.-]*$/, `${name} uses ${service.image}`);
    }
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    const stages = new Set([...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gm)].map((m) => m[1]));
    for (const from of dockerfile.matchAll(/^FROM\s+(\S+)/gm)) if (!stages.has(from[1])) assert.match(from[1]!, /:\d/, `Dockerfile FROM ${from[1]}`);
    assert.match(dockerfile, /node:20[\w.-]*-bookworm/, 'Node 20 on a glibc base');
  });

  it('publishes the gRPC port and the Web UI', () => {
    assert.ok(services.temporal!.ports!.some((p) => p.endsWith(':7233')));
    assert.ok(services['temporal-ui']!.ports!.some((p) => p.startsWith('8233:')));
  });

  it('gives the workers shared results, reports and Trivy cache volumes, and the token only as a secret', () => {
    const worker = services.worker!;
    const mounts = Object.fromEntries(worker.volumes!.map((v) => v.split(':') as [string, string]));
    for (const volume of ['results', 'reports', 'trivy-cache']) assert.ok(volume in compose.volumes && mounts[volume], `volume ${volume}`);
    const env = worker.environment!;
    assert.equal(env.IMAGE_SCANNING_DATA_DIR, mounts.results);
    assert.equal(env.IMAGE_SCANNING_REPORTS_DIR, mounts.reports);
    assert.equal(env.TRIVY_CACHE_DIR, mounts['trivy-cache']);
    assert.ok(!('GITHUB_TOKEN' in env), 'no token in the environment');
    assert.equal(env.GITHUB_TOKEN_FILE, '/run/secrets/github_token');
    assert.deepEqual(worker.secrets?.map((s) => (typeof s === 'string' ? s : s.source)), ['github_token', 'scan_cache_password']);
    assert.ok('github_token' in compose.secrets);
    // Copied in as the worker's own file: a bind-mounted one keeps the host's mode, and the
    // worker refuses a token file that every user can read (readGitHubToken).
    for (const name of ['github_token', 'scan_cache_password']) {
      assert.equal((compose.secrets[name] as { environment?: string }).environment !== undefined, true, `${name} comes from the environment`);
      const mount = worker.secrets!.find((s) => typeof s !== 'string' && s.source === name) as { uid?: string; mode?: number } | undefined;
      assert.equal(mount?.uid, '1000', `${name} belongs to the image's node user`);
      assert.equal(mount?.mode, 0o400, `${name} is readable by its owner only`);
    }
  });

  it('shares one scan cache between the workers: Redis with persistence and a password, as the embedded default runs it', () => {
    const cache = services['scan-cache']!;
    const worker = services.worker!;
    const command = (cache.command as string[]).join(' ');
    assert.match(command, /--appendonly yes/);
    assert.match(command, /--maxmemory-policy allkeys-lru/);
    assert.match(command, /requirepass/);
    assert.ok(!cache.ports, 'the cache is reached on the compose network only');
    assert.ok(cache.volumes!.some((v) => v.startsWith('scan-cache-data:/data')) && 'scan-cache-data' in compose.volumes, 'its data survives the container');
    assert.equal(worker.environment!.TRIVY_CACHE_BACKEND, 'redis://scan-cache:6379');
    assert.equal(worker.environment!.TRIVY_CACHE_PASSWORD_FILE, '/run/secrets/scan_cache_password');
    assert.equal(worker.depends_on!['scan-cache']!.condition, 'service_healthy');
    // The same settings the project gives its own redis-server.
    const embedded = cacheServerConfig({ dir: '/x', port: 1, password: 'p' });
    for (const setting of ['appendonly yes', 'appendfsync everysec', `maxmemory ${EMBEDDED_CACHE.maxMemory}`, 'maxmemory-policy allkeys-lru']) {
      assert.ok(embedded.includes(setting), `embedded: ${setting}`);
      assert.ok(command.includes(`--${setting}`), `compose: ${setting}`);
    }
    assert.equal((compose.secrets.scan_cache_password as { environment?: string }).environment, 'SCAN_CACHE_PASSWORD');
  });

  it('ships the Trivy the project builds', () => {
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    assert.match(dockerfile, new RegExp(`^FROM aquasec/trivy:${TRIVY_VERSION.replace(/\./g, '\\.')} AS trivy$`, 'm'));
    // Every folder the compiler is given, but the benchmarks: a missing one fails the image's build.
    const { include } = JSON.parse(readFileSync(`${ROOT}tsconfig.json`, 'utf8')) as { include: string[] };
    for (const folder of include.filter((f) => f !== 'bench')) assert.match(dockerfile, new RegExp(`^COPY ${folder} ${folder}$`, 'm'), `COPY ${folder}`);
  });

  it('ships the crane the project pins, where CRANE_BIN says: without it the worker would not start, or never re-match', () => {
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    assert.match(dockerfile, new RegExp(`GOBIN=/out go install ${CRANE.module.replace(/\./g, '\\.')}( |$)`, 'm'), `go install ${CRANE.module}`);
    const copied = /^COPY --from=go-tools \/out\/crane (\S+)$/m.exec(workerStage(dockerfile))?.[1];
    assert.equal(services.worker!.environment!.CRANE_BIN, copied);
    assert.equal(services.worker!.environment!.IMAGE_SCANNING_REMATCH, undefined, 're-matching is on by default');
  });

  it('has a git sources worker, behind the `heads` profile, with the tools Rancher\'s export script needs', () => {
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    const git = services['git-lists-worker']!;
    assert.deepEqual(git.profiles, ['heads'], 'started only on request');
    assert.deepEqual(git.build, { context: '.', target: 'git-lists' });
    assert.deepEqual(services.worker!.build, { context: '.', target: 'worker' }, 'the scan worker does not build the last stage');
    const stage = dockerfile.split(/^FROM /m).find((s) => s.startsWith('worker AS git-lists'));
    assert.ok(stage, 'a git-lists stage built on the worker');
    assert.match(stage, /apt-get install[^\n]*\bgit\b[^\n]*\bjq\b/);
    assert.match(stage, /COPY --from=go-tools \/usr\/local\/go \/usr\/local\/go/);
    assert.match(stage, /COPY --from=go-tools \/out\/yq /);
    assert.match(stage, /ENTRYPOINT \["node", "lib\/client\/cli\.js", "worker", "--git-lists"\]/);
    // The same yq CI builds for the tests of the git sources.
    const ciYq = /(github\.com\/mikefarah\/yq\/v4@v[\d.]+)/.exec(readFileSync(`${ROOT}.ci/run`, 'utf8'))?.[1];
    assert.ok(ciYq && dockerfile.includes(`go install ${ciYq}`), `yq pinned as in .ci/run (${ciYq})`);
    const env = git.environment!;
    assert.equal(env.IMAGE_SCANNING_GIT_TASK_QUEUE, 'image-scanning-git');
    assert.equal(env.IMAGE_SCANNING_STORE, services.worker!.environment!.IMAGE_SCANNING_STORE, 'its lists reach the scan workers through the shared store');
    assert.ok(git.volumes!.some((v) => v.startsWith('git-cache:/git-cache')) && 'git-cache' in compose.volumes, 'checkouts and Go caches survive the container');
    assert.match(stage, /GOCACHE=\/git-cache\/\S+ GOMODCACHE=\/git-cache\/\S+ IMAGE_SCANNING_GIT_CACHE_DIR=\/git-cache\//);
    assert.ok(!('GITHUB_TOKEN' in env) && !git.secrets, 'it needs no token');
    const known = new Set<string>([...ENV_VARIABLES, 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']);
    for (const key of Object.keys(env)) assert.ok(known.has(key), `${key} is not read by the worker`);
  });

  it('runs the worker under an init that reaps orphaned scans, with time to drain on SIGTERM', () => {
    assert.equal(services.worker!.init, true);
    assert.match(services.worker!.stop_grace_period ?? '', /^\d+m$/);
  });

  it("sets only variables the worker reads", () => {
    const known = new Set<string>([...ENV_VARIABLES, 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']);
    for (const key of Object.keys(services.worker!.environment!)) assert.ok(known.has(key), `${key} is not read by the worker`);
  });
});
