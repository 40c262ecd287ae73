/**
 * GitHub's OpenAPI description (@octokit/openapi), loaded and indexed once per process, lazily, with
 * the Ajv validators the fake checks request and response bodies with (each compiled on first use).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isObject, type Json, type JsonObject } from './json.js';

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

export interface SpecOperation {
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

export interface SpecIndex {
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

export function loadSpec(): Promise<SpecIndex> {
  specPromise ??= buildSpecIndex();
  return specPromise;
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

export function findOperation(spec: SpecIndex, method: string, path: string): SpecOperation | undefined {
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
export function deref(spec: SpecIndex, node: Json | undefined): JsonObject | undefined {
  if (isObject(node) && typeof node.$ref === 'string' && node.$ref.startsWith('#')) node = resolvePointer(spec.doc, node.$ref.slice(1));
  return isObject(node) ? node : undefined;
}

/** The JSON schema of a request body or response object, if it declares `application/json` content. */
export function jsonSchemaOf(spec: SpecIndex, container: Json | undefined): Json | undefined {
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

export function validatorFor(spec: SpecIndex, key: string, schema: Json | undefined): ValidateFunction | null {
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

export function toIssues(errors: ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((e) => ({
    instancePath: e.instancePath,
    schemaPath: e.schemaPath,
    keyword: e.keyword,
    message: e.message,
    params: e.params as Record<string, unknown>,
  }));
}
