import { connect } from 'node:net';

/** Where a Redis server is and how to log in, from a `redis://[user][:password]@host[:port][/db]` URL. */
export interface RedisAddress {
  host: string;
  port: number;
  username?: string;
  password?: string;
}

export class CacheServiceError extends Error {
  override name = 'CacheServiceError';
}

/** The URL with its credentials hidden, for logs and errors (like Trivy's own `BackendMasked`). */
export function maskCacheUrl(url: string): string {
  return url.replace(/^(redis:\/\/)[^@/]*@/, '$1****@');
}

export function parseRedisUrl(url: string): RedisAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CacheServiceError(`${maskCacheUrl(url)} is not a URL`);
  }
  // Trivy's cache backend accepts only redis:// (TLS is its own flag), so the project does too.
  if (parsed.protocol !== 'redis:') throw new CacheServiceError(`${maskCacheUrl(url)}: only redis:// URLs are supported`);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
  };
}

/** One RESP command as an array of bulk strings. */
function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Sends commands and returns their replies, one line each (`+OK`, `-ERR ...`, `$N` followed by
 * the bulk text). Just enough protocol to check a server's health and read INFO: Trivy does the
 * cache's real traffic itself.
 */
export function redisCommands(address: RedisAddress, commands: string[][], timeoutMs = 2000): Promise<string[]> {
  const all = [...(address.password !== undefined ? [address.username ? ['AUTH', address.username, address.password] : ['AUTH', address.password]] : []), ...commands];
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port });
    let buffer = '';
    const replies: string[] = [];
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new CacheServiceError(`no answer within ${timeoutMs} ms`)));
    socket.on('error', (error) => fail(error));
    socket.on('connect', () => socket.write(all.map(encode).join('')));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        const line = buffer.slice(0, end);
        if (line.startsWith('$')) {
          const size = Number(line.slice(1));
          if (size < 0) {
            replies.push('$-1');
            buffer = buffer.slice(end + 2);
          } else {
            // A bulk reply: wait until its whole body is here.
            const body = Buffer.from(buffer.slice(end + 2));
            if (body.length < size + 2) return;
            replies.push(body.subarray(0, size).toString('utf8'));
            buffer = body.subarray(size + 2).toString('utf8');
          }
        } else {
          replies.push(line);
          buffer = buffer.slice(end + 2);
        }
        if (replies.length === all.length) {
          socket.end();
          resolve(replies.slice(all.length - commands.length));
          return;
        }
      }
    });
  });
}

/**
 * Checks that the cache service answers and accepts the credentials; throws a CacheServiceError
 * that names the (masked) URL and says what to do. Run before a scan so a cache that is down fails
 * at once rather than after Trivy downloaded every layer and could not store them.
 */
export async function checkCacheService(url: string, timeoutMs = 2000): Promise<void> {
  const where = maskCacheUrl(url);
  let replies: string[];
  try {
    replies = await redisCommands(parseRedisUrl(url), [['PING']], timeoutMs);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CacheServiceError(`the scan cache at ${where} does not answer (${reason}): start it (\`image-scanning cache start\` for the embedded one) or fix TRIVY_CACHE_BACKEND`);
  }
  const refused = replies.find((r) => r.startsWith('-'));
  if (refused) {
    const auth = /NOAUTH|WRONGPASS|invalid password|AUTH/i.test(refused);
    throw new CacheServiceError(
      auth ? `the scan cache at ${where} refused the credentials (${refused.slice(1)}): check the password in TRIVY_CACHE_BACKEND or TRIVY_CACHE_PASSWORD_FILE` : `the scan cache at ${where} answered ${refused.slice(1)}`,
    );
  }
  if (replies.at(-1) !== '+PONG') throw new CacheServiceError(`the scan cache at ${where} is not a Redis server (it answered ${JSON.stringify(replies.at(-1))})`);
}
