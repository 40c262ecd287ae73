/** Repositories: GET /repos/{owner}/{repo} and the full-repository JSON it answers with. */
import { nodeId } from './ids.js';
import { HTML, ok, R, route, type Route } from './routing.js';
import type { FakeRepo, FakeStore } from './state.js';
import { userJson } from './users.js';

export function repoJson(store: FakeStore, repo: FakeRepo) {
  const api = store.repoApi(repo);
  const html = `${HTML}/${repo.full_name}`;
  const urls = Object.fromEntries(
    (
      [
        ['archive_url', '/{archive_format}{/ref}'],
        ['assignees_url', '/assignees{/user}'],
        ['blobs_url', '/git/blobs{/sha}'],
        ['branches_url', '/branches{/branch}'],
        ['collaborators_url', '/collaborators{/collaborator}'],
        ['comments_url', '/comments{/number}'],
        ['commits_url', '/commits{/sha}'],
        ['compare_url', '/compare/{base}...{head}'],
        ['contents_url', '/contents/{+path}'],
        ['contributors_url', '/contributors'],
        ['deployments_url', '/deployments'],
        ['downloads_url', '/downloads'],
        ['events_url', '/events'],
        ['forks_url', '/forks'],
        ['git_commits_url', '/git/commits{/sha}'],
        ['git_refs_url', '/git/refs{/sha}'],
        ['git_tags_url', '/git/tags{/sha}'],
        ['hooks_url', '/hooks'],
        ['issue_comment_url', '/issues/comments{/number}'],
        ['issue_events_url', '/issues/events{/number}'],
        ['issues_url', '/issues{/number}'],
        ['keys_url', '/keys{/key_id}'],
        ['labels_url', '/labels{/name}'],
        ['languages_url', '/languages'],
        ['merges_url', '/merges'],
        ['milestones_url', '/milestones{/number}'],
        ['notifications_url', '/notifications{?since,all,participating}'],
        ['pulls_url', '/pulls{/number}'],
        ['releases_url', '/releases{/id}'],
        ['stargazers_url', '/stargazers'],
        ['statuses_url', '/statuses/{sha}'],
        ['subscribers_url', '/subscribers'],
        ['subscription_url', '/subscription'],
        ['tags_url', '/tags'],
        ['teams_url', '/teams'],
        ['trees_url', '/git/trees{/sha}'],
      ] as const
    ).map(([key, suffix]) => [key, `${api}${suffix}`]),
  );
  const open = [...repo.issues.values()].filter((i) => i.state === 'open').length;
  const created = store.now();
  return {
    id: repo.id,
    node_id: nodeId('R', repo.id),
    name: repo.name,
    full_name: repo.full_name,
    owner: userJson(store, repo.owner),
    private: false,
    html_url: html,
    description: null,
    fork: false,
    url: api,
    ...urls,
    git_url: `git://github.com/${repo.full_name}.git`,
    ssh_url: `git@github.com:${repo.full_name}.git`,
    clone_url: `${html}.git`,
    svn_url: html,
    mirror_url: null,
    homepage: null,
    language: null,
    license: null,
    size: 0,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    open_issues: open,
    open_issues_count: open,
    network_count: 0,
    subscribers_count: 0,
    default_branch: repo.default_branch,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    archived: false,
    disabled: false,
    pushed_at: created,
    created_at: created,
    updated_at: created,
  };
}

export function repoRoutes(store: FakeStore): Route[] {
  return [route('GET', R, (ctx) => ok(repoJson(store, store.repoOf(ctx))))];
}
