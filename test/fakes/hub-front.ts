import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry front on loopback that behaves like Docker Hub towards its clients, in front of a
 * real registry (the sample's): bearer tokens from a token service named in the 401 challenge, a
 * pull quota counted on manifest GETs only (HEAD is free, blobs are not counted), a 429
 * `TOOMANYREQUESTS` past the quota with `ratelimit-limit`/`ratelimit-remaining` headers, and a
 * window that slides in real time. It counts what it served, and can re-push a tag (serve
 * another image's manifest under it) and refuse HEAD (a registry that cannot be asked with it).
 */
export interface HubFrontOptions {
  /** host:port of the registry behind it (plain HTTP). */
  target: string;
  /** Counted pulls allowed per window. */
  limit: number;
  windowMs: number;
}

export interface HubCounts {
  manifestGets: number;
  /** Manifest GETs refused with 429. */
  refused: number;
  manifestHeads: number;
  blobGets: number;
  tokens: number;
  unauthorized: number;
}

export interface HubFront {
  host: string;
  ref(image: string): string;
  counts(): HubCounts;
  /** Counted pulls per repository since the last reset. */
  pullsByRepository(): Record<string, number>;
  reset(): void;
  setLimit(limit: number, windowMs?: number): void;
  /** Pulls left in the window now. */
  remaining(): number;
  /** Forgets every pull of the window: the window opens again. */
  openWindow(): void;
  /** From now on `repository:tag` serves the manifest of `to` (another `repository:tag` behind the front). */
  repush(from: string, to: string): void;
  /** HEAD of manifests answers 405 (true) or is served (false). */
  refuseHead(refuse: boolean): void;
  stop(): Promise<void>;
}

const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const BLOB = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/;

export async function startHubFront(options: HubFrontOptions): Promise<HubFront> {
  const [targetHost, targetPort] = options.target.split(':') as [string, string];
  let limit = options.limit;
  let windowMs = options.windowMs;
  let pulls: number[] = [];
  let noHead = false;
  const tokens = new Set<string>();
  const aliases = new Map<string, string>();
  const counts: HubCounts = { manifestGets: 0, refused: 0, manifestHeads: 0, blobGets: 0, tokens: 0, unauthorized: 0 };
  const byRepository: Record<string, number> = {};
  let host = '';

  const remaining = () => {
    const now = Date.now();
    pulls = pulls.filter((t) => now - t < windowMs);
    return Math.max(0, limit - pulls.length);
  };
  const rateHeaders = () => ({
    'ratelimit-limit': `${limit};w=${Math.ceil(windowMs / 1000)}`,
    'ratelimit-remaining': `${remaining()};w=${Math.ceil(windowMs / 1000)}`,
    'docker-ratelimit-source': '127.0.0.1',
  });

  function challenge(res: ServerResponse, scope?: string): void {
    counts.unauthorized++;
    const scopePart = scope ? `,scope="${scope}"` : '';
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': `Bearer realm="http://${host}/token",service="hub-front"${scopePart}`,
    });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
  }

  function forward(req: IncomingMessage, res: ServerResponse, path: string, extraHeaders: Record<string, string> = {}, onDone?: (status: number) => void): void {
    const headers = { ...req.headers, host: options.target };
    delete headers.authorization;
    const upstream = httpRequest({ host: targetHost, port: Number(targetPort), method: req.method, path, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...extraHeaders });
      answer.pipe(res);
      answer.on('end', () => onDone?.(answer.statusCode ?? 0));
    });
    upstream.on('error', (error) => res.writeHead(502).end(String(error)));
    req.pipe(upstream);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/token') {
      counts.tokens++;
      const token = randomBytes(12).toString('hex');
      tokens.add(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
      return;
    }
    if (!url.pathname.startsWith('/v2')) {
      res.writeHead(404).end();
      return;
    }
    const auth = req.headers.authorization ?? '';
    const manifest = MANIFEST.exec(url.pathname);
    const blob = BLOB.exec(url.pathname);
    const repository = manifest?.[1] ?? blob?.[1];
    if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) {
      challenge(res, repository ? `repository:${repository}:pull` : undefined);
      return;
    }
    if (manifest) {
      const [, repo, reference] = manifest as unknown as [string, string, string];
      const alias = aliases.get(`${repo}:${reference}`);
      // By digest, a re-pushed repository's manifests are those of the repository its tag now points into.
      const movedTo = [...aliases].find(([from]) => from.startsWith(`${repo}:`))?.[1];
      const path = alias
        ? `/v2/${alias.slice(0, alias.lastIndexOf(':'))}/manifests/${alias.slice(alias.lastIndexOf(':') + 1)}`
        : reference.startsWith('sha256:') && movedTo
          ? `/v2/${movedTo.slice(0, movedTo.lastIndexOf(':'))}/manifests/${reference}`
          : url.pathname;
      if (req.method === 'HEAD') {
        if (noHead) {
          res.writeHead(405, rateHeaders()).end();
          return;
        }
        counts.manifestHeads++;
        forward(req, res, path, rateHeaders());
        return;
      }
      if (remaining() <= 0) {
        counts.refused++;
        res.writeHead(429, { 'content-type': 'application/json', ...rateHeaders() });
        res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit. You may increase the limit by authenticating and upgrading' }] }));
        return;
      }
      counts.manifestGets++;
      pulls.push(Date.now());
      byRepository[repo] = (byRepository[repo] ?? 0) + 1;
      forward(req, res, path, rateHeaders());
      return;
    }
    if (blob && req.method === 'GET') counts.blobGets++;
    forward(req, res, url.pathname + url.search);
  }

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    ref: (image) => `${host}/${image}`,
    counts: () => ({ ...counts }),
    pullsByRepository: () => ({ ...byRepository }),
    reset: () => {
      for (const key of Object.keys(counts) as (keyof HubCounts)[]) counts[key] = 0;
      for (const key of Object.keys(byRepository)) delete byRepository[key];
    },
    setLimit: (value, window) => {
      limit = value;
      if (window !== undefined) windowMs = window;
    },
    remaining,
    openWindow: () => {
      pulls = [];
    },
    repush: (from, to) => aliases.set(from, to),
    refuseHead: (refuse) => {
      noHead = refuse;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
