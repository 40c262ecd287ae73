/** Gives every unique image of a run to one release, so a shared image is scanned once. */
import type { ImageRecord } from '../../core/image-list.js';
import { storeKeys, type ResultStore } from '../store/result-store.js';

/**
 * Gives every unique image of the run to exactly one release, the first that
 * lists it, so an image shared by several release lines is scanned once.
 * Deterministic: a retry writes the same assignment.
 */
export function createAssignScans(deps: { store: ResultStore; retentionDays?: number }) {
  return async function assignScans(input: { runKey: string; releases: string[] }): Promise<Record<string, number>> {
    // Once a run, before it writes: old runs' results go (the newest report of each release stays).
    await deps.store.prune(deps.retentionDays ?? 90);
    const taken = new Set<string>();
    const counts: Record<string, number> = {};
    for (const release of input.releases) {
      const records = (await deps.store.readJson<ImageRecord[]>(storeKeys.images(input.runKey, release))) ?? [];
      const mine = records.filter((r) => !taken.has(r.canonical));
      mine.forEach((r) => taken.add(r.canonical));
      await deps.store.writeJson(storeKeys.assigned(input.runKey, release), mine);
      counts[release] = mine.length;
    }
    return counts;
  };
}
