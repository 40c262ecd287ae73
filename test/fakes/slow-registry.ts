import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A slow registry in front of a real one, on loopback: it forwards every request, holds back
 * each layer blob by `layerDelayMs` (and, with `bytesPerSecond`, trickles it out) the way a
 * pull from a distant registry takes seconds to minutes, and counts what it served by kind
 * (manifest, config, layer). Manifests are read on the way through, so a blob is known to be a
 * config or a layer by its digest.
 */
export interface SlowRegistryOptions {
  /** host:port of the registry behind it (plain HTTP). */
  target: string;
  layerDelayMs: number;
  /** Bandwidth per layer download; unlimited when absent. */
  bytesPerSecond?: number;
}

export type RequestKind = 'manifest' | 'config' | 'layer' | 'other';

export interface ServedRequest {
  kind: RequestKind;
  method: string;
  /** Repository, e.g. e2e/alpine-vulnerable. */
  repository: string;
  digest?: string;
  bytes: number;
  status: number;
  startedAt: number;
  endedAt: number;
}

export interface SlowRegistry {
  host: string;
  ref(image: string): string;
  readonly served: ServedRequest[];
  /** Requests of a kind that carried a body (GET, status 200). */
  downloads(kind: RequestKind): ServedRequest[];
  reset(): void;
  stop(): Promise<void>;
}

const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const BLOB = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/;

export async function startSlowRegistry(options: SlowRegistryOptions): Promise<SlowRegistry> {
  const [targetHost, targetPort] = options.target.split(':') as [string, string];
  const configs = new Set<string>();
  const layers = new Set<string>();
  const served: ServedRequest[] = [];

  function remember(manifestText: string): void {
    try {
      const manifest = JSON.parse(manifestText) as { config?: { digest?: string }; layers?: { digest?: string }[] };
      if (manifest.config?.digest) configs.add(manifest.config.digest);
      for (const layer of manifest.layers ?? []) if (layer.digest) layers.add(layer.digest);
    } catch {
      // an index or an error body: nothing to learn
    }
  }

  function classify(path: string): { kind: RequestKind; repository: string; digest?: string } {
    const manifest = MANIFEST.exec(path);
    if (manifest) return { kind: 'manifest', repository: manifest[1]! };
    const blob = BLOB.exec(path);
    if (blob) {
      const digest = blob[2]!;
      return { kind: layers.has(digest) ? 'layer' : configs.has(digest) ? 'config' : 'other', repository: blob[1]!, digest };
    }
    return { kind: 'other', repository: '' };
  }

  async function send(res: ServerResponse, body: Buffer, slow: boolean): Promise<void> {
    if (!slow || !options.bytesPerSecond) {
      res.end(body);
      return;
    }
    // Ten slices a second at the given rate.
    const slice = Math.max(1, Math.floor(options.bytesPerSecond / 10));
    for (let offset = 0; offset < body.length; offset += slice) {
      if (res.destroyed) return;
      res.write(body.subarray(offset, offset + slice));
      await new Promise((r) => setTimeout(r, 100));
    }
    res.end();
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = Date.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const upstream = httpRequest({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...req.headers, host: options.target } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        void (async () => {
          const body = Buffer.concat(chunks);
          const { kind, repository, digest } = classify(path);
          if (kind === 'manifest' && req.method === 'GET') remember(body.toString('utf8'));
          const slow = kind === 'layer' && req.method === 'GET' && answer.statusCode === 200;
          if (slow) await new Promise((r) => setTimeout(r, options.layerDelayMs));
          const headers = { ...answer.headers };
          res.writeHead(answer.statusCode ?? 502, headers);
          await send(res, body, slow);
          served.push({ kind, method: req.method ?? 'GET', repository, digest, bytes: req.method === 'HEAD' ? 0 : body.length, status: answer.statusCode ?? 0, startedAt, endedAt: Date.now() });
        })();
      });
    });
    upstream.on('error', (error) => {
      res.writeHead(502).end(String(error));
    });
    req.pipe(upstream);
  }

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    ref: (image) => `${host}/${image}`,
    served,
    downloads: (kind) => served.filter((r) => r.kind === kind && r.method === 'GET' && r.status === 200),
    reset: () => {
      served.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * How the scans overlapped, from the registry's side: each repository's span runs from its
 * first request to the end of its last answer. Returns the most spans open at once, and for how
 * long at least `atLeast` of them were open together.
 */
export function overlap(served: ServedRequest[], atLeast: number): { maxConcurrent: number; overlapMs: number; spans: number } {
  const spans = new Map<string, { start: number; end: number }>();
  for (const r of served) {
    if (!r.repository) continue;
    const span = spans.get(r.repository);
    if (!span) spans.set(r.repository, { start: r.startedAt, end: r.endedAt });
    else {
      span.start = Math.min(span.start, r.startedAt);
      span.end = Math.max(span.end, r.endedAt);
    }
  }
  const events = [...spans.values()].flatMap((s) => [
    { at: s.start, delta: 1 },
    { at: s.end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let maxConcurrent = 0;
  let overlapMs = 0;
  let since = 0;
  for (const e of events) {
    if (open >= atLeast) overlapMs += e.at - since;
    open += e.delta;
    since = e.at;
    maxConcurrent = Math.max(maxConcurrent, open);
  }
  return { maxConcurrent, overlapMs, spans: spans.size };
}
