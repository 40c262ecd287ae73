import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A Redis stand-in for activity tests with the Trivy stub: it speaks just enough RESP for the
 * health check a scan makes (AUTH, PING). Trivy's real cache traffic is tested against Debian's
 * redis-server (test/cache/, test/e2e/slow-registry.test.ts).
 */
export async function fakeRedis(password: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((socket) => {
    let authed = false;
    let buffer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      // Commands arrive as arrays of bulk strings: *N, then $len and the value, per argument.
      for (;;) {
        const lines = buffer.split('\r\n');
        const count = Number(lines[0]?.slice(1));
        if (!lines[0]?.startsWith('*') || lines.length < 1 + count * 2 + 1) return;
        const args = Array.from({ length: count }, (_, i) => lines[2 + i * 2]!);
        buffer = lines.slice(1 + count * 2).join('\r\n');
        const [command, ...rest] = args;
        if (command?.toUpperCase() === 'AUTH') {
          authed = rest.at(-1) === password;
          socket.write(authed ? '+OK\r\n' : '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
        } else if (!authed) socket.write('-NOAUTH Authentication required.\r\n');
        else if (command?.toUpperCase() === 'PING') socket.write('+PONG\r\n');
        else socket.write(`-ERR unknown command '${command}'\r\n`);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
