import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkVexSources, ConfigError, loadEnvConfig, loadFileConfig, readGitHubToken, runInputFrom } from '../../worker/config.js';
import { tempDir } from '../helpers/harness.js';

async function configFile(content: unknown): Promise<string> {
  const dir = await tempDir('config-');
  const path = join(dir, 'image-scanning.json');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const rejectsWith = (promise: Promise<unknown>, pattern: RegExp) =>
  assert.rejects(promise, (e: unknown) => e instanceof ConfigError && pattern.test((e as Error).message));

describe('configuration file', () => {
  it('resolves list paths against the file and keeps URLs', async () => {
    const path = await configFile({ releases: [{ name: 'v2.9.0', images: 'lists/images.txt', sources: 'https://example.com/s.txt' }], mirrorList: 'mirror.txt' });
    const config = await loadFileConfig(path);
    assert.equal(config.releases[0]!.images, join(path, '..', 'lists/images.txt'));
    assert.equal(config.releases[0]!.sources, 'https://example.com/s.txt');
    assert.equal(config.mirrorList, join(path, '..', 'mirror.txt'));
  });

  it('refuses an unknown key and names it', async () => {
    await rejectsWith(loadFileConfig(await configFile({ releases: [{ name: 'v1' }], maxConcurrentScan: 4 })), /image-scanning\.json: .*maxConcurrentScan/);
    await rejectsWith(loadFileConfig(await configFile({ releases: [{ name: 'v1', image: 'x.txt' }] })), /releases\.0.*image/);
  });

  it('refuses a wrong type and names the field', async () => {
    await rejectsWith(loadFileConfig(await configFile({ releases: [{ name: 'v1' }], maxConcurrentScans: 'eight' })), /maxConcurrentScans/);
    await rejectsWith(loadFileConfig(await configFile({ releases: [] })), /releases/);
    await rejectsWith(loadFileConfig(await configFile({ releases: [{ name: 'v1 with spaces' }] })), /releases\.0\.name/);
  });

  it('names the file when it is not JSON or does not exist', async () => {
    await rejectsWith(loadFileConfig(await configFile('{ "releases": [')), /image-scanning\.json is not valid JSON/);
    await rejectsWith(loadFileConfig('/nonexistent/image-scanning.json'), /\/nonexistent\/image-scanning\.json cannot be read/);
  });

  it('reads the two-line successor config (a git head, a tag with issues off), resolving git.kdm, and carries IMAGE_SCANNING_GIT_TASK_QUEUE into the run', async (t) => {
    const path = await configFile({
      releases: [
        { name: 'v2.13-head', git: { repository: 'https://github.com/rancher/rancher', ref: 'release/v2.13', kdm: 'kdm/data.json', mirror: 'https://git.example/' } },
        { name: 'v2.13.0', issues: false },
      ],
    });
    const saved = process.env.IMAGE_SCANNING_GIT_TASK_QUEUE;
    t.after(() => {
      if (saved === undefined) delete process.env.IMAGE_SCANNING_GIT_TASK_QUEUE;
      else process.env.IMAGE_SCANNING_GIT_TASK_QUEUE = saved;
    });
    delete process.env.IMAGE_SCANNING_GIT_TASK_QUEUE;
    const plain = await runInputFrom({ config: path });
    assert.equal(plain.gitTaskQueue, undefined);
    assert.equal(plain.releases[0]!.git?.kdm, join(path, '..', 'kdm/data.json'));
    assert.equal(plain.releases[1]!.issues, false);
    process.env.IMAGE_SCANNING_GIT_TASK_QUEUE = 'image-scanning-go';
    assert.equal((await runInputFrom({ config: path })).gitTaskQueue, 'image-scanning-go');
    await rejectsWith(loadFileConfig(await configFile({ releases: [{ name: 'h', git: { ref: 'main' } }] })), /releases\.0\.git\.repository/);
  });

  it('picks one release of the file with --release, and refuses a release it does not list', async () => {
    const path = await configFile({ releases: [{ name: 'v1' }, { name: 'v2' }] });
    assert.deepEqual((await runInputFrom({ config: path, release: 'v2' })).releases.map((r) => r.name), ['v2']);
    await rejectsWith(runInputFrom({ config: path, release: 'v3' }), /release v3 is not in/);
    await rejectsWith(runInputFrom({}), /--release NAME/);
  });
});

describe('environment', () => {
  it('applies defaults and treats empty strings as unset', () => {
    const config = loadEnvConfig({ TRIVY_TIMEOUT: '', TRIVY_SEVERITIES: 'critical, high' });
    assert.equal(config.TRIVY_TIMEOUT, 600);
    assert.deepEqual(config.TRIVY_SEVERITIES, ['CRITICAL', 'HIGH']);
    assert.equal(config.TEMPORAL_TASK_QUEUE, 'image-scanning');
  });

  it('names the variable with a wrong value', () => {
    assert.throws(() => loadEnvConfig({ TRIVY_TIMEOUT: 'soon' }), (e: unknown) => e instanceof ConfigError && /TRIVY_TIMEOUT/.test((e as Error).message));
    assert.throws(() => loadEnvConfig({ TRIVY_SEVERITIES: 'HIGH,SEVERE' }), (e: unknown) => e instanceof ConfigError && /TRIVY_SEVERITIES/.test((e as Error).message));
    assert.throws(() => loadEnvConfig({ GITHUB_REPOSITORY: 'not-a-repo' }), (e: unknown) => e instanceof ConfigError && /GITHUB_REPOSITORY/.test((e as Error).message));
  });

  it('never puts the token in a validation message', () => {
    const token = 'ghp_abcdefSECRET';
    assert.throws(
      () => loadEnvConfig({ GITHUB_TOKEN: token, GITHUB_API_URL: 'not a url' }),
      (e: unknown) => e instanceof ConfigError && /GITHUB_API_URL/.test((e as Error).message) && !(e as Error).message.includes(token),
    );
  });

  it('reads the token from a secrets file, refusing one every user can read', async () => {
    const dir = await tempDir('secret-');
    const file = join(dir, 'github_token');
    await writeFile(file, 'ghp_fromfile\n');
    await chmod(file, 0o600);
    assert.equal(readGitHubToken(loadEnvConfig({ GITHUB_TOKEN_FILE: file })), 'ghp_fromfile');
    await chmod(file, 0o644);
    assert.throws(() => readGitHubToken(loadEnvConfig({ GITHUB_TOKEN_FILE: file })), (e: unknown) => e instanceof ConfigError && /readable by every user/.test((e as Error).message) && !(e as Error).message.includes('ghp_fromfile'));
    await writeFile(file, '');
    await chmod(file, 0o600);
    assert.equal(readGitHubToken(loadEnvConfig({ GITHUB_TOKEN_FILE: file })), undefined, 'an empty secret means: plan only');
  });
});

describe('IMAGE_SCANNING_VEX', () => {
  it('reads files, URLs and repo, separated by commas or new lines', () => {
    const config = loadEnvConfig({ IMAGE_SCANNING_VEX: 'vex/ours.json, https://example.com/suse.openvex.json\nrepo' });
    assert.deepEqual(config.IMAGE_SCANNING_VEX, [
      { kind: 'file', name: 'vex/ours.json' },
      { kind: 'url', name: 'https://example.com/suse.openvex.json' },
      { kind: 'repo', name: 'repo' },
    ]);
    assert.deepEqual(loadEnvConfig({}).IMAGE_SCANNING_VEX, []);
  });

  it('names a bad entry', () => {
    for (const [value, pattern] of [
      ['ok.json,ftp://example.com/x.json', /IMAGE_SCANNING_VEX.*"ftp:\/\/example.com\/x.json".*only http\(s\)/],
      ['oci', /IMAGE_SCANNING_VEX.*"oci"/],
    ] as const) {
      assert.throws(() => loadEnvConfig({ IMAGE_SCANNING_VEX: value }), (e: unknown) => e instanceof ConfigError && pattern.test((e as Error).message), value);
    }
  });

  it('refuses, by name, a file that does not exist or is not OpenVEX, before any scan', async () => {
    const dir = await tempDir('vex-');
    await writeFile(join(dir, 'good.json'), JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', statements: [{ vulnerability: { name: 'CVE-1' }, products: [], status: 'not_affected' }] }));
    await writeFile(join(dir, 'cyclonedx.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5' }));
    await writeFile(join(dir, 'status.json'), JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', statements: [{ vulnerability: { name: 'CVE-1' }, status: 'fine' }] }));
    await writeFile(join(dir, 'text.json'), 'not json');
    const sources = (names: string) => loadEnvConfig({ IMAGE_SCANNING_VEX: names }).IMAGE_SCANNING_VEX;
    assert.deepEqual(checkVexSources(sources('good.json,repo'), dir), [{ kind: 'file', name: 'good.json', path: join(dir, 'good.json') }, { kind: 'repo', name: 'repo' }]);
    for (const [name, pattern] of [
      ['missing.json', /IMAGE_SCANNING_VEX: missing\.json cannot be read \(ENOENT\)/],
      ['cyclonedx.json', /IMAGE_SCANNING_VEX: cyclonedx\.json is not an OpenVEX document/],
      ['status.json', /IMAGE_SCANNING_VEX: status\.json: statements\[0\] has status "fine"/],
      ['text.json', /IMAGE_SCANNING_VEX: text\.json is not JSON/],
    ] as const) {
      assert.throws(() => checkVexSources(sources(`good.json,${name}`), dir), (e: unknown) => e instanceof ConfigError && pattern.test((e as Error).message), name);
    }
  });
});
