/** What every route file shares: route patterns, request context, replies, GitHub's error bodies, length limits and pagination. */
import type http from 'node:http';
import { isObject } from './json.js';

export const HTML = 'https://github.com';
export const DOCS = 'https://docs.github.com/rest';

export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function wrapBase64(data: Buffer): string {
  const b64 = data.toString('base64');
  const lines = b64.match(/.{1,60}/g) ?? [];
  return lines.map((line) => `${line}\n`).join('');
}

export interface Reply {
  status: number;
  /** JSON body. */
  body?: unknown;
  /** Raw body (wins over `body`). */
  raw?: Buffer;
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(String((reply.body as { message?: string } | undefined)?.message ?? reply.status));
  }
}

export function errorBody(status: number, message: string, documentation_url = DOCS): Record<string, string> {
  return { message, documentation_url, status: String(status) };
}

export function fail(status: number, message: string, documentation_url?: string): never {
  throw new HttpError({ status, body: errorBody(status, message, documentation_url) });
}

export function validationFailed(errors: { resource: string; code: string; field?: string; message?: string }[], documentation_url?: string): never {
  throw new HttpError({ status: 422, body: { message: 'Validation Failed', errors, documentation_url: documentation_url ?? DOCS, status: '422' } });
}

/** GitHub's length limits, counted in characters (code points) like GitHub does. */
export const LIMITS = { issueTitle: 256, body: 65_536, labelName: 50, labelDescription: 100 } as const;

export function checkLength(resource: string, field: string, value: unknown, max: number, documentation_url?: string) {
  if (typeof value === 'string' && [...value].length > max) {
    validationFailed([{ resource, code: 'custom', field, message: `${field} is too long (maximum is ${max} characters)` }], documentation_url);
  }
}

export interface Context {
  method: string;
  path: string;
  params: string[];
  query: Record<string, string>;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

export type Handler = (ctx: Context) => Reply | Promise<Reply>;

export interface Route {
  method: string;
  regex: RegExp;
  handler: Handler;
}

/** Repository routes start here (`:owner` and `:repo` are params 0 and 1). */
export const R = '/repos/:owner/:repo';

export function route(method: string, pattern: string, handler: Handler): Route {
  const source = pattern
    .split('/')
    .map((segment) => (segment === '*' ? '(.*)' : segment.startsWith(':') ? '([^/]+)' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return { method, regex: new RegExp(`^${source}/?$`), handler };
}

export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function bodyObject(ctx: Context): Record<string, unknown> {
  return isObject(ctx.body) ? (ctx.body as Record<string, unknown>) : {};
}

export const ok = (body: unknown, status = 200, headers?: Record<string, string>): Reply => ({ status, body, headers });

/** One page of `items` (per_page, page) with GitHub's `link` header; `base` is the fake's URL. */
export function paginate<T>(ctx: Context, items: T[], base: string): { items: T[]; headers: Record<string, string> } {
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
