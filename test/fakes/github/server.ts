/**
 * startFakeGitHub: the fake's HTTP server on loopback, which records requests, checks auth, injects faults,
 * validates bodies against the OpenAPI description, routes to the resource files and sends rate-limit headers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collaboratorRoutes } from './collaborators.js';
import { commitRoutes } from './commits.js';
import { addComment, commentRoutes } from './comments.js';
import { reactionRoutes } from './reactions.js';
import { teamRoutes } from './teams.js';
import { contentRoutes } from './contents.js';
import { FaultInjector, type Fault, type FaultHandle } from './faults.js';
import { gitDataRoutes } from './git-data.js';
import { gitBlobSha } from './ids.js';
import { createIssue, issueRoutes, snapshot, type IssueSnapshot, type SeedIssue } from './issues.js';
import { isObject } from './json.js';
import { createLabel, findLabel, labelRoutes, normalizeColor } from './labels.js';
import { deref, findOperation, jsonSchemaOf, loadSpec, toIssues, validatorFor, type SpecIndex, type SpecOperation, type ValidationIssue, type Violation } from './openapi.js';
import { addRelease, releaseRoutes, type ReleaseOptions } from './releases.js';
import { repoRoutes } from './repos.js';
import { errorBody, HttpError, safeDecode, type Reply, type Route } from './routing.js';
import { FakeStore, type CommitRecord, type FakeRepo, type LabelState, type ReleaseState } from './state.js';

export interface FakeGitHubOptions {
  /**
   * Answer requests whose body violates the OpenAPI description with 500, before applying them (default true).
   * Violations are recorded either way; plugin-retry retries a 500, so each attempt records one.
   */
  strict?: boolean;
  /** Validate against the OpenAPI description at all (default true). */
  validate?: boolean;
  /** When set, only this token is accepted (`authorization: token <t>` or `Bearer <t>`); otherwise any token is. */
  token?: string;
  /** Login of the authenticated user: author of created issues, comments and commits (default `fake-user`). */
  login?: string;
  /** Create repositories on first use (default true); when false, unknown repositories answer 404. */
  autoCreateRepos?: boolean;
  /** Default branch of every repository (default `main`). */
  defaultBranch?: string;
  /** `x-ratelimit-limit` (default 5000). The counter only feeds the headers; it never blocks (inject `rate-limit` for that). */
  rateLimit?: number;
  /** Clock for timestamps (default `() => new Date()`). */
  now?: () => Date;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, as sent (percent-encoding kept). */
  path: string;
  query: Record<string, string>;
  /** Status answered; 0 when the connection was reset. */
  status: number;
  /** Parsed JSON request body (or the raw text when not JSON); undefined without a body. */
  body: unknown;
  /** The OpenAPI path template the request matched, if any. */
  route?: string;
  /** The injected fault that answered (or delayed) this request, if any. */
  fault?: Fault['kind'];
}

export interface FakeGitHub {
  /** Base URL to give Octokit as `baseUrl` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** OpenAPI violations seen so far. */
  readonly violations: Violation[];
  /** GET/HEAD requests received (optionally only those whose path matches). */
  reads(path?: RegExp): number;
  /** POST/PATCH/PUT/DELETE requests received (optionally only those whose path matches). */
  writes(path?: RegExp): number;
  /** Forget recorded requests and violations. */
  clearLog(): void;

  /** The repository's state, created if needed. */
  repo(owner: string, name: string): FakeRepo;
  addIssue(owner: string, repo: string, issue: SeedIssue): IssueSnapshot;
  addLabel(owner: string, repo: string, label: { name: string; color?: string; description?: string | null }): LabelState;
  issues(owner: string, repo: string): IssueSnapshot[];
  /** Adds a comment by `user` (someone other than the token's user), as a person would write it. */
  addComment(owner: string, repo: string, issueNumber: number, body: string, user: string): { id: number; url: string };
  /** Edits or deletes a comment as its author would. */
  editComment(owner: string, repo: string, id: number, body: string | null): void;
  /** An issue's comments with their reactions. */
  comments(owner: string, repo: string, issueNumber: number): { id: number; user: string; body: string; created_at: string; updated_at: string; reactions: { user: string; content: string }[] }[];
  /** Gives `login` a role on the repository: read, triage, write, maintain or admin. */
  setCollaborator(owner: string, repo: string, login: string, role: string): void;
  /** Makes `login` an active member of the team `org/slug`. */
  addTeamMember(org: string, slug: string, login: string): void;
  labels(owner: string, repo: string): { name: string; color: string; description: string | null }[];
  addRelease(owner: string, repo: string, tag: string, assets: Record<string, string | Uint8Array>, options?: ReleaseOptions): ReleaseState;
  /** Commits `content` (null deletes) to `path` on `branch` (created from the default branch if missing), as someone else would. */
  commitFile(owner: string, repo: string, branch: string, path: string, content: string | Uint8Array | null, message?: string): { sha: string | null; commit: string };
  readFile(owner: string, repo: string, branch: string, path: string): string | undefined;
  files(owner: string, repo: string, branch: string): string[];
  commits(owner: string, repo: string, branch: string): CommitRecord[];

  inject(fault: Fault): FaultHandle;
  clearFaults(): void;
  /** Inject a random fault (500/502/503, secondary rate limit with retry-after 0 or 1, reset) into a fraction p of all requests; p = 0 turns it off. */
  faultRate(p: number, seed?: number): void;

  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const strict = options.strict ?? true;
  const validate = options.validate ?? true;
  const login = options.login ?? 'fake-user';
  const clock = options.now ?? (() => new Date());
  const rateLimit = options.rateLimit ?? 5000;

  const store = new FakeStore({ login, defaultBranch: options.defaultBranch ?? 'main', autoCreateRepos: options.autoCreateRepos ?? true, now: clock });
  const requests: RecordedRequest[] = [];
  const violations: Violation[] = [];
  let requestCounter = 0;

  const rate = { used: 0, reset: Math.floor(clock().getTime() / 1000) + 3600 };
  const faults = new FaultInjector(clock, () => store.now(), rateLimit);

  // Tried in this order; the first route whose method and pattern match answers.
  const routes: Route[] = [
    ...commentRoutes(store),
    ...reactionRoutes(store),
    ...issueRoutes(store),
    ...collaboratorRoutes(store),
    ...teamRoutes(store),
    ...labelRoutes(store),
    ...releaseRoutes(store),
    ...contentRoutes(store),
    ...repoRoutes(store),
    ...gitDataRoutes(store),
    ...commitRoutes(store),
  ];

  // ----- request handling --------------------------------------------------------------------

  function commonHeaders(requestId: string): Record<string, string> {
    const nowSec = Math.floor(clock().getTime() / 1000);
    if (nowSec >= rate.reset || rate.used >= rateLimit) {
      rate.used = 0;
      rate.reset = nowSec + 3600;
    }
    rate.used++;
    return {
      'x-ratelimit-limit': String(rateLimit),
      'x-ratelimit-remaining': String(rateLimit - rate.used),
      'x-ratelimit-reset': String(rate.reset),
      'x-ratelimit-used': String(rate.used),
      'x-ratelimit-resource': 'core',
      'x-github-request-id': requestId,
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
    };
  }

  function send(res: http.ServerResponse, entry: RecordedRequest, requestId: string, reply: Reply) {
    const headers: Record<string, string> = { ...commonHeaders(requestId), ...reply.headers };
    let payload: Buffer | undefined = reply.raw;
    if (!payload && reply.body !== undefined) {
      payload = Buffer.from(JSON.stringify(reply.body), 'utf8');
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
    headers['content-length'] = String(payload?.length ?? 0);
    entry.status = reply.status;
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  function authorized(headers: http.IncomingHttpHeaders): boolean | undefined {
    const header = headers.authorization;
    if (!header) return undefined;
    const match = /^(?:token|bearer)\s+(.+)$/i.exec(header.trim());
    if (!match) return false;
    return options.token === undefined || match[1] === options.token;
  }

  function record(violation: Omit<Violation, 'message'>) {
    const detail = violation.errors.map((e) => `${violation.where === 'request' ? 'body' : 'response'}${e.instancePath} ${e.message ?? e.keyword}`).join('; ');
    const message = `${violation.method} ${violation.route} ${violation.where}${violation.status ? ` (${violation.status})` : ''}: ${detail}`;
    violations.push({ ...violation, message });
    return message;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams.entries());
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const entry: RecordedRequest = { method, path, query, status: 0, body: undefined };
    requests.push(entry);
    requestCounter++;
    const requestId = `FAKE:${(requestCounter & 0xffff).toString(16).toUpperCase().padStart(4, '0')}:${(process.pid & 0xffffff).toString(16).toUpperCase()}:${requestCounter.toString(16).toUpperCase().padStart(6, '0')}:${Math.floor(clock().getTime() / 1000).toString(16).toUpperCase()}`;

    let body: unknown;
    let badJson = false;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        badJson = true;
      }
    }
    entry.body = body;

    // Faults come first: the request is not applied (unless afterApply).
    let afterApply: Fault | undefined;
    const fault = faults.pick(method, path);
    if (fault) {
      entry.fault = fault.kind;
      if (fault.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'delay') await sleep(fault.ms);
      else if (fault.kind === 'status' && fault.afterApply) afterApply = fault;
      else return send(res, entry, requestId, faults.reply(fault, requestId)!);
    }

    if (badJson) return send(res, entry, requestId, { status: 400, body: errorBody(400, 'Problems parsing JSON') });
    const write = method !== 'GET' && method !== 'HEAD';
    const auth = authorized(req.headers);
    if (auth === false || (write && auth === undefined)) {
      return send(res, entry, requestId, { status: 401, body: errorBody(401, auth === false ? 'Bad credentials' : 'Requires authentication') });
    }

    let spec: SpecIndex | undefined;
    let operation: SpecOperation | undefined;
    if (validate && !path.startsWith('/_fake/')) {
      spec = await loadSpec();
      operation = findOperation(spec, method, path);
      if (operation) entry.route = operation.template;
    }
    if (spec && operation) {
      const key = `${operation.method} ${operation.template}`;
      const declared = deref(spec, operation.op.requestBody);
      const check = validatorFor(spec, `${key} request`, jsonSchemaOf(spec, declared));
      let errors: ValidationIssue[] | undefined;
      if (body === undefined) {
        if (declared?.required === true) {
          errors = [{ instancePath: '', schemaPath: '#/requestBody/required', keyword: 'required', message: 'is required (no request body sent)', params: {} }];
        }
      } else if (check) {
        if (!check(body)) errors = toIssues(check.errors);
      }
      if (errors) {
        const message = record({ method, path, route: operation.template, where: 'request', errors });
        if (strict) {
          return send(res, entry, requestId, { status: 500, body: errorBody(500, `Fake GitHub: the request violates GitHub's OpenAPI description: ${message}`) });
        }
      }
    }

    let reply: Reply | undefined;
    try {
      for (const r of routes) {
        if (r.method !== method) continue;
        const m = r.regex.exec(path);
        if (!m) continue;
        const params = m.slice(1).map((p) => safeDecode(p ?? ''));
        reply = await r.handler({ method, path, params, query, body, headers: req.headers });
        break;
      }
      reply ??= { status: 404, body: errorBody(404, 'Not Found') };
    } catch (error) {
      if (error instanceof HttpError) reply = error.reply;
      else reply = { status: 500, body: errorBody(500, `Fake GitHub: ${error instanceof Error ? error.stack ?? error.message : String(error)}`) };
    }

    if (afterApply?.kind === 'status') reply = faults.reply(afterApply, requestId)!;
    else if (spec && operation && reply.body !== undefined && !reply.raw) {
      const status = String(reply.status);
      const responses = isObject(operation.op.responses) ? operation.op.responses : {};
      const key = status in responses ? status : 'default' in responses ? 'default' : undefined;
      const check = key ? validatorFor(spec, `${operation.method} ${operation.template} response ${key}`, jsonSchemaOf(spec, responses[key])) : null;
      if (check && !check(reply.body)) {
        record({ method, path, route: operation.template, where: 'response', status: reply.status, errors: toIssues(check.errors) });
      }
    }
    send(res, entry, requestId, reply);
  }

  // ----- server ------------------------------------------------------------------------------

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { ...commonHeaders(`FAKE:ERROR:${requestCounter}`), 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(errorBody(500, `Fake GitHub: ${error instanceof Error ? error.message : String(error)}`)));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  store.base = base;

  const countWhere = (methods: string[], pathFilter?: RegExp) =>
    requests.filter((r) => methods.includes(r.method) && (!pathFilter || pathFilter.test(r.path))).length;

  return {
    url: base,
    port,
    requests,
    violations,
    reads: (pathFilter) => countWhere(['GET', 'HEAD'], pathFilter),
    writes: (pathFilter) => countWhere(['POST', 'PATCH', 'PUT', 'DELETE'], pathFilter),
    clearLog() {
      requests.length = 0;
      violations.length = 0;
    },
    repo: (owner, name) => store.getRepo(owner, name, true),
    addIssue(owner, repoName, seed) {
      const repo = store.getRepo(owner, repoName, true);
      return snapshot(repo, createIssue(store, repo, seed, login));
    },
    addLabel(owner, repoName, label) {
      const repo = store.getRepo(owner, repoName, true);
      return findLabel(repo, label.name) ?? createLabel(store, repo, label.name, normalizeColor(label.color) || undefined, label.description ?? null);
    },
    issues(owner, repoName) {
      const repo = store.getRepo(owner, repoName, true);
      return [...repo.issues.values()].sort((a, b) => a.number - b.number).map((i) => snapshot(repo, i));
    },
    addComment(owner, repoName, issueNumber, body, user) {
      const repo = store.getRepo(owner, repoName, true);
      const issue = repo.issues.get(issueNumber);
      if (!issue) throw new Error(`fake GitHub: ${owner}/${repoName} has no issue #${issueNumber}`);
      const comment = addComment(store, repo, issue, body, user);
      return { id: comment.id, url: `https://github.com/${repo.full_name}/issues/${issueNumber}#issuecomment-${comment.id}` };
    },
    editComment(owner, repoName, id, body) {
      const repo = store.getRepo(owner, repoName, true);
      const comment = repo.comments.get(id);
      if (!comment) throw new Error(`fake GitHub: ${owner}/${repoName} has no comment ${id}`);
      if (body === null) {
        repo.comments.delete(id);
        const issue = repo.issues.get(comment.issueNumber);
        if (issue) issue.commentIds = issue.commentIds.filter((c) => c !== id);
        return;
      }
      comment.body = body;
      comment.updated_at = store.now();
    },
    comments(owner, repoName, issueNumber) {
      const repo = store.getRepo(owner, repoName, true);
      return (repo.issues.get(issueNumber)?.commentIds ?? []).flatMap((id) => {
        const c = repo.comments.get(id);
        return c ? [{ id: c.id, user: c.user, body: c.body, created_at: c.created_at, updated_at: c.updated_at, reactions: (c.reactions ?? []).map((r) => ({ user: r.user, content: r.content })) }] : [];
      });
    },
    setCollaborator(owner, repoName, login, role) {
      store.getRepo(owner, repoName, true).collaborators.set(login.toLowerCase(), role);
    },
    addTeamMember(org, slug, login) {
      const key = `${org}/${slug}`.toLowerCase();
      const members = store.teams.get(key) ?? new Set<string>();
      members.add(login.toLowerCase());
      store.teams.set(key, members);
    },
    labels(owner, repoName) {
      return [...store.getRepo(owner, repoName, true).labels.values()].map((l) => ({ name: l.name, color: l.color, description: l.description }));
    },
    addRelease: (owner, repoName, tag, assets, opts) => addRelease(store, store.getRepo(owner, repoName, true), tag, assets, opts),
    commitFile(owner, repoName, branchName, path, content, message = `Update ${path}`) {
      const repo = store.getRepo(owner, repoName, true);
      let branch = repo.branches.get(branchName);
      if (!branch) {
        branch = store.newBranch(repo.branches.get(repo.default_branch));
        repo.branches.set(branchName, branch);
      }
      if (content === null) branch.files.delete(path);
      else branch.files.set(path, typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content));
      const record = store.commit(branch, message, [path], 'someone-else');
      const data = branch.files.get(path);
      return { sha: data ? gitBlobSha(data) : null, commit: record.sha };
    },
    readFile: (owner, repoName, branchName, path) => store.getRepo(owner, repoName, true).branches.get(branchName)?.files.get(path)?.toString('utf8'),
    files: (owner, repoName, branchName) => [...(store.getRepo(owner, repoName, true).branches.get(branchName)?.files.keys() ?? [])].sort(),
    commits: (owner, repoName, branchName) => [...(store.getRepo(owner, repoName, true).branches.get(branchName)?.commits ?? [])],
    inject: (fault) => faults.inject(fault),
    clearFaults() {
      faults.clear();
    },
    faultRate(p, seed = 1) {
      faults.rate(p, seed);
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
