import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;

/** The encoded size of a workflow's history and every payload in it as text, to look for what must not be there. */
export async function inspectHistory(handle: WorkflowHandle): Promise<{ bytes: number; events: number; payloadText: string }> {
  const history = await handle.fetchHistory();
  const bytes = temporal.api.history.v1.History.encode(history).finish().length;
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) {
      texts.push(Buffer.from(value).toString('utf8'));
    } else if (Array.isArray(value)) {
      value.forEach(walk);
    } else if (value && typeof value === 'object') {
      Object.values(value).forEach(walk);
    }
  };
  walk(history);
  return { bytes, events: history.events?.length ?? 0, payloadText: texts.join('\n') };
}
