/** Issues: their routes, creating and closing them, their JSON, and the plain snapshots tests assert on. */
import { addComment, reactions } from './comments.js';
import { nodeId } from './ids.js';
import { labelIds, labelJson } from './labels.js';
import { bodyObject, checkLength, DOCS, HTML, LIMITS, ok, paginate, R, route, validationFailed, type Route } from './routing.js';
import { issueOf, type FakeRepo, type FakeStore, type IssueState, type StateReason } from './state.js';
import { userJson } from './users.js';

/** A plain view of an issue, handy in assertions. */
export interface IssueSnapshot {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: StateReason | null;
  labels: string[];
  comments: string[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface SeedIssue {
  title: string;
  body?: string | null;
  labels?: string[];
  state?: 'open' | 'closed';
  state_reason?: StateReason | null;
  comments?: string[];
}

export function issueJson(store: FakeStore, repo: FakeRepo, issue: IssueState) {
  const url = `${store.repoApi(repo)}/issues/${issue.number}`;
  return {
    url,
    repository_url: store.repoApi(repo),
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${HTML}/${repo.full_name}/issues/${issue.number}`,
    id: issue.id,
    node_id: issue.node_id,
    number: issue.number,
    title: issue.title,
    user: userJson(store, issue.user),
    labels: issue.labelIds.flatMap((id) => {
      const label = repo.labels.get(id);
      return label ? [labelJson(store, repo, label)] : [];
    }),
    state: issue.state,
    locked: issue.locked,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: issue.commentIds.length,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_at: issue.closed_at,
    closed_by: issue.closed_by ? userJson(store, issue.closed_by) : null,
    author_association: 'OWNER',
    active_lock_reason: null,
    body: issue.body,
    reactions: reactions(url),
    timeline_url: `${url}/timeline`,
    performed_via_github_app: null,
    state_reason: issue.state_reason,
  };
}

export function snapshot(repo: FakeRepo, issue: IssueState): IssueSnapshot {
  return {
    number: issue.number,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    state_reason: issue.state_reason,
    labels: issue.labelIds.flatMap((id) => repo.labels.get(id)?.name ?? []),
    comments: issue.commentIds.flatMap((id) => repo.comments.get(id)?.body ?? []),
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_at: issue.closed_at,
  };
}

export function createIssue(store: FakeStore, repo: FakeRepo, input: SeedIssue, user: string): IssueState {
  const id = store.newId();
  const at = store.now();
  const issue: IssueState = {
    id,
    node_id: nodeId('I', id),
    number: repo.issues.size + 1,
    title: input.title,
    body: input.body ?? null,
    state: 'open',
    state_reason: null,
    labelIds: labelIds(store, repo, input.labels ?? []),
    commentIds: [],
    user,
    locked: false,
    created_at: at,
    updated_at: at,
    closed_at: null,
    closed_by: null,
  };
  repo.issues.set(issue.number, issue);
  if (input.state === 'closed') setState(store, issue, 'closed', input.state_reason ?? 'completed', user);
  for (const body of input.comments ?? []) addComment(store, repo, issue, body, user);
  return issue;
}

export function setState(store: FakeStore, issue: IssueState, state: 'open' | 'closed', reason: StateReason | null | undefined, user: string) {
  if (state === 'closed') {
    if (issue.state !== 'closed') {
      issue.closed_at = store.now();
      issue.closed_by = user;
    }
    issue.state = 'closed';
    issue.state_reason = reason === undefined || reason === 'reopened' ? 'completed' : reason;
  } else {
    if (issue.state === 'closed') issue.state_reason = 'reopened';
    else if (reason !== undefined) issue.state_reason = reason;
    issue.state = 'open';
    issue.closed_at = null;
    issue.closed_by = null;
  }
}

export function issueRoutes(store: FakeStore): Route[] {
  const repoOf = store.repoOf.bind(store);
  return [
    route('GET', `${R}/issues`, (ctx) => {
      const repo = repoOf(ctx);
      const state = ctx.query.state ?? 'open';
      if (!['open', 'closed', 'all'].includes(state)) validationFailed([{ resource: 'Issue', field: 'state', code: 'invalid' }]);
      const wanted = (ctx.query.labels ?? '').split(',').map((l) => l.trim().toLowerCase()).filter(Boolean);
      const since = ctx.query.since ? Date.parse(ctx.query.since) : undefined;
      const sort = ctx.query.sort ?? 'created';
      const direction = ctx.query.direction === 'asc' ? 1 : -1;
      const list = [...repo.issues.values()]
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => wanted.every((w) => i.labelIds.some((id) => repo.labels.get(id)?.name.toLowerCase() === w)))
        .filter((i) => since === undefined || Date.parse(i.updated_at) >= since)
        .filter((i) => !ctx.query.creator || i.user === ctx.query.creator)
        .sort((a, b) => {
          const key = sort === 'updated' ? a.updated_at.localeCompare(b.updated_at) : sort === 'comments' ? a.commentIds.length - b.commentIds.length : a.created_at.localeCompare(b.created_at);
          return direction * (key || a.number - b.number);
        });
      const page = paginate(ctx, list, store.base);
      return ok(page.items.map((i) => issueJson(store, repo, i)), 200, page.headers);
    }),
    route('POST', `${R}/issues`, (ctx) => {
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      const title = typeof body.title === 'number' ? String(body.title) : body.title;
      const doc = `${DOCS}/issues/issues#create-an-issue`;
      if (typeof title !== 'string' || title.trim() === '') validationFailed([{ resource: 'Issue', code: 'missing_field', field: 'title' }], doc);
      checkLength('Issue', 'title', title, LIMITS.issueTitle, doc);
      checkLength('Issue', 'body', body.body, LIMITS.body, doc);
      const issue = createIssue(store, repo, { title, body: typeof body.body === 'string' ? body.body : null, labels: body.labels as string[] | undefined }, store.login);
      const json = issueJson(store, repo, issue);
      return ok(json, 201, { location: json.url });
    }),
    route('GET', `${R}/issues/:issue_number`, (ctx) => {
      const repo = repoOf(ctx);
      return ok(issueJson(store, repo, issueOf(repo, ctx.params[2])));
    }),
    route('PATCH', `${R}/issues/:issue_number`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      const body = bodyObject(ctx);
      if (body.title !== undefined && body.title !== null) {
        const title = String(body.title);
        if (title.trim() === '') validationFailed([{ resource: 'Issue', code: 'missing_field', field: 'title' }]);
        checkLength('Issue', 'title', title, LIMITS.issueTitle);
      }
      checkLength('Issue', 'body', body.body, LIMITS.body);
      if (body.title !== undefined && body.title !== null) issue.title = String(body.title);
      if ('body' in body) issue.body = typeof body.body === 'string' ? body.body : null;
      if (body.labels !== undefined) issue.labelIds = labelIds(store, repo, body.labels);
      const reason = 'state_reason' in body ? (body.state_reason as StateReason | null) : undefined;
      if (body.state === 'open' || body.state === 'closed') setState(store, issue, body.state, reason, store.login);
      else if (reason !== undefined && issue.state === 'closed' && reason !== 'reopened') issue.state_reason = reason ?? 'completed';
      issue.updated_at = store.now();
      return ok(issueJson(store, repo, issue));
    }),
  ];
}
