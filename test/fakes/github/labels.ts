/** Labels: a repository's labels, the labels on an issue (routes and model), and their JSON. */
import { nodeId } from './ids.js';
import { isObject } from './json.js';
import { bodyObject, checkLength, DOCS, fail, LIMITS, ok, paginate, R, route, validationFailed, type Route } from './routing.js';
import { issueOf, type FakeRepo, type FakeStore, type LabelState } from './state.js';

export function findLabel(repo: FakeRepo, name: string): LabelState | undefined {
  const wanted = name.toLowerCase();
  for (const label of repo.labels.values()) if (label.name.toLowerCase() === wanted) return label;
  return undefined;
}

export function normalizeColor(color: unknown): string | undefined {
  if (color === undefined || color === null) return undefined;
  const value = String(color).replace(/^#/, '');
  return /^[0-9a-fA-F]{6}$/.test(value) ? value.toLowerCase() : '';
}

export function createLabel(store: FakeStore, repo: FakeRepo, name: string, color?: string, description?: string | null): LabelState {
  const id = store.newId();
  const label: LabelState = { id, node_id: nodeId('LA', id), name, color: color ?? 'ededed', description: description ?? null, default: false };
  repo.labels.set(id, label);
  return label;
}

/** Label names (or `{name}` objects) to ids, creating unknown labels as GitHub does. */
export function labelIds(store: FakeStore, repo: FakeRepo, labels: unknown): number[] {
  const list = Array.isArray(labels) ? labels : labels === undefined || labels === null ? [] : [labels];
  const ids: number[] = [];
  for (const entry of list) {
    const name = typeof entry === 'string' ? entry : isObject(entry) && typeof entry.name === 'string' ? entry.name : undefined;
    if (name === undefined || name.trim() === '') continue;
    const label = findLabel(repo, name.trim()) ?? createLabel(store, repo, name.trim());
    if (!ids.includes(label.id)) ids.push(label.id);
  }
  return ids;
}

export function labelJson(store: FakeStore, repo: FakeRepo, label: LabelState) {
  return {
    id: label.id,
    node_id: label.node_id,
    url: `${store.repoApi(repo)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: label.default,
    description: label.description,
  };
}

/** The label routes, in the fake's routing order: labels on an issue, then the repository's labels. */
export function labelRoutes(store: FakeStore): Route[] {
  const repoOf = store.repoOf.bind(store);
  const labelOn = (repo: FakeRepo, name: string) => findLabel(repo, name) ?? fail(404, 'Not Found', `${DOCS}/issues/labels#get-a-label`);
  const issueLabelsJson = (repo: FakeRepo, ids: number[]) => ids.flatMap((id) => (repo.labels.get(id) ? [labelJson(store, repo, repo.labels.get(id)!)] : []));

  return [
    // Labels on an issue
    route('GET', `${R}/issues/:issue_number/labels`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      const page = paginate(ctx, issue.labelIds.flatMap((id) => repo.labels.get(id) ?? []), store.base);
      return ok(page.items.map((l) => labelJson(store, repo, l)), 200, page.headers);
    }),
    ...(['POST', 'PUT'] as const).map((method) =>
      route(method, `${R}/issues/:issue_number/labels`, (ctx) => {
        const repo = repoOf(ctx);
        const issue = issueOf(repo, ctx.params[2]);
        const requested = isObject(ctx.body) ? (ctx.body as { labels?: unknown }).labels : ctx.body;
        const ids = labelIds(store, repo, requested);
        issue.labelIds = method === 'PUT' ? ids : [...issue.labelIds, ...ids.filter((id) => !issue.labelIds.includes(id))];
        issue.updated_at = store.now();
        return ok(issueLabelsJson(repo, issue.labelIds));
      }),
    ),
    route('DELETE', `${R}/issues/:issue_number/labels`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      issue.labelIds = [];
      issue.updated_at = store.now();
      return { status: 204 };
    }),
    route('DELETE', `${R}/issues/:issue_number/labels/:name`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      const label = findLabel(repo, ctx.params[3]!);
      if (!label || !issue.labelIds.includes(label.id)) fail(404, 'Label does not exist', `${DOCS}/issues/labels#remove-a-label-from-an-issue`);
      issue.labelIds = issue.labelIds.filter((id) => id !== label.id);
      issue.updated_at = store.now();
      return ok(issueLabelsJson(repo, issue.labelIds));
    }),
    // Repository labels
    route('GET', `${R}/labels`, (ctx) => {
      const repo = repoOf(ctx);
      const page = paginate(ctx, [...repo.labels.values()], store.base);
      return ok(page.items.map((l) => labelJson(store, repo, l)), 200, page.headers);
    }),
    route('POST', `${R}/labels`, (ctx) => {
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      const doc = `${DOCS}/issues/labels#create-a-label`;
      if (typeof body.name !== 'string' || body.name.trim() === '') validationFailed([{ resource: 'Label', code: 'missing_field', field: 'name' }], doc);
      const color = normalizeColor(body.color);
      if (color === '') validationFailed([{ resource: 'Label', code: 'invalid', field: 'color' }], doc);
      checkLength('Label', 'name', body.name.trim(), LIMITS.labelName, doc);
      checkLength('Label', 'description', body.description, LIMITS.labelDescription, doc);
      if (findLabel(repo, body.name.trim())) validationFailed([{ resource: 'Label', code: 'already_exists', field: 'name' }], doc);
      const label = createLabel(store, repo, body.name.trim(), color, typeof body.description === 'string' ? body.description : null);
      const json = labelJson(store, repo, label);
      return ok(json, 201, { location: json.url });
    }),
    route('GET', `${R}/labels/:name`, (ctx) => {
      const repo = repoOf(ctx);
      return ok(labelJson(store, repo, labelOn(repo, ctx.params[2]!)));
    }),
    route('PATCH', `${R}/labels/:name`, (ctx) => {
      const repo = repoOf(ctx);
      const label = labelOn(repo, ctx.params[2]!);
      const body = bodyObject(ctx);
      checkLength('Label', 'name', typeof body.new_name === 'string' ? body.new_name.trim() : undefined, LIMITS.labelName);
      checkLength('Label', 'description', body.description, LIMITS.labelDescription);
      if (typeof body.new_name === 'string' && body.new_name.trim() !== '') {
        const other = findLabel(repo, body.new_name.trim());
        if (other && other.id !== label.id) validationFailed([{ resource: 'Label', code: 'already_exists', field: 'name' }]);
        label.name = body.new_name.trim();
      }
      const color = normalizeColor(body.color);
      if (color === '') validationFailed([{ resource: 'Label', code: 'invalid', field: 'color' }]);
      if (color) label.color = color;
      if ('description' in body) label.description = typeof body.description === 'string' ? body.description : null;
      return ok(labelJson(store, repo, label));
    }),
    route('DELETE', `${R}/labels/:name`, (ctx) => {
      const repo = repoOf(ctx);
      const label = labelOn(repo, ctx.params[2]!);
      repo.labels.delete(label.id);
      for (const issue of repo.issues.values()) issue.labelIds = issue.labelIds.filter((id) => id !== label.id);
      return { status: 204 };
    }),
  ];
}
