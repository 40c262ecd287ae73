import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { RELEASE_SEARCH_ATTRIBUTE } from '../workflows/messages.js';

const { temporal } = proto;

/** True when a Temporal frontend answers at `address` within `timeoutMs`. */
export async function serverAnswers(address: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/** Registers the namespace when it is missing (a full server starts with none; the dev server makes `default`). */
export async function ensureNamespace(connection: Connection, namespace: string, retentionDays = 30): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (error) {
    // 5 = NOT_FOUND
    if ((error as { code?: number }).code !== 5) throw error;
  }
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`) });
  } catch (error) {
    if ((error as { code?: number }).code !== 6) throw error; // ALREADY_EXISTS: another `up` won the race
  }
  return true;
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
