import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { LEGACY_RELEASE_SEARCH_ATTRIBUTE, RELEASE_SEARCH_ATTRIBUTE } from '../workflows/messages.js';

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

/** The release search attribute, and the name it had before, under which older runs are found. */
export const RELEASE_SEARCH_ATTRIBUTES = [RELEASE_SEARCH_ATTRIBUTE, LEGACY_RELEASE_SEARCH_ATTRIBUTE];

/** Registers the release search attributes; a no-op for those that exist (the dev server registers them at start). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  for (const name of RELEASE_SEARCH_ATTRIBUTES) {
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: { [name]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST },
      });
    } catch (error) {
      const code = (error as { code?: number }).code;
      // 6 = ALREADY_EXISTS; 7 = PERMISSION_DENIED on Temporal Cloud, where attributes are managed in the console.
      if (code !== 6 && code !== 7) throw error;
    }
  }
}
