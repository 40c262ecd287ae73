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

export function webUiUrl(namespace: string, workflowId?: string): string {
  const base = (process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/$/, '');
  return workflowId ? `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}` : base;
}
