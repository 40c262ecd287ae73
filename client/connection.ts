import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Client, Connection } from '@temporalio/client';

export const DEFAULT_ADDRESS = '127.0.0.1:7233';

/** Connection settings the Temporal way: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and API key, or a profile. */
export function connectConfig(): { address: string; namespace: string; options: ReturnType<typeof loadClientConnectConfig>['connectionOptions'] } {
  const config = loadClientConnectConfig();
  const address = config.connectionOptions.address ?? DEFAULT_ADDRESS;
  return { address, namespace: config.namespace ?? 'default', options: { ...config.connectionOptions, address } };
}

export async function connectClient(): Promise<{ client: Client; connection: Connection; namespace: string; address: string }> {
  const { address, namespace, options } = connectConfig();
  const connection = await Connection.connect(options);
  return { client: new Client({ connection, namespace }), connection, namespace, address };
}

export { ensureSearchAttributes } from '../host/temporal-server.js';

/**
 * The Web UI of the server at `address`: TEMPORAL_UI_URL when set; for a server on this machine,
 * 1000 ports above its gRPC port, where the dev server (`run`, `server`) and `cluster up` put
 * it; else unknown.
 */
export function webUiBase(address: string): string | undefined {
  if (process.env.TEMPORAL_UI_URL) return process.env.TEMPORAL_UI_URL.replace(/\/$/, '');
  const local = /^(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)$/.exec(address);
  return local ? `http://localhost:${Number(local[1]) + 1000}` : undefined;
}

/** A link into the Web UI, or a hint when where the UI is cannot be known. */
export function webUiUrl(namespace: string, workflowId?: string, address = connectConfig().address): string {
  const base = webUiBase(address);
  if (!base) return `(the Web UI of ${address} is unknown: set TEMPORAL_UI_URL)`;
  return workflowId ? `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}` : base;
}
