/** Builds local bare git repositories laid out as rancher/rancher (three export argument forms), its charts and KDM, served as a `git.mirror`. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const GO_VERSION = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).trim().replace(/^go/, '');

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();

/** The small exporter: chart folders' images.txt (`image [windows]`) plus argument images, written as the release's lists. */
const EXPORTER = `package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	args := os.Args[1:]
	var dirs, images []string
	switch os.Getenv("EXPORT_FORM") {
	case "system":
		dirs, images = args[:2], args[2:]
	case "charts":
		dirs, images = args[:1], args[1:]
	default:
		if os.Getenv("TAG") == "" {
			fmt.Fprintln(os.Stderr, "TAG is required")
			os.Exit(1)
		}
		dirs, images = strings.Split(args[0], ","), args[1:]
	}
	linux := map[string][]string{}
	windows := map[string]bool{}
	for _, image := range images {
		linux[image] = append(linux[image], "rancher")
	}
	for _, dir := range dirs {
		f, err := os.Open(filepath.Join(dir, "images.txt"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		s := bufio.NewScanner(f)
		for s.Scan() {
			fields := strings.Fields(s.Text())
			if len(fields) == 0 {
				continue
			}
			linux[fields[0]] = append(linux[fields[0]], filepath.Base(dir))
			if len(fields) > 1 && fields[1] == "windows" {
				windows[fields[0]] = true
			}
		}
	}
	var names []string
	for name := range linux {
		names = append(names, name)
	}
	sort.Strings(names)
	var il, wl, sl []string
	for _, name := range names {
		if windows[name] {
			wl = append(wl, name)
		} else {
			il = append(il, name)
		}
		sl = append(sl, name+" "+strings.Join(linux[name], ","))
	}
	os.WriteFile("rancher-images.txt", []byte(strings.Join(il, "\\n")+"\\n"), 0o644)
	os.WriteFile("rancher-windows-images.txt", []byte(strings.Join(wl, "\\n")+"\\n"), 0o644)
	os.WriteFile("rancher-images-sources.txt", []byte(strings.Join(sl, "\\n")+"\\n"), 0o644)
}
`;

export type ExportForm = 'system' | 'charts' | 'list';

function script(form: ExportForm): string {
  const clones = [
    'if [ ! -d $CHART_REPO_DIR ]; then git clone --branch $CHART_DEFAULT_BRANCH https://github.com/rancher/charts $CHART_REPO_DIR; fi',
    ...(form === 'system' ? ['if [ ! -d $SYSTEM_CHART_REPO_DIR ]; then git clone --branch $SYSTEM_CHART_DEFAULT_BRANCH https://github.com/rancher/system-charts $SYSTEM_CHART_REPO_DIR; fi'] : []),
    ...(form === 'list' ? ['if [ ! -d $SMALL_FORK_REPO_DIR ]; then git clone --branch main https://github.com/rancher/charts-small-fork $SMALL_FORK_REPO_DIR; fi'] : []),
  ];
  const args = { system: '$SYSTEM_CHART_REPO_DIR $CHART_REPO_DIR', charts: '$CHART_REPO_DIR', list: '$CHART_REPO_DIR,$SMALL_FORK_REPO_DIR' }[form];
  return `#!/usr/bin/env bash
set -e
cd $(dirname $0)
source version
source export-config
source package-env
mkdir -p ../bin
cd ../bin
${clones.join('\n')}
RKE2=$(jq -r '[.rke2.releases[] | .version] | join(" ")' data.json | tr + -)
EXPORT_FORM=${form} TAG=$TAG go run ../pkg/image/export/main.go ${args} rancher/rancher:$TAG $AGENT_IMAGE rancher/system-agent-installer-rke2:$RKE2
`;
}

export interface RancherGit {
  dir: string;
  /** The `git.mirror` prefix standing for https://github.com/. */
  mirror: string;
  repository: string;
  kdm: string;
  /** Commits a file to a ref of rancher (moving it, or making `ref` from `from`); returns the new commit. */
  move(ref: string, file?: { path: string; text: string; from?: string }): Promise<string>;
  head(ref: string): string;
}

/** rancher/rancher at release/v2.9 (system charts + charts + images), release/v2.11 (charts + images, tagged v2.11.0), release/v2.13 (comma list + images, TAG needed). */
export async function rancherGit(parent: string): Promise<RancherGit> {
  const dir = await mkdtemp(join(parent, 'rancher-git-'));
  const github = join(dir, 'github', 'rancher');
  await mkdir(github, { recursive: true });
  const work = join(dir, 'work');

  async function repo(name: string, branches: Record<string, Record<string, string>>, tags: Record<string, string> = {}): Promise<void> {
    const w = join(work, name);
    await mkdir(w, { recursive: true });
    git(w, 'init', '--quiet', '-b', 'base');
    git(w, 'commit', '--quiet', '--allow-empty', '-m', 'base');
    for (const [branch, files] of Object.entries(branches)) {
      git(w, 'checkout', '--quiet', '-B', branch, 'base');
      for (const [path, text] of Object.entries(files)) {
        await mkdir(join(w, path, '..'), { recursive: true });
        await writeFile(join(w, path), text, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
      }
      git(w, 'add', '-A');
      git(w, 'commit', '--quiet', '-m', branch);
    }
    for (const [tag, branch] of Object.entries(tags)) git(w, 'tag', '--annotate', '-m', tag, tag, branch);
    git(github, 'clone', '--quiet', '--bare', w, name);
  }

  await repo('charts', {
    'dev-v2.9': { 'images.txt': 'rancher/fleet:v0.10.4\nrancher/mirrored-coredns-coredns:1.11.1\n' },
    'release-v2.11': { 'images.txt': 'rancher/fleet:v0.12.0\nrancher/wins:v0.5.0 windows\n' },
    'release-v2.13': { 'images.txt': 'rancher/fleet:v0.13.0\nrancher/mirrored-pause:3.9 windows\n' },
  });
  await repo('system-charts', { 'dev-v2.9': { 'images.txt': 'rancher/shell:v0.2.1\n' } });
  await repo('charts-small-fork', { main: { 'images.txt': 'rancher/kubectl:v1.31.0\n' } });

  const common = (chartBranch: string, kdmBranch: string): Record<string, string> => ({
    'go.mod': `module github.com/rancher/rancher\n\ngo ${GO_VERSION}\n`,
    'pkg/image/export/main.go': EXPORTER,
    'build.yaml': 'agentImage: rancher/rancher-agent\n',
    // As Rancher's: a tag containing HEAD names the build, else the short commit; TAG from outside wins only for a branch head.
    'scripts/version': [
      'COMMIT=$(git rev-parse --short HEAD)',
      'GIT_TAG=${GIT_TAG:-$(git tag -l --contains HEAD | head -n 1)}',
      'if [ -n "$GIT_TAG" ]; then TAG=$GIT_TAG; fi',
      'VERSION=${GIT_TAG:-$COMMIT}',
      'TAG=${TAG:-$VERSION}',
      '',
    ].join('\n'),
    'scripts/export-config': 'AGENT_IMAGE=$(yq .agentImage ../build.yaml):$TAG\n',
    'Dockerfile': `FROM scratch\nARG CATTLE_KDM_BRANCH=${kdmBranch}\n`,
    'scripts/package-env': `SYSTEM_CHART_REPO_DIR=build/system-charts\nSYSTEM_CHART_DEFAULT_BRANCH=\${SYSTEM_CHART_DEFAULT_BRANCH:-"dev-v2.9"}\nCHART_REPO_DIR=build/charts\nCHART_DEFAULT_BRANCH=\${CHART_DEFAULT_BRANCH:-"${chartBranch}"}\nSMALL_FORK_REPO_DIR=build/charts-small-fork\n`,
  });
  await repo('rancher', {
    'release/v2.9': { ...common('dev-v2.9', 'dev-v2.9'), 'scripts/create-components-images-files.sh': script('system') },
    'release/v2.11': { ...common('release-v2.11', 'dev-v2.11'), 'scripts/create-components-images-files.sh': script('charts') },
    'release/v2.13': { ...common('release-v2.13', 'dev-v2.13'), 'scripts/create-components-images-files.sh': script('list') },
  }, { 'v2.11.0': 'release/v2.11' });

  const kdm = join(dir, 'data.json');
  await writeFile(kdm, JSON.stringify({ rke2: { releases: [{ version: 'v1.31.1+rke2r1' }] } }));
  const w = join(work, 'rancher');
  git(w, 'remote', 'add', 'mirror', join(github, 'rancher'));
  return {
    dir,
    mirror: `file://${join(dir, 'github')}/`,
    repository: 'https://github.com/rancher/rancher',
    kdm,
    async move(ref: string, file?: { path: string; text: string; from?: string }) {
      if (file?.from) git(w, 'checkout', '--quiet', '-B', ref, file.from);
      else git(w, 'checkout', '--quiet', ref);
      await writeFile(join(w, file?.path ?? 'moved.txt'), file?.text ?? String(Date.now()));
      git(w, 'add', '-A');
      git(w, 'commit', '--quiet', '-m', 'move');
      git(w, 'push', '--quiet', 'mirror', `${ref}:${ref}`);
      return git(w, 'rev-parse', 'HEAD');
    },
    head(ref: string) {
      return git(join(github, 'rancher'), 'rev-parse', ref);
    },
  };
}
