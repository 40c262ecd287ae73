import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createActivities } from '../../../activities/index.js';
import { readReleaseLists } from '../../../activities/lists/release-lists.js';
import { runExportScript, GitListsError } from '../../../activities/sources/run-export-script.js';
import type { GitSource } from '../../../core/run.js';
import { rancherGit, type RancherGit } from '../../helpers/rancher-git.js';
import { applicationFailure, run, workspace } from '../support.js';

/** mikefarah's yq v4, installed by .ci/run into .tools/yq (YQ_BIN overrides). */
const YQ = process.env.YQ_BIN ?? resolve('.tools', 'yq', 'yq');
const env = { ...process.env, PATH: `${dirname(YQ)}${delimiter}${process.env.PATH}` };

async function setup(t: TestContext): Promise<{ repos: RancherGit; cacheDir: string; source: (ref: string, extra?: Partial<GitSource>) => GitSource }> {
  const dir = await mkdtemp(join(tmpdir(), 'git-lists-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const repos = await rancherGit(dir);
  return { repos, cacheDir: join(dir, 'cache'), source: (ref, extra = {}) => ({ repository: repos.repository, ref, kdm: repos.kdm, mirror: repos.mirror, ...extra }) };
}

async function failure(promise: Promise<unknown>): Promise<GitListsError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GitListsError, String(error));
    return error;
  }
  assert.fail('expected a GitListsError');
}

describe('runExportScript (real git, local rancher/rancher layout)', { skip: existsSync(YQ) ? false : `mikefarah yq not at ${YQ} (.ci/run installs it)` }, () => {
  const cases = [
    { ref: 'release/v2.9', form: 'system charts + charts + images', images: ['rancher/fleet:v0.10.4', 'rancher/mirrored-coredns-coredns:1.11.1', 'rancher/rancher-agent:', 'rancher/shell:v0.2.1'], windows: [] as string[] },
    { ref: 'release/v2.11', form: 'charts + images', images: ['rancher/fleet:v0.12.0', 'rancher/rancher-agent:'], windows: ['rancher/wins:v0.5.0'] },
    { ref: 'release/v2.13', form: 'comma list + images, TAG', images: ['rancher/fleet:v0.13.0', 'rancher/kubectl:v1.31.0', 'rancher/rancher-agent:'], windows: ['rancher/mirrored-pause:3.9'] },
  ];
  for (const c of cases) {
    it(`runs the script at ${c.ref} (${c.form}) and yields its records`, async (t) => {
      const { repos, cacheDir, source } = await setup(t);
      const lists = await runExportScript({ release: 'head', git: source(c.ref), cacheDir, env });
      assert.equal(lists.ran, true);
      assert.equal(lists.commit, repos.head(c.ref));
      const { records, problems } = await readReleaseLists({ name: 'head', images: lists.images, sources: lists.sources, windowsImages: lists.windowsImages }, {});
      assert.deepEqual(problems, []);
      for (const image of c.images) assert.ok(records.some((r) => r.image.startsWith(image) && !r.windows), `${image} in ${records.map((r) => r.image).join(' ')}`);
      assert.deepEqual(records.filter((r) => r.windows).map((r) => r.image), c.windows);
      assert.ok(records.some((r) => r.image === 'rancher/system-agent-installer-rke2:v1.31.1-rke2r1'), 'KDM images');
      // scripts/version at a branch head: the short commit names Rancher's own images.
      assert.ok(records.some((r) => r.image === `rancher/rancher-agent:${lists.commit.slice(0, 7)}`), records.map((r) => r.image).join(' '));
      const fleet = records.find((r) => r.repository === 'rancher/fleet')!;
      assert.deepEqual(fleet.projects, ['charts']);
      assert.equal(records.find((r) => r.repository.startsWith('rancher/mirrored-'))?.mirrored ?? true, true);
    });
  }

  it('reuses the lists at an unmoved ref without running the script, and runs it again when the ref moves', async (t) => {
    const { repos, cacheDir, source } = await setup(t);
    const first = await runExportScript({ release: 'head', git: source('release/v2.11'), cacheDir, env });
    assert.equal(first.ran, true);
    const before = await readFile(first.images, 'utf8');
    const second = await runExportScript({ release: 'head', git: source('release/v2.11'), cacheDir, env });
    assert.equal(second.ran, false);
    assert.equal(second.commit, first.commit);
    assert.equal(await readFile(second.images, 'utf8'), before);
    const moved = await repos.move('release/v2.11');
    const third = await runExportScript({ release: 'head', git: source('release/v2.11'), cacheDir, env });
    assert.equal(third.ran, true);
    assert.equal(third.commit, moved);
  });

  it('gives scripts/version the tag at a tag ref and the short commit at a branch head, whatever TAG the worker has', async (t) => {
    const { repos, cacheDir, source } = await setup(t);
    const leaky = { ...env, TAG: 'leaked', GIT_TAG: 'leaked' };
    const tagged = await runExportScript({ release: 'tag', git: source('v2.11.0'), cacheDir, env: leaky });
    assert.equal(tagged.commit, repos.head('release/v2.11'));
    const tagImages = await readFile(tagged.images, 'utf8');
    assert.match(tagImages, /^rancher\/rancher:v2\.11\.0$/m);
    assert.match(tagImages, /^rancher\/rancher-agent:v2\.11\.0$/m);
    const head = await runExportScript({ release: 'head', git: source('release/v2.11'), cacheDir, env: leaky });
    const headImages = await readFile(head.images, 'utf8');
    assert.match(headImages, new RegExp(`^rancher/rancher-agent:${head.commit.slice(0, 7)}$`, 'm'));
    assert.doesNotMatch(headImages, /leaked|v2\.11\.0/);
  });

  it('fails naming repository and ref for an unknown ref, and keeps the previous lists', async (t) => {
    const { cacheDir, source } = await setup(t);
    const first = await runExportScript({ release: 'head', git: source('release/v2.11'), cacheDir, env });
    const before = await readFile(first.images, 'utf8');
    const error = await failure(runExportScript({ release: 'head', git: source('release/v9.99'), cacheDir, env }));
    assert.match(error.message, /^release head: https:\/\/github\.com\/rancher\/rancher at release\/v9\.99: unknown ref/);
    assert.equal(await readFile(first.images, 'utf8'), before, 'the previous lists stay');
  });

  it('fails when jq or Go is missing, naming the tool', async (t) => {
    const { cacheDir, source } = await setup(t);
    const which = (tool: string) => execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8', env }).trim();
    for (const missing of ['jq', 'go']) {
      const bin = await mkdtemp(join(cacheDir, '..', 'bin-'));
      for (const tool of ['git', 'bash', 'go', 'jq'].filter((x) => x !== missing)) await symlink(which(tool), join(bin, tool));
      await symlink(YQ, join(bin, 'yq'));
      const error = await failure(runExportScript({ release: 'head', git: source('release/v2.11'), cacheDir, env: { ...env, PATH: bin } }));
      assert.match(error.message, new RegExp(`rancher/rancher at release/v2\\.11: tools: ${missing} is missing`), error.message);
    }
  });

  it('fails for a charts branch that does not exist, naming it', async (t) => {
    const { repos, cacheDir, source } = await setup(t);
    const packageEnv = execFileSync('git', ['--git-dir', join(repos.dir, 'github', 'rancher', 'rancher'), 'show', 'release/v2.11:scripts/package-env'], { encoding: 'utf8' });
    await repos.move('release/bad', { from: 'release/v2.11', path: 'scripts/package-env', text: packageEnv.replace('release-v2.11', 'release-v9.99') });
    const error = await failure(runExportScript({ release: 'head', git: source('release/bad'), cacheDir, env }));
    assert.match(error.message, /at release\/bad: charts branch: branch release-v9\.99 of https:\/\/github\.com\/rancher\/charts does not exist/);
  });

  it('fails when the script writes no image list', async (t) => {
    const { repos, cacheDir, source } = await setup(t);
    await repos.move('release/silent', { from: 'release/v2.11', path: 'scripts/create-components-images-files.sh', text: '#!/usr/bin/env bash\necho nothing to do\n' });
    const error = await failure(runExportScript({ release: 'head', git: source('release/silent'), cacheDir, env }));
    assert.match(error.message, /at release\/silent: export script: the script did not write rancher-images\.txt/);
  });

  it('fails when the script fails, showing its last lines and the URL, and keeps the previous lists', async (t) => {
    const { repos, cacheDir, source } = await setup(t);
    const first = await runExportScript({ release: 'head', git: source('release/v2.13'), cacheDir, env });
    const before = await readFile(first.images, 'utf8');
    await repos.move('release/v2.13', {
      path: 'scripts/create-components-images-files.sh',
      text: '#!/usr/bin/env bash\nprintf "Updating files:  10%% (1/10)\\rUpdating files: 100%% (10/10), done.\\n"\necho building\necho "Get https://api.github.com/repos/rancher/ui-plugin-charts/releases: dial tcp: no route" >&2\nexit 1\n',
    });
    const error = await failure(runExportScript({ release: 'head', git: source('release/v2.13'), cacheDir, env }));
    assert.match(error.message, /rancher\/rancher at release\/v2\.13: export script failed: .* exited with 1 at https:\/\/api\.github\.com\/repos\/rancher\/ui-plugin-charts\/releases/);
    assert.match(error.message, /last lines:\nUpdating files: 100% \(10\/10\), done\.\nbuilding\nGet https/, 'progress rewritten with \\r shows as its last state');
    assert.equal(await readFile(first.images, 'utf8'), before);
    const again = await failure(runExportScript({ release: 'head', git: source('release/v2.13'), cacheDir, env }));
    assert.match(again.message, /export script failed/, 'a failed generation is not reused');
  });

  it('fails naming the KDM URL when KDM cannot be read', async (t) => {
    const { cacheDir, source } = await setup(t);
    const error = await failure(runExportScript({ release: 'head', git: source('release/v2.9', { kdm: join(cacheDir, 'nope.json') }), cacheDir, env }));
    assert.match(error.message, /release\/v2\.9: KDM: .*nope\.json/);
  });

  it('resolveImages records the commit, and fails the release for good naming repository and ref', async (t) => {
    const { repos, cacheDir, source } = await setup(t);
    const h = await workspace(t);
    const { resolveImages } = createActivities({ ...h.deps(), gitCacheDir: cacheDir });
    const saved = process.env.PATH;
    process.env.PATH = env.PATH;
    t.after(() => {
      process.env.PATH = saved;
    });
    const resolved = await run(resolveImages, { runKey: 'r', release: { name: 'v2.11-head', git: source('release/v2.11') } });
    assert.equal(resolved.commit, repos.head('release/v2.11'));
    assert.equal(resolved.generated, true);
    assert.equal(resolved.windows, 1);
    const failed = await applicationFailure(run(resolveImages, { runKey: 'r', release: { name: 'v2.11-head', git: source('release/none') } }));
    assert.equal(failed.type, 'GitListsFailed');
    assert.equal(failed.nonRetryable, true);
    assert.match(failed.message, /v2\.11-head: https:\/\/github\.com\/rancher\/rancher at release\/none: unknown ref/);
  });
});
