/** Names a stretch of a release's assigned images, so that the workflow can give each scan activity a summary naming its image. */
import type { ImageRecord } from '../../core/image-list.js';
import { storeKeys, type ResultStore } from '../store/result-store.js';

/** At most this many names an answer: about 6 KB of history for 100 scans (60 bytes a scan). */
export const ASSIGNED_NAMES_BATCH = 100;

export function createAssignedImages(deps: { store: ResultStore }) {
  return async function assignedImages(input: { runKey: string; release: string; from: number; count: number }): Promise<string[]> {
    const assigned = (await deps.store.readJson<ImageRecord[]>(storeKeys.assigned(input.runKey, input.release))) ?? [];
    return assigned.slice(input.from, input.from + Math.min(input.count, ASSIGNED_NAMES_BATCH)).map((r) => r.image);
  };
}
