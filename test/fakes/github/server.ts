/**
 * A stateful fake of the GitHub REST API for tests (GitHub cannot be reached from here).
 *
 * - Serves the routes @octokit/rest calls for issues, labels, comments, releases and their
 *   assets, and repository contents (a branch-per-store file tree with blob shas and 409s).
 * - Checks every request body and JSON response body on a documented route against GitHub's
 *   own OpenAPI description (@octokit/openapi), recording violations in `fake.violations`.
 *   The description is read once per process, on the first request (or `loadGitHubOpenApi()`);
 *   each operation's validators compile on first use. Not checked: statuses the description does
 *   not document for the operation, injected fault answers, and the fake's own /_fake/ download
 *   URLs. OpenAPI 3.0 `nullable` is rewritten for Ajv and `oneOf` is checked as `anyOf`.
 * - Injects faults (5xx, secondary and primary rate limits, connection resets, delays), either
 *   one by one with `inject` or at random with `faultRate(p, seed)`.
 *
 * Usage: `const fake = await startFakeGitHub(); new Octokit({ auth: 't', baseUrl: fake.url })`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

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

export interface ValidationIssue {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

export interface Violation {
  method: string;
  path: string;
  /** OpenAPI path template, e.g. `/repos/{owner}/{repo}/issues`. */
  route: string;
  where: 'request' | 'response';
  /** Response status whose schema was violated (response violations only). */
  status?: number;
  errors: ValidationIssue[];
  /** One-line summary, e.g. `POST /repos/{owner}/{repo}/issues request: body/title must be string`. */
  message: string;
}

export interface FaultMatch {
  method?: string;
  /** Tested against the request path (without query). */
  path?: RegExp;
}

interface FaultCommon {
  /** How many matching requests this fault answers (default 1; Infinity for all). */
  times?: number;
  match?: FaultMatch;
}

export type Fault =
  | (FaultCommon & { kind: 'status'; status: 500 | 502 | 503; /** Apply the request, then answer with the status anyway. */ afterApply?: boolean })
  | (FaultCommon & { kind: 'secondary-rate-limit'; /** Seconds, sent as `retry-after`. */ retryAfter: number })
  | (FaultCommon & { kind: 'rate-limit'; /** Seconds until `x-ratelimit-reset` (default 60). */ resetIn?: number })
  | (FaultCommon & { kind: 'reset' })
  | (FaultCommon & { kind: 'delay'; ms: number });

export interface FaultHandle {
  readonly fault: Fault;
  /** Requests this fault has answered so far. */
  readonly hits: number;
  /** Requests it will still answer. */
  readonly remaining: number;
  cancel(): void;
}

export type StateReason = 'completed' | 'not_planned' | 'duplicate' | 'reopened';

export interface LabelState {
  id: number;
  node_id: string;
  name: string;
  color: string;
  description: string | null;
  default: boolean;
}

export interface CommentState {
  id: number;
  node_id: string;
  issueNumber: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

export interface IssueState {
  id: number;
  node_id: string;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: StateReason | null;
  labelIds: number[];
  commentIds: number[];
  user: string;
  locked: boolean;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  closed_by: string | null;
}

export interface AssetState {
  id: number;
  node_id: string;
  name: string;
  label: string | null;
  content_type: string;
  data: Buffer;
  digest: string;
  download_count: number;
  created_at: string;
  updated_at: string;
}

export interface ReleaseState {
  id: number;
  node_id: string;
  tag_name: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  target_commitish: string;
  created_at: string;
  published_at: string | null;
  assets: AssetState[];
}

export interface CommitRecord {
  sha: string;
  message: string;
  /** Paths written (or deleted) by the commit. */
  paths: string[];
  author: string;
  date: string;
}

export interface BranchState {
  /** Path → content. */
  files: Map<string, Buffer>;
  /** Sha of the head commit. */
  head: string;
  commits: CommitRecord[];
}

export interface FakeRepo {
  owner: string;
  name: string;
  full_name: string;
  id: number;
  default_branch: string;
  issues: Map<number, IssueState>;
  labels: Map<number, LabelState>;
  comments: Map<number, CommentState>;
  releases: ReleaseState[];
  branches: Map<string, BranchState>;
}

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

export interface ReleaseOptions {
  name?: string;
  body?: string;
  draft?: boolean;
  prerelease?: boolean;
  /** Content type per asset name (default guessed from the extension). */
  contentTypes?: Record<string, string>;
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

// ---------------------------------------------------------------------------------------------
// OpenAPI description: loaded and indexed once per process, lazily
// ---------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const Ajv = AjvModule.default;
type AjvInstance = InstanceType<typeof Ajv>;
const addFormats = addFormatsModule.default;

/** Component schemas are registered in Ajv under this base, one by one, as operations need them. */
const SCHEMA_BASE = 'https://fake-github.invalid/components/schemas/';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head'] as const;

export interface SpecLoadStats {
  file: string;
  bytes: number;
  paths: number;
  operations: number;
  /** Reading, parsing and indexing the description: what the first request waits for. */
  readMs: number;
  parseMs: number;
  indexMs: number;
  totalMs: number;
  /** Time spent compiling validators so far (each operation/status compiles once, on first use). */
  compileMs: number;
  validators: number;
  componentSchemas: number;
  /** Schemas Ajv could not compile (their operations go unchecked). */
  compileErrors: string[];
}

interface SpecOperation {
  template: string;
  method: string;
  op: JsonObject;
}

interface SpecRoute {
  template: string;
  regex: RegExp;
  /** Literal-before-parameter sort key. */
  rank: string;
  methods: Map<string, SpecOperation>;
}

interface SpecIndex {
  stats: SpecLoadStats;
  routes: SpecRoute[];
  doc: JsonObject;
  schemas: JsonObject;
  ajv: AjvInstance;
  /** Component schemas already added to Ajv. */
  registered: Set<string>;
  validators: Map<string, ValidateFunction | null>;
}

let specPromise: Promise<SpecIndex> | undefined;

/** Loads and indexes GitHub's OpenAPI description (once per process); the fake calls it on its first request. */
export async function loadGitHubOpenApi(): Promise<SpecLoadStats> {
  const { stats } = await loadSpec();
  return { ...stats, compileErrors: [...stats.compileErrors] };
}

/** Load and compile statistics so far, or undefined when the description has not been loaded. */
export async function gitHubOpenApiStats(): Promise<SpecLoadStats | undefined> {
  if (!specPromise) return undefined;
  const { stats } = await specPromise;
  return { ...stats, compileErrors: [...stats.compileErrors] };
}

function loadSpec(): Promise<SpecIndex> {
  specPromise ??= buildSpecIndex();
  return specPromise;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'example', 'examples']);
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', 'definitions', '$defs']);
const COMPONENT_REF = /^#\/components\/schemas\/(.+)$/;

/**
 * Rewrites OpenAPI 3.0 schema dialect into JSON Schema Ajv can check: `nullable: true` becomes
 * `anyOf: [{type: 'null'}, schema]` (this also covers nullable enums and nullable oneOf, which
 * Ajv's own `nullable` support rejects or gets wrong); `oneOf` becomes `anyOf`;
 * `#/components/schemas/x` refs become absolute ids; examples and `x-` extensions are dropped.
 */
function normalizeSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(normalizeSchema);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  let nullable = false;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'nullable') {
      nullable = value === true;
      continue;
    }
    if (key === 'example' || key === 'examples' || key.startsWith('x-')) continue;
    if (key === 'oneOf') {
      // GitHub's description uses oneOf for alternatives that overlap (basic-error vs
      // repository-rule-violation-error, nullable string vs nullable integer, …): real GitHub
      // answers match several of them, so they are checked as anyOf.
      out.anyOf = normalizeSchema(value);
    } else if (key === '$ref' && typeof value === 'string') {
      const ref = COMPONENT_REF.exec(value);
      out[key] = ref ? SCHEMA_BASE + ref[1] : value;
    } else if (DATA_KEYWORDS.has(key)) out[key] = value;
    else if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, normalizeSchema(schema)]));
    } else out[key] = normalizeSchema(value);
  }
  return nullable ? { anyOf: [{ type: 'null' }, out] } : out;
}

function templateRegex(template: string): { regex: RegExp; rank: string } {
  const segments = template.split('/').slice(1);
  let rank = '';
  const parts = segments.map((segment, i) => {
    const param = /^\{([^}]+)\}$/.exec(segment);
    rank += param ? '1' : '0';
    if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // A trailing {path} (repository contents) spans several segments.
    if (param[1] === 'path' && i === segments.length - 1) return '(.*)';
    return '([^/]+)';
  });
  return { regex: new RegExp(`^/${parts.join('/')}/?$`), rank };
}

async function buildSpecIndex(): Promise<SpecIndex> {
  const started = performance.now();
  const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
  const text = await readFile(file, 'utf8');
  const read = performance.now();
  const doc = JSON.parse(text) as JsonObject;
  const parsed = performance.now();
  if (typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.0')) {
    throw new Error(`fake GitHub: expected an OpenAPI 3.0 description in ${file}, got ${String(doc.openapi)}`);
  }
  const routes: SpecRoute[] = [];
  let operations = 0;
  for (const [template, item] of Object.entries(doc.paths as JsonObject)) {
    if (!isObject(item)) continue;
    const methods = new Map<string, SpecOperation>();
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      methods.set(method.toUpperCase(), { template, method: method.toUpperCase(), op });
      operations++;
    }
    const { regex, rank } = templateRegex(template);
    routes.push({ template, regex, rank, methods });
  }
  // Literal segments win over parameters at the first place two templates differ (…/releases/latest before …/releases/{release_id}).
  routes.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));

  // OpenAPI 3.0 is not JSON Schema 2020-12: default (draft-07) Ajv, non-strict, with `nullable` rewritten above.
  // inlineRefs off and unoptimized code keep the compile of GitHub's large, heavily shared schemas quick.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, logger: false, inlineRefs: false, code: { optimize: false } });
  addFormats(ajv);
  ajv.addFormat('repo.nwo', /^[^/]+\/[^/]+$/);
  const done = performance.now();
  return {
    stats: {
      file,
      bytes: Buffer.byteLength(text, 'utf8'),
      paths: routes.length,
      operations,
      readMs: Math.round(read - started),
      parseMs: Math.round(parsed - read),
      indexMs: Math.round(done - parsed),
      totalMs: Math.round(done - started),
      compileMs: 0,
      validators: 0,
      componentSchemas: 0,
      compileErrors: [],
    },
    routes,
    doc,
    schemas: (doc.components as JsonObject).schemas as JsonObject,
    ajv,
    registered: new Set(),
    validators: new Map(),
  };
}

function findOperation(spec: SpecIndex, method: string, path: string): SpecOperation | undefined {
  for (const route of spec.routes) {
    if (!route.regex.test(path)) continue;
    const op = route.methods.get(method);
    if (op) return op;
  }
  return undefined;
}

function resolvePointer(root: JsonObject, pointer: string): Json | undefined {
  let node: Json | undefined = root;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node)) return undefined;
    node = node[token];
  }
  return node;
}

/** Follows a local `$ref` on a request body or response object. */
function deref(spec: SpecIndex, node: Json | undefined): JsonObject | undefined {
  if (isObject(node) && typeof node.$ref === 'string' && node.$ref.startsWith('#')) node = resolvePointer(spec.doc, node.$ref.slice(1));
  return isObject(node) ? node : undefined;
}

/** The JSON schema of a request body or response object, if it declares `application/json` content. */
function jsonSchemaOf(spec: SpecIndex, container: Json | undefined): Json | undefined {
  const content = deref(spec, container)?.content;
  if (!isObject(content)) return undefined;
  const media = content['application/json'];
  return isObject(media) ? media.schema : undefined;
}

/** Adds every component schema `schema` reaches to Ajv (once each), so compiled components are shared. */
function registerComponents(spec: SpecIndex, schema: Json) {
  const queue: Json[] = [schema];
  while (queue.length > 0) {
    const node = queue.pop();
    if (Array.isArray(node)) {
      queue.push(...node);
      continue;
    }
    if (!isObject(node)) continue;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(SCHEMA_BASE)) {
        const name = value.slice(SCHEMA_BASE.length);
        if (spec.registered.has(name) || spec.schemas[name] === undefined) continue;
        spec.registered.add(name);
        const normalized = { $id: value, ...(normalizeSchema(spec.schemas[name]) as JsonObject) };
        spec.ajv.addSchema(normalized, undefined, undefined, false);
        queue.push(normalized);
      } else if (typeof value === 'object' && value !== null && !DATA_KEYWORDS.has(key)) queue.push(value);
    }
  }
}

function validatorFor(spec: SpecIndex, key: string, schema: Json | undefined): ValidateFunction | null {
  if (schema === undefined) return null;
  let validate = spec.validators.get(key);
  if (validate === undefined) {
    const started = performance.now();
    try {
      const normalized = normalizeSchema(schema);
      registerComponents(spec, normalized);
      validate = spec.ajv.compile(isObject(normalized) ? normalized : { allOf: [normalized] });
    } catch (error) {
      validate = null;
      spec.stats.compileErrors.push(`${key}: ${error instanceof Error ? error.message : String(error)}`);
    }
    spec.validators.set(key, validate);
    spec.stats.compileMs += Math.round(performance.now() - started);
    spec.stats.validators = spec.validators.size;
    spec.stats.componentSchemas = spec.registered.size;
  }
  return validate;
}

function toIssues(errors: ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((e) => ({
    instancePath: e.instancePath,
    schemaPath: e.schemaPath,
    keyword: e.keyword,
    message: e.message,
    params: e.params as Record<string, unknown>,
  }));
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const HTML = 'https://github.com';
const DOCS = 'https://docs.github.com/rest';

function sha1(data: string | Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Git's blob id: sha1("blob <len>\0" + content). */
export function gitBlobSha(content: string | Uint8Array): string {
  const buffer = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
  return createHash('sha1').update(`blob ${buffer.length}\0`).update(buffer).digest('hex');
}

function nodeId(prefix: string, id: number): string {
  return `${prefix}_${Buffer.from(`fake:${prefix}:${id}`).toString('base64url')}`;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function wrapBase64(data: Buffer): string {
  const b64 = data.toString('base64');
  const lines = b64.match(/.{1,60}/g) ?? [];
  return lines.map((line) => `${line}\n`).join('');
}

function guessContentType(name: string): string {
  if (/\.txt$/i.test(name)) return 'text/plain';
  if (/\.json$/i.test(name)) return 'application/json';
  if (/\.(gz|tgz)$/i.test(name)) return 'application/gzip';
  if (/\.csv$/i.test(name)) return 'text/csv';
  return 'application/octet-stream';
}

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Reply {
  status: number;
  /** JSON body. */
  body?: unknown;
  /** Raw body (wins over `body`). */
  raw?: Buffer;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(String((reply.body as { message?: string } | undefined)?.message ?? reply.status));
  }
}

function errorBody(status: number, message: string, documentation_url = DOCS): Record<string, string> {
  return { message, documentation_url, status: String(status) };
}

function fail(status: number, message: string, documentation_url?: string): never {
  throw new HttpError({ status, body: errorBody(status, message, documentation_url) });
}

function validationFailed(errors: { resource: string; code: string; field?: string; message?: string }[], documentation_url?: string): never {
  throw new HttpError({ status: 422, body: { message: 'Validation Failed', errors, documentation_url: documentation_url ?? DOCS, status: '422' } });
}

/** GitHub's length limits, counted in characters (code points) like GitHub does. */
const LIMITS = { issueTitle: 256, body: 65_536, labelName: 50, labelDescription: 100 } as const;

function checkLength(resource: string, field: string, value: unknown, max: number, documentation_url?: string) {
  if (typeof value === 'string' && [...value].length > max) {
    validationFailed([{ resource, code: 'custom', field, message: `${field} is too long (maximum is ${max} characters)` }], documentation_url);
  }
}

interface Context {
  method: string;
  path: string;
  params: string[];
  query: Record<string, string>;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

type Handler = (ctx: Context) => Reply | Promise<Reply>;

interface Route {
  method: string;
  regex: RegExp;
  handler: Handler;
}

function route(method: string, pattern: string, handler: Handler): Route {
  const source = pattern
    .split('/')
    .map((segment) => (segment === '*' ? '(.*)' : segment.startsWith(':') ? '([^/]+)' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return { method, regex: new RegExp(`^${source}/?$`), handler };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function bodyObject(ctx: Context): Record<string, unknown> {
  return isObject(ctx.body) ? (ctx.body as Record<string, unknown>) : {};
}

// ---------------------------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------------------------

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const strict = options.strict ?? true;
  const validate = options.validate ?? true;
  const login = options.login ?? 'fake-user';
  const defaultBranch = options.defaultBranch ?? 'main';
  const autoCreate = options.autoCreateRepos ?? true;
  const clock = options.now ?? (() => new Date());
  const rateLimit = options.rateLimit ?? 5000;

  const requests: RecordedRequest[] = [];
  const violations: Violation[] = [];
  const repos = new Map<string, FakeRepo>();
  const assetsById = new Map<number, { repo: FakeRepo; release: ReleaseState; asset: AssetState }>();
  let nextId = 1_000_001;
  let requestCounter = 0;
  let base = '';

  const rate = { used: 0, reset: Math.floor(clock().getTime() / 1000) + 3600 };
  const faults: { fault: Fault; hits: number; remaining: number }[] = [];
  let random: { p: number; next: () => number } | undefined;

  const now = () => clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const newId = () => nextId++;

  // ----- state -------------------------------------------------------------------------------

  function userJson(name: string) {
    const id = 100_000 + (parseInt(sha1(name).slice(0, 6), 16) % 900_000);
    const url = `${base}/users/${name}`;
    return {
      login: name,
      id,
      node_id: nodeId('U', id),
      avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
      gravatar_id: '',
      url,
      html_url: `${HTML}/${name}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: 'User',
      user_view_type: 'public',
      site_admin: false,
    };
  }

  function newBranch(from?: BranchState): BranchState {
    if (from) return { files: new Map(from.files), head: from.head, commits: [...from.commits] };
    const head = sha1(`root:${newId()}`);
    gitCommits.set(head, { tree: storeFiles(new Map()), parents: [], root: true, record: { sha: head, message: 'Initial commit', paths: [], author: login, date: now() } });
    return { files: new Map(), head, commits: [] };
  }

  // ----- git objects -------------------------------------------------------------------------
  // Content-addressed, shared by every repository of the fake: blobs by git blob sha, trees as a
  // flat map of file path → blob sha (every folder is a tree too), commits with their tree and
  // parents. Each branch commit (contents API, `commitFile`, git data API) is recorded here, so
  // the contents API and the git data API see the same history.

  interface GitCommitObject {
    tree: string;
    parents: string[];
    /** The implicit first commit of a fake repository: not listed in `commits()`. */
    root?: boolean;
    record: CommitRecord;
  }

  const blobs = new Map<string, Buffer>();
  const trees = new Map<string, Map<string, string>>();
  const gitCommits = new Map<string, GitCommitObject>();

  function storeBlob(data: Buffer): string {
    const sha = gitBlobSha(data);
    blobs.set(sha, data);
    return sha;
  }

  /** Stores a flat tree (path → blob sha) and every folder in it; returns the tree's sha. */
  function storeTree(flat: Map<string, string>): string {
    const sorted = [...flat.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sha = sha1(`tree\n${sorted.map(([path, blob]) => `${path} ${blob}\n`).join('')}`);
    if (trees.has(sha)) return sha;
    trees.set(sha, new Map(sorted));
    for (const dir of new Set(sorted.filter(([path]) => path.includes('/')).map(([path]) => path.slice(0, path.indexOf('/'))))) {
      storeTree(subtree(flat, dir));
    }
    return sha;
  }

  function subtree(flat: Map<string, string>, dir: string): Map<string, string> {
    const prefix = `${dir}/`;
    return new Map([...flat].filter(([path]) => path.startsWith(prefix)).map(([path, blob]) => [path.slice(prefix.length), blob]));
  }

  function storeFiles(files: Map<string, Buffer>): string {
    return storeTree(new Map([...files].map(([path, data]) => [path, storeBlob(data)])));
  }

  /** The files of a stored tree. */
  function materialize(treeSha: string): Map<string, Buffer> {
    const flat = trees.get(treeSha) ?? new Map<string, string>();
    return new Map([...flat].map(([path, blob]) => [path, blobs.get(blob)!]));
  }

  /** Commits from `tip` back to (not including) `stop`, oldest first; undefined when `stop` is not an ancestor. */
  function commitsSince(tip: string, stop: string | undefined): CommitRecord[] | undefined {
    const chain: CommitRecord[] = [];
    let sha: string | undefined = tip;
    while (sha !== undefined && sha !== stop) {
      const object = gitCommits.get(sha);
      if (!object) return undefined;
      if (!object.root) chain.push(object.record);
      sha = object.parents[0];
    }
    if (stop !== undefined && sha !== stop) return undefined;
    return chain.reverse();
  }

  function getRepo(owner: string, name: string, create = autoCreate): FakeRepo {
    const key = `${owner}/${name}`.toLowerCase();
    let repo = repos.get(key);
    if (!repo) {
      if (!create) fail(404, 'Not Found');
      const id = newId();
      repo = {
        owner,
        name,
        full_name: `${owner}/${name}`,
        id,
        default_branch: defaultBranch,
        issues: new Map(),
        labels: new Map(),
        comments: new Map(),
        releases: [],
        branches: new Map([[defaultBranch, newBranch()]]),
      };
      repos.set(key, repo);
    }
    return repo;
  }

  const repoApi = (repo: FakeRepo) => `${base}/repos/${repo.full_name}`;

  function findLabel(repo: FakeRepo, name: string): LabelState | undefined {
    const wanted = name.toLowerCase();
    for (const label of repo.labels.values()) if (label.name.toLowerCase() === wanted) return label;
    return undefined;
  }

  function normalizeColor(color: unknown): string | undefined {
    if (color === undefined || color === null) return undefined;
    const value = String(color).replace(/^#/, '');
    return /^[0-9a-fA-F]{6}$/.test(value) ? value.toLowerCase() : '';
  }

  function createLabel(repo: FakeRepo, name: string, color?: string, description?: string | null): LabelState {
    const id = newId();
    const label: LabelState = { id, node_id: nodeId('LA', id), name, color: color ?? 'ededed', description: description ?? null, default: false };
    repo.labels.set(id, label);
    return label;
  }

  /** Label names (or `{name}` objects) to ids, creating unknown labels as GitHub does. */
  function labelIds(repo: FakeRepo, labels: unknown): number[] {
    const list = Array.isArray(labels) ? labels : labels === undefined || labels === null ? [] : [labels];
    const ids: number[] = [];
    for (const entry of list) {
      const name = typeof entry === 'string' ? entry : isObject(entry) && typeof entry.name === 'string' ? entry.name : undefined;
      if (name === undefined || name.trim() === '') continue;
      const label = findLabel(repo, name.trim()) ?? createLabel(repo, name.trim());
      if (!ids.includes(label.id)) ids.push(label.id);
    }
    return ids;
  }

  function labelJson(repo: FakeRepo, label: LabelState) {
    return {
      id: label.id,
      node_id: label.node_id,
      url: `${repoApi(repo)}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      color: label.color,
      default: label.default,
      description: label.description,
    };
  }

  function reactions(url: string) {
    return { url: `${url}/reactions`, total_count: 0, '+1': 0, '-1': 0, laugh: 0, hooray: 0, confused: 0, heart: 0, rocket: 0, eyes: 0 };
  }

  function issueJson(repo: FakeRepo, issue: IssueState) {
    const url = `${repoApi(repo)}/issues/${issue.number}`;
    return {
      url,
      repository_url: repoApi(repo),
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `${HTML}/${repo.full_name}/issues/${issue.number}`,
      id: issue.id,
      node_id: issue.node_id,
      number: issue.number,
      title: issue.title,
      user: userJson(issue.user),
      labels: issue.labelIds.flatMap((id) => {
        const label = repo.labels.get(id);
        return label ? [labelJson(repo, label)] : [];
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
      closed_by: issue.closed_by ? userJson(issue.closed_by) : null,
      author_association: 'OWNER',
      active_lock_reason: null,
      body: issue.body,
      reactions: reactions(url),
      timeline_url: `${url}/timeline`,
      performed_via_github_app: null,
      state_reason: issue.state_reason,
    };
  }

  function commentJson(repo: FakeRepo, comment: CommentState) {
    const url = `${repoApi(repo)}/issues/comments/${comment.id}`;
    return {
      url,
      html_url: `${HTML}/${repo.full_name}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${repoApi(repo)}/issues/${comment.issueNumber}`,
      id: comment.id,
      node_id: comment.node_id,
      user: userJson(comment.user),
      created_at: comment.created_at,
      updated_at: comment.updated_at,
      author_association: 'OWNER',
      body: comment.body,
      reactions: reactions(url),
      performed_via_github_app: null,
    };
  }

  function assetJson(repo: FakeRepo, release: ReleaseState, asset: AssetState) {
    return {
      url: `${repoApi(repo)}/releases/assets/${asset.id}`,
      browser_download_url: `${base}/_fake/github.com/${repo.full_name}/releases/download/${encodeURIComponent(release.tag_name)}/${encodeURIComponent(asset.name)}`,
      id: asset.id,
      node_id: asset.node_id,
      name: asset.name,
      label: asset.label,
      state: 'uploaded',
      content_type: asset.content_type,
      size: asset.data.length,
      digest: asset.digest,
      download_count: asset.download_count,
      created_at: asset.created_at,
      updated_at: asset.updated_at,
      uploader: userJson(login),
    };
  }

  function releaseJson(repo: FakeRepo, release: ReleaseState) {
    const url = `${repoApi(repo)}/releases/${release.id}`;
    return {
      url,
      html_url: `${HTML}/${repo.full_name}/releases/tag/${encodeURIComponent(release.tag_name)}`,
      assets_url: `${url}/assets`,
      upload_url: `https://uploads.github.com/repos/${repo.full_name}/releases/${release.id}/assets{?name,label}`,
      tarball_url: `${repoApi(repo)}/tarball/${encodeURIComponent(release.tag_name)}`,
      zipball_url: `${repoApi(repo)}/zipball/${encodeURIComponent(release.tag_name)}`,
      id: release.id,
      node_id: release.node_id,
      tag_name: release.tag_name,
      target_commitish: release.target_commitish,
      name: release.name,
      body: release.body,
      draft: release.draft,
      prerelease: release.prerelease,
      immutable: false,
      created_at: release.created_at,
      updated_at: release.created_at,
      published_at: release.published_at,
      author: userJson(login),
      assets: release.assets.map((asset) => assetJson(repo, release, asset)),
    };
  }

  function snapshot(repo: FakeRepo, issue: IssueState): IssueSnapshot {
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

  function createIssue(repo: FakeRepo, input: SeedIssue, user: string): IssueState {
    const id = newId();
    const at = now();
    const issue: IssueState = {
      id,
      node_id: nodeId('I', id),
      number: repo.issues.size + 1,
      title: input.title,
      body: input.body ?? null,
      state: 'open',
      state_reason: null,
      labelIds: labelIds(repo, input.labels ?? []),
      commentIds: [],
      user,
      locked: false,
      created_at: at,
      updated_at: at,
      closed_at: null,
      closed_by: null,
    };
    repo.issues.set(issue.number, issue);
    if (input.state === 'closed') setState(issue, 'closed', input.state_reason ?? 'completed', user);
    for (const body of input.comments ?? []) addComment(repo, issue, body, user);
    return issue;
  }

  function setState(issue: IssueState, state: 'open' | 'closed', reason: StateReason | null | undefined, user: string) {
    if (state === 'closed') {
      if (issue.state !== 'closed') {
        issue.closed_at = now();
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

  function addComment(repo: FakeRepo, issue: IssueState, body: string, user: string): CommentState {
    const id = newId();
    const at = now();
    const comment: CommentState = { id, node_id: nodeId('IC', id), issueNumber: issue.number, body, user, created_at: at, updated_at: at };
    repo.comments.set(id, comment);
    issue.commentIds.push(id);
    issue.updated_at = at;
    return comment;
  }

  function addReleaseTo(repo: FakeRepo, tag: string, assets: Record<string, string | Uint8Array>, opts: ReleaseOptions = {}): ReleaseState {
    const id = newId();
    const at = now();
    const release: ReleaseState = {
      id,
      node_id: nodeId('RE', id),
      tag_name: tag,
      name: opts.name ?? tag,
      body: opts.body ?? null,
      draft: opts.draft ?? false,
      prerelease: opts.prerelease ?? false,
      target_commitish: repo.default_branch,
      created_at: at,
      published_at: opts.draft ? null : at,
      assets: [],
    };
    for (const [name, content] of Object.entries(assets)) {
      const assetId = newId();
      const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
      const asset: AssetState = {
        id: assetId,
        node_id: nodeId('RA', assetId),
        name,
        label: '',
        content_type: opts.contentTypes?.[name] ?? guessContentType(name),
        data,
        digest: `sha256:${createHash('sha256').update(data).digest('hex')}`,
        download_count: 0,
        created_at: at,
        updated_at: at,
      };
      release.assets.push(asset);
      assetsById.set(assetId, { repo, release, asset });
    }
    repo.releases = repo.releases.filter((r) => r.tag_name !== tag);
    repo.releases.push(release);
    return release;
  }

  /** `heads/<branch>` (a ref without `refs/`) → the branch name; other refs → undefined. */
  function headsName(ref: string): string | undefined {
    return /^heads\/./.test(ref) ? ref.slice('heads/'.length) : undefined;
  }

  function branchOf(repo: FakeRepo, ref: string | undefined): BranchState | undefined {
    const name = (ref ?? repo.default_branch).replace(/^refs\/heads\//, '').replace(/^heads\//, '');
    return repo.branches.get(name);
  }

  function commit(branch: BranchState, message: string, paths: string[], author: string): CommitRecord {
    const record: CommitRecord = { sha: sha1(`commit:${branch.head}:${newId()}:${message}`), message, paths, author, date: now() };
    gitCommits.set(record.sha, { tree: storeFiles(branch.files), parents: [branch.head], record });
    branch.head = record.sha;
    branch.commits.push(record);
    return record;
  }

  // ----- serialization of contents -----------------------------------------------------------

  function entryJson(repo: FakeRepo, branchName: string, path: string, type: 'file' | 'dir', data?: Buffer) {
    const sha = type === 'file' ? gitBlobSha(data!) : sha1(`tree:${branchName}:${path}`);
    const url = `${repoApi(repo)}/contents/${encodePath(path)}?ref=${encodeURIComponent(branchName)}`;
    const git_url = `${repoApi(repo)}/git/${type === 'file' ? 'blobs' : 'trees'}/${sha}`;
    const html_url = `${HTML}/${repo.full_name}/${type === 'file' ? 'blob' : 'tree'}/${encodePath(branchName)}/${encodePath(path)}`;
    return {
      name: path.split('/').pop()!,
      path,
      sha,
      size: data?.length ?? 0,
      url,
      html_url,
      git_url,
      download_url: type === 'file' ? `${base}/_fake/raw/${repo.full_name}/${encodePath(branchName)}/${encodePath(path)}` : null,
      type,
      _links: { self: url, git: git_url, html: html_url },
    };
  }

  function commitJson(repo: FakeRepo, record: CommitRecord, parent: string) {
    const person = { name: record.author, email: `${record.author}@users.noreply.github.com`, date: record.date };
    return {
      sha: record.sha,
      node_id: nodeId('C', parseInt(record.sha.slice(0, 8), 16)),
      url: `${repoApi(repo)}/git/commits/${record.sha}`,
      html_url: `${HTML}/${repo.full_name}/commit/${record.sha}`,
      author: person,
      committer: person,
      message: record.message,
      tree: { url: `${repoApi(repo)}/git/trees/${gitCommits.get(record.sha)?.tree}`, sha: gitCommits.get(record.sha)?.tree ?? sha1(`tree:${record.sha}`) },
      parents: [{ url: `${repoApi(repo)}/git/commits/${parent}`, html_url: `${HTML}/${repo.full_name}/commit/${parent}`, sha: parent }],
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  // ----- serialization of git objects and repositories ---------------------------------------

  function gitCommitJson(repo: FakeRepo, sha: string) {
    const object = gitCommits.get(sha)!;
    const person = { name: object.record.author, email: `${object.record.author}@users.noreply.github.com`, date: object.record.date };
    return {
      sha,
      node_id: nodeId('C', parseInt(sha.slice(0, 8), 16)),
      url: `${repoApi(repo)}/git/commits/${sha}`,
      html_url: `${HTML}/${repo.full_name}/commit/${sha}`,
      author: person,
      committer: person,
      message: object.record.message,
      tree: { url: `${repoApi(repo)}/git/trees/${object.tree}`, sha: object.tree },
      parents: object.parents.map((parent) => ({ url: `${repoApi(repo)}/git/commits/${parent}`, html_url: `${HTML}/${repo.full_name}/commit/${parent}`, sha: parent })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  function refJson(repo: FakeRepo, branchName: string, head: string) {
    const ref = `refs/heads/${branchName}`;
    return {
      ref,
      node_id: nodeId('REF', parseInt(sha1(`${repo.full_name}:${ref}`).slice(0, 8), 16)),
      url: `${repoApi(repo)}/git/${ref}`,
      object: { type: 'commit', sha: head, url: `${repoApi(repo)}/git/commits/${head}` },
    };
  }

  /** A tree's entries: its files and folders, or (recursive) everything below it. */
  function treeJson(repo: FakeRepo, treeSha: string, recursive: boolean) {
    const flat = trees.get(treeSha)!;
    const entries: { path: string; mode: string; type: string; sha: string; size?: number; url: string }[] = [];
    const dirs = new Set<string>();
    for (const path of flat.keys()) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    for (const dir of dirs) {
      if (!recursive && dir.includes('/')) continue;
      const sha = storeTree(subtree(flat, dir));
      entries.push({ path: dir, mode: '040000', type: 'tree', sha, url: `${repoApi(repo)}/git/trees/${sha}` });
    }
    for (const [path, sha] of flat) {
      if (!recursive && path.includes('/')) continue;
      entries.push({ path, mode: '100644', type: 'blob', sha, size: blobs.get(sha)?.length ?? 0, url: `${repoApi(repo)}/git/blobs/${sha}` });
    }
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { sha: treeSha, url: `${repoApi(repo)}/git/trees/${treeSha}`, tree: entries, truncated: false };
  }

  function repoJson(repo: FakeRepo) {
    const api = repoApi(repo);
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
    const created = now();
    return {
      id: repo.id,
      node_id: nodeId('R', repo.id),
      name: repo.name,
      full_name: repo.full_name,
      owner: userJson(repo.owner),
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

  // ----- pagination --------------------------------------------------------------------------

  function paginate<T>(ctx: Context, items: T[]): { items: T[]; headers: Record<string, string> } {
    const perPage = Math.min(100, Math.max(1, Number.parseInt(ctx.query.per_page ?? '30', 10) || 30));
    const page = Math.max(1, Number.parseInt(ctx.query.page ?? '1', 10) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const headers: Record<string, string> = {};
    if (last > 1) {
      const link = (p: number, rel: string) => {
        const params = new URLSearchParams(ctx.query);
        params.set('page', String(p));
        return `<${base}${ctx.path}?${params.toString()}>; rel="${rel}"`;
      };
      const links: string[] = [];
      if (page > 1) links.push(link(page - 1, 'prev'));
      if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
      if (page > 1) links.push(link(1, 'first'));
      headers.link = links.join(', ');
    }
    return { items: items.slice((page - 1) * perPage, page * perPage), headers };
  }

  const ok = (body: unknown, status = 200, headers?: Record<string, string>): Reply => ({ status, body, headers });

  // ----- routes ------------------------------------------------------------------------------

  const R = '/repos/:owner/:repo';
  const repoOf = (ctx: Context) => getRepo(ctx.params[0]!, ctx.params[1]!);
  const issueOf = (repo: FakeRepo, raw: string | undefined) => {
    const issue = /^\d+$/.test(raw ?? '') ? repo.issues.get(Number(raw)) : undefined;
    return issue ?? fail(404, 'Not Found', `${DOCS}/issues/issues#get-an-issue`);
  };
  const labelOn = (repo: FakeRepo, name: string) => findLabel(repo, name) ?? fail(404, 'Not Found', `${DOCS}/issues/labels#get-a-label`);

  const routes: Route[] = [
    // Issues
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
      const page = paginate(ctx, list);
      return ok(page.items.map((i) => issueJson(repo, i)), 200, page.headers);
    }),
    route('POST', `${R}/issues`, (ctx) => {
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      const title = typeof body.title === 'number' ? String(body.title) : body.title;
      const doc = `${DOCS}/issues/issues#create-an-issue`;
      if (typeof title !== 'string' || title.trim() === '') validationFailed([{ resource: 'Issue', code: 'missing_field', field: 'title' }], doc);
      checkLength('Issue', 'title', title, LIMITS.issueTitle, doc);
      checkLength('Issue', 'body', body.body, LIMITS.body, doc);
      const issue = createIssue(repo, { title, body: typeof body.body === 'string' ? body.body : null, labels: body.labels as string[] | undefined }, login);
      const json = issueJson(repo, issue);
      return ok(json, 201, { location: json.url });
    }),
    route('GET', `${R}/issues/:issue_number`, (ctx) => {
      const repo = repoOf(ctx);
      return ok(issueJson(repo, issueOf(repo, ctx.params[2])));
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
      if (body.labels !== undefined) issue.labelIds = labelIds(repo, body.labels);
      const reason = 'state_reason' in body ? (body.state_reason as StateReason | null) : undefined;
      if (body.state === 'open' || body.state === 'closed') setState(issue, body.state, reason, login);
      else if (reason !== undefined && issue.state === 'closed' && reason !== 'reopened') issue.state_reason = reason ?? 'completed';
      issue.updated_at = now();
      return ok(issueJson(repo, issue));
    }),
    // Comments
    route('GET', `${R}/issues/comments/:comment_id`, (ctx) => {
      const repo = repoOf(ctx);
      const comment = repo.comments.get(Number(ctx.params[2])) ?? fail(404, 'Not Found');
      return ok(commentJson(repo, comment));
    }),
    route('PATCH', `${R}/issues/comments/:comment_id`, (ctx) => {
      const repo = repoOf(ctx);
      const comment = repo.comments.get(Number(ctx.params[2])) ?? fail(404, 'Not Found');
      const body = bodyObject(ctx);
      if (typeof body.body !== 'string' || body.body === '') validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
      checkLength('IssueComment', 'body', body.body, LIMITS.body);
      comment.body = body.body;
      comment.updated_at = now();
      return ok(commentJson(repo, comment));
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
      const page = paginate(ctx, list);
      return ok(page.items.map((c) => commentJson(repo, c)), 200, page.headers);
    }),
    route('POST', `${R}/issues/:issue_number/comments`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      const body = bodyObject(ctx);
      if (typeof body.body !== 'string' || body.body === '') validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
      checkLength('IssueComment', 'body', body.body, LIMITS.body);
      const json = commentJson(repo, addComment(repo, issue, body.body, login));
      return ok(json, 201, { location: json.url });
    }),
    // Labels on an issue
    route('GET', `${R}/issues/:issue_number/labels`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      const page = paginate(ctx, issue.labelIds.flatMap((id) => repo.labels.get(id) ?? []));
      return ok(page.items.map((l) => labelJson(repo, l)), 200, page.headers);
    }),
    ...(['POST', 'PUT'] as const).map((method) =>
      route(method, `${R}/issues/:issue_number/labels`, (ctx) => {
        const repo = repoOf(ctx);
        const issue = issueOf(repo, ctx.params[2]);
        const requested = isObject(ctx.body) ? (ctx.body as { labels?: unknown }).labels : ctx.body;
        const ids = labelIds(repo, requested);
        issue.labelIds = method === 'PUT' ? ids : [...issue.labelIds, ...ids.filter((id) => !issue.labelIds.includes(id))];
        issue.updated_at = now();
        return ok(issue.labelIds.flatMap((id) => (repo.labels.get(id) ? [labelJson(repo, repo.labels.get(id)!)] : [])));
      }),
    ),
    route('DELETE', `${R}/issues/:issue_number/labels`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      issue.labelIds = [];
      issue.updated_at = now();
      return { status: 204 };
    }),
    route('DELETE', `${R}/issues/:issue_number/labels/:name`, (ctx) => {
      const repo = repoOf(ctx);
      const issue = issueOf(repo, ctx.params[2]);
      const label = findLabel(repo, ctx.params[3]!);
      if (!label || !issue.labelIds.includes(label.id)) fail(404, 'Label does not exist', `${DOCS}/issues/labels#remove-a-label-from-an-issue`);
      issue.labelIds = issue.labelIds.filter((id) => id !== label.id);
      issue.updated_at = now();
      return ok(issue.labelIds.flatMap((id) => (repo.labels.get(id) ? [labelJson(repo, repo.labels.get(id)!)] : [])));
    }),
    // Repository labels
    route('GET', `${R}/labels`, (ctx) => {
      const repo = repoOf(ctx);
      const page = paginate(ctx, [...repo.labels.values()]);
      return ok(page.items.map((l) => labelJson(repo, l)), 200, page.headers);
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
      const label = createLabel(repo, body.name.trim(), color, typeof body.description === 'string' ? body.description : null);
      const json = labelJson(repo, label);
      return ok(json, 201, { location: json.url });
    }),
    route('GET', `${R}/labels/:name`, (ctx) => {
      const repo = repoOf(ctx);
      return ok(labelJson(repo, labelOn(repo, ctx.params[2]!)));
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
      return ok(labelJson(repo, label));
    }),
    route('DELETE', `${R}/labels/:name`, (ctx) => {
      const repo = repoOf(ctx);
      const label = labelOn(repo, ctx.params[2]!);
      repo.labels.delete(label.id);
      for (const issue of repo.issues.values()) issue.labelIds = issue.labelIds.filter((id) => id !== label.id);
      return { status: 204 };
    }),
    // Releases
    route('GET', `${R}/releases`, (ctx) => {
      const repo = repoOf(ctx);
      const page = paginate(ctx, [...repo.releases].reverse());
      return ok(page.items.map((r) => releaseJson(repo, r)), 200, page.headers);
    }),
    route('GET', `${R}/releases/latest`, (ctx) => {
      const repo = repoOf(ctx);
      const latest = [...repo.releases].reverse().find((r) => !r.draft && !r.prerelease) ?? fail(404, 'Not Found', `${DOCS}/releases/releases#get-the-latest-release`);
      return ok(releaseJson(repo, latest));
    }),
    route('GET', `${R}/releases/tags/:tag`, (ctx) => {
      const repo = repoOf(ctx);
      const release = repo.releases.find((r) => r.tag_name === ctx.params[2]) ?? fail(404, 'Not Found', `${DOCS}/releases/releases#get-a-release-by-tag-name`);
      return ok(releaseJson(repo, release));
    }),
    route('GET', `${R}/releases/assets/:asset_id`, (ctx) => {
      const repo = repoOf(ctx);
      const found = assetsById.get(Number(ctx.params[2]));
      if (!found || found.repo !== repo) fail(404, 'Not Found', `${DOCS}/releases/assets#get-a-release-asset`);
      if (/application\/octet-stream/i.test(String(ctx.headers.accept ?? ''))) {
        return { status: 302, headers: { location: `${base}/_fake/assets/${found.asset.id}/${encodeURIComponent(found.asset.name)}` } };
      }
      return ok(assetJson(repo, found.release, found.asset));
    }),
    route('GET', `${R}/releases/:release_id`, (ctx) => {
      const repo = repoOf(ctx);
      const release = repo.releases.find((r) => String(r.id) === ctx.params[2]) ?? fail(404, 'Not Found', `${DOCS}/releases/releases#get-a-release`);
      return ok(releaseJson(repo, release));
    }),
    route('GET', `${R}/releases/:release_id/assets`, (ctx) => {
      const repo = repoOf(ctx);
      const release = repo.releases.find((r) => String(r.id) === ctx.params[2]) ?? fail(404, 'Not Found');
      const page = paginate(ctx, release.assets);
      return ok(page.items.map((a) => assetJson(repo, release, a)), 200, page.headers);
    }),
    // Contents
    route('GET', `${R}/contents`, (ctx) => getContents(ctx, '')),
    route('GET', `${R}/contents/*`, (ctx) => getContents(ctx, ctx.params[2] ?? '')),
    route('PUT', `${R}/contents/*`, (ctx) => putContents(ctx, ctx.params[2] ?? '')),
    route('DELETE', `${R}/contents/*`, (ctx) => deleteContents(ctx, ctx.params[2] ?? '')),
    // Downloads served by the fake itself (GitHub serves them from other hosts).
    // Repository and git data (refs of branches, blobs, trees, commits)
    route('GET', R, (ctx) => ok(repoJson(repoOf(ctx)))),
    route('GET', `${R}/git/ref/*`, (ctx) => {
      const repo = repoOf(ctx);
      const branchName = headsName(ctx.params[2] ?? '') ?? fail(404, 'Not Found', `${DOCS}/git/refs#get-a-reference`);
      const branch = repo.branches.get(branchName) ?? fail(404, 'Not Found', `${DOCS}/git/refs#get-a-reference`);
      return ok(refJson(repo, branchName, branch.head));
    }),
    route('POST', `${R}/git/refs`, (ctx) => {
      const doc = `${DOCS}/git/refs#create-a-reference`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      const ref = typeof body.ref === 'string' ? body.ref : '';
      if (!/^refs\/[^/]+\/./.test(ref)) fail(422, `${ref} is not a valid ref name.`, doc);
      const branchName = headsName(ref.slice('refs/'.length)) ?? fail(422, 'The fake supports branch refs (refs/heads/…) only', doc);
      if (repo.branches.has(branchName)) fail(422, 'Reference already exists', doc);
      const sha = typeof body.sha === 'string' ? body.sha : '';
      const object = gitCommits.get(sha) ?? fail(422, 'Object does not exist', doc);
      repo.branches.set(branchName, { files: materialize(object.tree), head: sha, commits: commitsSince(sha, undefined) ?? [] });
      return ok(refJson(repo, branchName, sha), 201, { location: `${repoApi(repo)}/git/${ref}` });
    }),
    route('PATCH', `${R}/git/refs/*`, (ctx) => {
      const doc = `${DOCS}/git/refs#update-a-reference`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      const branchName = headsName(ctx.params[2] ?? '') ?? fail(422, 'Reference does not exist', doc);
      const branch = repo.branches.get(branchName) ?? fail(422, 'Reference does not exist', doc);
      const sha = typeof body.sha === 'string' ? body.sha : '';
      const object = gitCommits.get(sha) ?? fail(422, 'Object does not exist', doc);
      const added = commitsSince(sha, branch.head);
      if (!added && body.force !== true) fail(422, 'Update is not a fast forward', doc);
      branch.files = materialize(object.tree);
      branch.commits = added ? [...branch.commits, ...added] : (commitsSince(sha, undefined) ?? []);
      branch.head = sha;
      return ok(refJson(repo, branchName, sha));
    }),
    route('POST', `${R}/git/blobs`, (ctx) => {
      const doc = `${DOCS}/git/blobs#create-a-blob`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      if (typeof body.content !== 'string') fail(422, 'Invalid request.\n\n"content" wasn\'t supplied.', doc);
      const encoding = body.encoding ?? 'utf-8';
      if (encoding !== 'utf-8' && encoding !== 'base64') fail(422, `encoding must be utf-8 or base64`, doc);
      if (encoding === 'base64' && !/^[A-Za-z0-9+/=\r\n]*$/.test(body.content)) fail(422, 'content is not valid Base64', doc);
      const sha = storeBlob(Buffer.from(body.content, encoding === 'base64' ? 'base64' : 'utf8'));
      return ok({ url: `${repoApi(repo)}/git/blobs/${sha}`, sha }, 201, { location: `${repoApi(repo)}/git/blobs/${sha}` });
    }),
    route('GET', `${R}/git/blobs/:file_sha`, (ctx) => {
      const repo = repoOf(ctx);
      const sha = ctx.params[2] ?? '';
      const data = blobs.get(sha) ?? fail(404, 'Not Found', `${DOCS}/git/blobs#get-a-blob`);
      return ok({ sha, node_id: `B_${sha.slice(0, 16)}`, size: data.length, url: `${repoApi(repo)}/git/blobs/${sha}`, content: wrapBase64(data), encoding: 'base64' });
    }),
    route('GET', `${R}/git/trees/:tree_sha`, (ctx) => {
      const repo = repoOf(ctx);
      const sha = ctx.params[2] ?? '';
      if (!trees.has(sha)) fail(404, 'Not Found', `${DOCS}/git/trees#get-a-tree`);
      const recursive = ctx.query.recursive !== undefined && ctx.query.recursive !== '' && ctx.query.recursive !== '0' && ctx.query.recursive !== 'false';
      return ok(treeJson(repo, sha, recursive));
    }),
    route('POST', `${R}/git/trees`, (ctx) => {
      const doc = `${DOCS}/git/trees#create-a-tree`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      let flat = new Map<string, string>();
      if (body.base_tree !== undefined) {
        const base = typeof body.base_tree === 'string' ? trees.get(body.base_tree) : undefined;
        flat = new Map(base ?? fail(422, 'Invalid tree info: base_tree is not a valid tree', doc));
      }
      if (!Array.isArray(body.tree)) fail(422, 'Invalid tree info', doc);
      for (const raw of body.tree as unknown[]) {
        const entry = isObject(raw as Json) ? (raw as Record<string, unknown>) : fail(422, 'Invalid tree info', doc);
        const path = typeof entry.path === 'string' ? entry.path.replace(/^\/+|\/+$/g, '') : '';
        if (path === '') fail(422, 'Invalid tree info: path is empty', doc);
        if (entry.sha !== undefined && entry.content !== undefined) fail(422, 'Invalid tree info: give either sha or content', doc);
        const under = (p: string) => p === path || p.startsWith(`${path}/`);
        if (entry.sha === null) {
          for (const p of [...flat.keys()]) if (under(p)) flat.delete(p);
        } else if (entry.type === 'tree') {
          const sub = typeof entry.sha === 'string' ? trees.get(entry.sha) : undefined;
          if (!sub) fail(422, `Invalid tree info: tree.sha ${String(entry.sha)} is not a valid tree`, doc);
          for (const p of [...flat.keys()]) if (under(p)) flat.delete(p);
          for (const [p, blob] of sub) flat.set(`${path}/${p}`, blob);
        } else if (entry.type === 'blob' || entry.type === undefined) {
          let blob: string;
          if (typeof entry.content === 'string') blob = storeBlob(Buffer.from(entry.content, 'utf8'));
          else if (typeof entry.sha === 'string' && blobs.has(entry.sha)) blob = entry.sha;
          else fail(422, `Invalid tree info: tree.sha ${String(entry.sha)} is not a valid blob`, doc);
          for (const p of [...flat.keys()]) if (p.startsWith(`${path}/`)) flat.delete(p);
          flat.set(path, blob);
        } else fail(422, `Invalid tree info: the fake does not support ${String(entry.type)} entries`, doc);
      }
      const sha = storeTree(flat);
      return ok(treeJson(repo, sha, false), 201, { location: `${repoApi(repo)}/git/trees/${sha}` });
    }),
    route('POST', `${R}/git/commits`, (ctx) => {
      const doc = `${DOCS}/git/commits#create-a-commit`;
      const repo = repoOf(ctx);
      const body = bodyObject(ctx);
      const tree = typeof body.tree === 'string' && trees.has(body.tree) ? body.tree : fail(422, 'Tree SHA does not exist', doc);
      const parents = Array.isArray(body.parents) ? (body.parents as unknown[]) : [];
      for (const parent of parents) if (typeof parent !== 'string' || !gitCommits.has(parent)) fail(422, 'Parent SHA does not exist or is not a commit object', doc);
      const message = typeof body.message === 'string' ? body.message : '';
      const author = isObject(body.author as Json) && typeof (body.author as Record<string, unknown>).name === 'string' ? String((body.author as Record<string, unknown>).name) : login;
      const sha = sha1(`commit:${tree}:${parents.join(',')}:${newId()}:${message}`);
      const before = parents.length > 0 ? trees.get(gitCommits.get(parents[0] as string)!.tree)! : new Map<string, string>();
      const after = trees.get(tree)!;
      const paths = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
      gitCommits.set(sha, { tree, parents: parents as string[], record: { sha, message, paths, author, date: now() } });
      return ok(gitCommitJson(repo, sha), 201, { location: `${repoApi(repo)}/git/commits/${sha}` });
    }),
    route('GET', `${R}/git/commits/:commit_sha`, (ctx) => {
      const repo = repoOf(ctx);
      if (!gitCommits.has(ctx.params[2] ?? '')) fail(404, 'Not Found', `${DOCS}/git/commits#get-a-commit-object`);
      return ok(gitCommitJson(repo, ctx.params[2]!));
    }),

    route('GET', '/_fake/assets/:id/:name', (ctx) => download(assetsById.get(Number(ctx.params[0]))?.asset)),
    route('GET', '/_fake/github.com/:owner/:repo/releases/download/:tag/:name', (ctx) => {
      const repo = getRepo(ctx.params[0]!, ctx.params[1]!, false);
      const release = repo.releases.find((r) => r.tag_name === ctx.params[2]);
      return download(release?.assets.find((a) => a.name === ctx.params[3]));
    }),
    route('GET', '/_fake/raw/:owner/:repo/:branch/*', (ctx) => {
      const repo = getRepo(ctx.params[0]!, ctx.params[1]!, false);
      const data = repo.branches.get(ctx.params[2]!)?.files.get(ctx.params[3]!);
      if (!data) return { status: 404, raw: Buffer.from('404: Not Found'), headers: { 'content-type': 'text/plain; charset=utf-8' } };
      return { status: 200, raw: data, headers: { 'content-type': 'text/plain; charset=utf-8' } };
    }),
  ];

  function download(asset: AssetState | undefined): Reply {
    if (!asset) return { status: 404, raw: Buffer.from('Not Found'), headers: { 'content-type': 'text/plain; charset=utf-8' } };
    asset.download_count++;
    return {
      status: 200,
      raw: asset.data,
      headers: { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename=${encodeURIComponent(asset.name)}` },
    };
  }

  function getContents(ctx: Context, rawPath: string): Reply {
    const repo = repoOf(ctx);
    const path = rawPath.replace(/^\/+|\/+$/g, '');
    const branchName = (ctx.query.ref ?? repo.default_branch).replace(/^refs\/heads\//, '').replace(/^heads\//, '');
    const branch = branchOf(repo, branchName) ?? fail(404, `No commit found for the ref ${ctx.query.ref}`, `${DOCS}/repos/contents#get-repository-content`);
    const data = branch.files.get(path);
    if (data) {
      if (/application\/vnd\.github(\.v3)?\.raw/i.test(String(ctx.headers.accept ?? ''))) {
        return { status: 200, raw: data, headers: { 'content-type': 'application/vnd.github.raw; charset=utf-8' } };
      }
      const entry = entryJson(repo, branchName, path, 'file', data);
      // Files over 1 MB come without content, as on GitHub.
      const large = data.length > 1024 * 1024;
      return ok({ ...entry, content: large ? '' : wrapBase64(data), encoding: large ? 'none' : 'base64' });
    }
    const prefix = path === '' ? '' : `${path}/`;
    const children = new Map<string, { type: 'file' | 'dir'; data?: Buffer }>();
    for (const [filePath, content] of branch.files) {
      if (!filePath.startsWith(prefix)) continue;
      const rest = filePath.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash === -1) children.set(filePath, { type: 'file', data: content });
      else children.set(prefix + rest.slice(0, slash), { type: 'dir' });
    }
    if (children.size === 0 && path !== '') fail(404, 'Not Found', `${DOCS}/repos/contents#get-repository-content`);
    const entries = [...children.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([p, c]) => entryJson(repo, branchName, p, c.type, c.data));
    return ok(entries);
  }

  function writeTarget(ctx: Context, rawPath: string) {
    const repo = repoOf(ctx);
    const body = bodyObject(ctx);
    const path = rawPath.replace(/^\/+|\/+$/g, '');
    const branchName = typeof body.branch === 'string' ? body.branch.replace(/^refs\/heads\//, '') : repo.default_branch;
    const branch = repo.branches.get(branchName) ?? fail(404, `Branch ${branchName} not found`, `${DOCS}/repos/contents#create-or-update-file-contents`);
    if (path === '') fail(404, 'Not Found');
    const author = isObject(body.author) && typeof body.author.name === 'string' ? body.author.name : login;
    return { repo, body, path, branchName, branch, author };
  }

  function putContents(ctx: Context, rawPath: string): Reply {
    const doc = `${DOCS}/repos/contents#create-or-update-file-contents`;
    const { repo, body, path, branchName, branch, author } = writeTarget(ctx, rawPath);
    if (typeof body.content !== 'string' || !/^[A-Za-z0-9+/=\r\n]*$/.test(body.content)) {
      fail(422, 'content is not valid Base64', doc);
    }
    const existing = branch.files.get(path);
    const sha = typeof body.sha === 'string' ? body.sha : undefined;
    if (existing && sha === undefined) fail(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', doc);
    if (sha !== undefined && (!existing || gitBlobSha(existing) !== sha)) fail(409, `${path} does not match ${sha}`, doc);
    const data = Buffer.from(body.content, 'base64');
    const parent = branch.head;
    branch.files.set(path, data);
    const record = commit(branch, typeof body.message === 'string' ? body.message : '', [path], author);
    return ok({ content: entryJson(repo, branchName, path, 'file', data), commit: commitJson(repo, record, parent) }, existing ? 200 : 201);
  }

  function deleteContents(ctx: Context, rawPath: string): Reply {
    const doc = `${DOCS}/repos/contents#delete-a-file`;
    const { repo, body, path, branch, author } = writeTarget(ctx, rawPath);
    const existing = branch.files.get(path) ?? fail(404, 'Not Found', doc);
    if (typeof body.sha !== 'string') fail(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', doc);
    if (gitBlobSha(existing) !== body.sha) fail(409, `${path} does not match ${body.sha}`, doc);
    const parent = branch.head;
    branch.files.delete(path);
    const record = commit(branch, typeof body.message === 'string' ? body.message : '', [path], author);
    return ok({ content: null, commit: commitJson(repo, record, parent) });
  }

  // ----- faults ------------------------------------------------------------------------------

  function pickFault(method: string, path: string): Fault | undefined {
    for (const entry of faults) {
      if (entry.remaining <= 0) continue;
      const match = entry.fault.match;
      if (match?.method && match.method.toUpperCase() !== method) continue;
      if (match?.path && !match.path.test(path)) continue;
      entry.remaining--;
      entry.hits++;
      return entry.fault;
    }
    if (random && random.p > 0 && random.next() < random.p) {
      const pick = Math.floor(random.next() * 5);
      if (pick === 0) return { kind: 'status', status: 500 };
      if (pick === 1) return { kind: 'status', status: 502 };
      if (pick === 2) return { kind: 'status', status: 503 };
      if (pick === 3) return { kind: 'secondary-rate-limit', retryAfter: random.next() < 0.5 ? 0 : 1 };
      return { kind: 'reset' };
    }
    return undefined;
  }

  const STATUS_TEXT: Record<number, string> = { 500: 'Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

  function faultReply(fault: Fault, requestId: string): Reply | undefined {
    switch (fault.kind) {
      case 'status':
        return { status: fault.status, body: errorBody(fault.status, STATUS_TEXT[fault.status] ?? 'Server Error') };
      case 'secondary-rate-limit':
        return {
          status: 403,
          headers: { 'retry-after': String(fault.retryAfter) },
          body: errorBody(
            403,
            `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          ),
        };
      case 'rate-limit': {
        const reset = Math.floor(clock().getTime() / 1000) + (fault.resetIn ?? 60);
        return {
          status: 403,
          headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-used': String(rateLimit), 'x-ratelimit-reset': String(reset) },
          body: errorBody(
            403,
            `API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID ${requestId} and timestamp ${now().replace('T', ' ').replace('Z', ' UTC')}.`,
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-rate-limits',
          ),
        };
      }
      default:
        return undefined;
    }
  }

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
    const fault = pickFault(method, path);
    if (fault) {
      entry.fault = fault.kind;
      if (fault.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'delay') await sleep(fault.ms);
      else if (fault.kind === 'status' && fault.afterApply) afterApply = fault;
      else return send(res, entry, requestId, faultReply(fault, requestId)!);
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

    if (afterApply?.kind === 'status') reply = faultReply(afterApply, requestId)!;
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
  base = `http://127.0.0.1:${port}`;

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
    repo: (owner, name) => getRepo(owner, name, true),
    addIssue(owner, repoName, seed) {
      const repo = getRepo(owner, repoName, true);
      return snapshot(repo, createIssue(repo, seed, login));
    },
    addLabel(owner, repoName, label) {
      const repo = getRepo(owner, repoName, true);
      return findLabel(repo, label.name) ?? createLabel(repo, label.name, normalizeColor(label.color) || undefined, label.description ?? null);
    },
    issues(owner, repoName) {
      const repo = getRepo(owner, repoName, true);
      return [...repo.issues.values()].sort((a, b) => a.number - b.number).map((i) => snapshot(repo, i));
    },
    labels(owner, repoName) {
      return [...getRepo(owner, repoName, true).labels.values()].map((l) => ({ name: l.name, color: l.color, description: l.description }));
    },
    addRelease: (owner, repoName, tag, assets, opts) => addReleaseTo(getRepo(owner, repoName, true), tag, assets, opts),
    commitFile(owner, repoName, branchName, path, content, message = `Update ${path}`) {
      const repo = getRepo(owner, repoName, true);
      let branch = repo.branches.get(branchName);
      if (!branch) {
        branch = newBranch(repo.branches.get(repo.default_branch));
        repo.branches.set(branchName, branch);
      }
      if (content === null) branch.files.delete(path);
      else branch.files.set(path, typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content));
      const record = commit(branch, message, [path], 'someone-else');
      const data = branch.files.get(path);
      return { sha: data ? gitBlobSha(data) : null, commit: record.sha };
    },
    readFile: (owner, repoName, branchName, path) => getRepo(owner, repoName, true).branches.get(branchName)?.files.get(path)?.toString('utf8'),
    files: (owner, repoName, branchName) => [...(getRepo(owner, repoName, true).branches.get(branchName)?.files.keys() ?? [])].sort(),
    commits: (owner, repoName, branchName) => [...(getRepo(owner, repoName, true).branches.get(branchName)?.commits ?? [])],
    inject(fault) {
      const entry = { fault, hits: 0, remaining: fault.times ?? 1 };
      faults.push(entry);
      return {
        fault,
        get hits() {
          return entry.hits;
        },
        get remaining() {
          return entry.remaining;
        },
        cancel() {
          entry.remaining = 0;
        },
      };
    },
    clearFaults() {
      faults.length = 0;
      random = undefined;
    },
    faultRate(p, seed = 1) {
      random = p > 0 ? { p, next: prng(seed) } : undefined;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
