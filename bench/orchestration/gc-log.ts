/**
 * Follows the worker's V8 heaps from its `--trace-gc` output, for the worker memory table: live
 * memory told apart from garbage not yet collected.
 */

/**
 * The worker's `--trace-gc` lines, per V8 isolate (the first one seen is the main thread; the
 * others are workflow threads): committed heap at most, and live heap after the last full GC.
 */
export class GcLog {
  private partial = '';
  readonly isolates = new Map<string, { maxCommitted: number; liveAfterFullGc?: number; fullGcs: number; lastMs: number }>();
  private since = 0;

  feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: ([A-Za-z -]+?)(?: \([a-z ]+\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
      if (!m) continue;
      const [, isolate, at, kind, , committedBefore, after, committedAfter] = m;
      const entry = this.isolates.get(isolate!) ?? { maxCommitted: 0, fullGcs: 0, lastMs: 0 };
      entry.maxCommitted = Math.max(entry.maxCommitted, Number(committedBefore), Number(committedAfter));
      entry.lastMs = Number(at);
      if ((kind === 'Mark-Compact' || kind === 'Mark-Sweep') && Number(at) >= this.since) {
        entry.liveAfterFullGc = Number(after);
        entry.fullGcs++;
      }
      this.isolates.set(isolate!, entry);
    }
  }

  /** From now on (main isolate's clock), count full GCs and committed peaks afresh. */
  reset(): void {
    const main = [...this.isolates.values()][0];
    this.since = main?.lastMs ?? 0;
    for (const entry of this.isolates.values()) {
      entry.maxCommitted = 0;
      entry.fullGcs = 0;
      entry.liveAfterFullGc = undefined;
    }
  }

  summary(): { main?: { maxCommitted: number; liveAfterFullGc?: number; fullGcs: number }; workflows: { maxCommitted: number; liveAfterFullGc?: number; fullGcs: number } } {
    const [main, ...rest] = [...this.isolates.values()];
    const collected = rest.filter((e) => e.liveAfterFullGc !== undefined);
    return {
      main,
      workflows: {
        maxCommitted: rest.reduce((n, e) => n + e.maxCommitted, 0),
        liveAfterFullGc: collected.length ? collected.reduce((n, e) => n + e.liveAfterFullGc!, 0) : undefined,
        fullGcs: rest.reduce((n, e) => n + e.fullGcs, 0),
      },
    };
  }
}
