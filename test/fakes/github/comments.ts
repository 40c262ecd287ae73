/** Issue comments: their routes, adding one to an issue, and their JSON (with the reactions summary issues share). */
import { nodeId } from './ids.js';
import { bodyObject, checkLength, fail, HTML, LIMITS, ok, paginate, R, route, validationFailed, type Context, type Route } from './routing.js';
import { issueOf, type CommentState, type FakeRepo, type FakeStore, type IssueState } from './state.js';
import { userJson } from './users.js';

export function reactions(url: string, list: { content: string }[] = []) {
  const count = (content: string) => list.filter((r) => r.content === content).length;
  return {
    url: `${url}/reactions`,
    total_count: list.length,
    '+1': count('+1'),
    '-1': count('-1'),
    laugh: count('laugh'),
    hooray: count('hooray'),
    confused: count('confused'),
    heart: count('heart'),
    rocket: count('rocket'),
    eyes: count('eyes'),
  };
}

export function addComment(store: FakeStore, repo: FakeRepo, issue: IssueState, body: string, user: string): CommentState {
  const id = store.newId();
  const at = store.now();
  const comment: CommentState = { id, node_id: nodeId('IC', id), issueNumber: issue.number, body, user, created_at: at, updated_at: at };
  repo.comments.set(id, comment);
  issue.commentIds.push(id);
  issue.updated_at = at;
  return comment;
}

export function commentJson(store: FakeStore, repo: FakeRepo, comment: CommentState) {
  const url = `${store.repoApi(repo)}/issues/comments/${comment.id}`;
  return {
    url,
    html_url: `${HTML}/${repo.full_name}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${store.repoApi(repo)}/issues/${comment.issueNumber}`,
    id: comment.id,
    node_id: comment.node_id,
    user: userJson(store, comment.user),
    created_at: comment.created_at,
    updated_at: comment.updated_at,
    author_association: 'OWNER',
    body: comment.body,
    reactions: reactions(url, comment.reactions),
    performed_via_github_app: null,
  };
}

/** GitHub's `sort`/`direction`/`since` of the repository-wide comment list: `since` keeps comments updated at or after it. */
function listRepoComments(ctx: Context, repo: FakeRepo): CommentState[] {
  const since = ctx.query.since ? Date.parse(ctx.query.since) : undefined;
  if (since !== undefined && Number.isNaN(since)) validationFailed([{ resource: 'IssueComment', code: 'invalid', field: 'since' }]);
  const sort = ctx.query.sort === 'updated' ? 'updated_at' : 'created_at';
  const direction = ctx.query.direction === 'desc' ? -1 : 1;
  return [...repo.comments.values()]
    .filter((c) => since === undefined || Date.parse(c.updated_at) >= since)
    .sort((a, b) => direction * (a[sort] < b[sort] ? -1 : a[sort] > b[sort] ? 1 : a.id - b.id));
}

export function commentRoutes(store: FakeStore): Route[] {
  const repoOf = store.repoOf.bind(store);
  return [
    // Before the issue routes: `issues/comments` is not issue number "comments".
    route('GET', `${R}/issues/comments`, (ctx) => {
      const repo = repoOf(ctx);
      const page = paginate(ctx, listRepoComments(ctx, repo), store.base);
      return ok(page.items.map((c) => commentJson(store, repo, c)), 200, page.headers);
    }),
    route('GET', `${R}/issues/comments/:comment_id`, (ctx) => {
      const repo = repoOf(ctx);
      const comment = repo.comments.get(Number(ctx.params[2])) ?? fail(404, 'Not Found');
      return ok(commentJson(store, repo, comment));
    }),
    route('PATCH', `${R}/issues/comments/:comment_id`, (ctx) => {
      const repo = repoOf(ctx);
      const comment = repo.comments.get(Number(ctx.params[2])) ?? fail(404, 'Not Found');
      const body = bodyObject(ctx);
      if (typeof body.body !== 'string' || body.body === '') validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
      checkLength('IssueComment', 'body', body.body, LIMITS.body);
      comment.body = body.body;
      comment.updated_at = store.now();
      return ok(commentJson(store, repo, comment));
    }),
    route('DELETE', `${R}/issues/comments/:comment_id`, (ctx) => {
      const repo = repoOf(ctx);
      const comment = repo.comments.get(Number(ctx.params[2])) ?? fail(404, 'Not Found');
      repo.comments.delete(comment.id);
      const issue = repo.issues.get(comment.issueNumber);
      if (issue) issue.commentIds = issue.commentIds.filter((id) => id !== comment.id);
      return { status: 204 };
    }),
    route('GET', `${R}/issues/:issue_number/comments`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      const since = ctx.query.since ? Date.parse(ctx.query.since) : undefined;
      const list = issue.commentIds.flatMap((id) => repo.comments.get(id) ?? []).filter((c) => since === undefined || Date.parse(c.updated_at) >= since);
      const page = paginate(ctx, list, store.base);
      return ok(page.items.map((c) => commentJson(store, repo, c)), 200, page.headers);
    }),
    route('POST', `${R}/issues/:issue_number/comments`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      const body = bodyObject(ctx);
      if (typeof body.body !== 'string' || body.body === '') validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
      checkLength('IssueComment', 'body', body.body, LIMITS.body);
      const json = commentJson(store, repo, addComment(store, repo, issue, body.body, store.login));
      return ok(json, 201, { location: json.url });
    }),
  ];
}
