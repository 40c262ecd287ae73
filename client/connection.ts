import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { RELEASE_SEARCH_ATTRIBUTE } from '../workflows/messages.js';

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

/** Registers the `Release` search attribute; a no-op when it exists (the dev server registers it at start). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { [RELEASE_SEARCH_ATTRIBUTE]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST },
    });
  } catch (error) {
    const code = (error as { code?: number }).code;
    // 6 = ALREADY_EXISTS; 7 = PERMISSION_DENIED on Temporal Cloud, where attributes are managed in the console.
    if (code !== 6 && code !== 7) throw error;
  }
}

export function webUiUrl(namespace: string, workflowId?: string): string {
  const base = (process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/$/, '');
  return workflowId ? `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}` : base;
}
