/** Pauses pulls from a registry that answered 429 (toomanyrequests), for every scan of the run, until its window opens or the run's deadline passes. */
import { safeName, storeKeys, type ResultStore } from '../store/result-store.js';

/** What the run knows of one registry's pull quota (store key under the run, so every worker sees it). */
export interface RegistryPause {
  registry: string;
  /** No pull before this time (epoch ms). */
  until: number;
  /** When the first 429 of the run came. */
  since: number;
  /** Trivy's words for the last refusal. */
  reason: string;
  /** The registry's ratelimit-* figures as last seen on a HEAD. */
  remaining?: string;
  limit?: string;
}

/** A paused registry as a scan that must not wait sees it (`until` no later than the run's deadline). */
export interface QuotaWait {
  until: number;
  reason: string;
  remaining?: string;
  limit?: string;
}

export class QuotaDeadlineError extends Error {
  override name = 'QuotaDeadlineError';
}

export interface RegistryQuota {
  /** Returns when a pull from `registry` may go; waits (heartbeating) while it is paused; throws QuotaDeadlineError past the run's deadline. */
  beforePull(registry: string, image: string): Promise<void>;
  /**
   * Without waiting: undefined when a pull from `registry` may go, else until when it is paused
   * (never past the run's deadline); throws QuotaDeadlineError past the deadline.
   */
  check(registry: string): Promise<QuotaWait | undefined>;
  /** A pull was refused with 429: pauses the registry; true when the pull should be tried again once it opens. */
  rateLimited(registry: string, image: string, reason: string, figures?: { remaining?: string; limit?: string }): Promise<boolean>;
  /** A pull went through: the registry's pause, if any, is over. */
  pulled(registry: string): Promise<void>;
}

export interface QuotaSettings {
  /** How long a registry is paused after a 429 before the next pull is tried. */
  pauseSeconds: number;
  /** Seconds from the run's first scan after which images still waiting fail (RegistryRateLimited). */
  deadlineSeconds: number;
}

export interface QuotaContext {
  heartbeat: (details: unknown) => void;
  /** Cancellation-aware sleep (the activity's). */
  sleep: (ms: number) => Promise<void>;
  now?: () => number;
}

const keys = {
  pause: (runKey: string, registry: string) => `${storeKeys.run(runKey)}/registries/${safeName(registry)}.json`,
  started: (runKey: string) => `${storeKeys.run(runKey)}/quota-clock.json`,
};

/** The run's quota, read from and written to the result store, so it holds across scans and workers. */
export function registryQuota(store: ResultStore, runKey: string, settings: QuotaSettings, ctx: QuotaContext): RegistryQuota {
  const now = ctx.now ?? Date.now;
  async function deadline(): Promise<number> {
    let clock = await store.readJson<{ startedAt: number }>(keys.started(runKey));
    if (!clock) {
      clock = { startedAt: now() };
      await store.writeJson(keys.started(runKey), clock);
    }
    return clock.startedAt + settings.deadlineSeconds * 1000;
  }
  return {
    async check(registry) {
      const end = await deadline();
      const pause = await store.readJson<RegistryPause>(keys.pause(runKey, registry));
      const at = now();
      if (!pause || pause.until <= at) return undefined;
      if (at >= end) {
        throw new QuotaDeadlineError(
          `still waiting for ${registry}'s pull quota (${pause.reason}) when the run's deadline of ${settings.deadlineSeconds}s passed`,
        );
      }
      return { until: Math.min(pause.until, end), reason: pause.reason, remaining: pause.remaining, limit: pause.limit };
    },
    async beforePull(registry, image) {
      const end = await deadline();
      for (;;) {
        const pause = await store.readJson<RegistryPause>(keys.pause(runKey, registry));
        const at = now();
        if (!pause || pause.until <= at) return;
        if (at >= end) {
          throw new QuotaDeadlineError(
            `still waiting for ${registry}'s pull quota (${pause.reason}) when the run's deadline of ${settings.deadlineSeconds}s passed`,
          );
        }
        ctx.heartbeat({ image, waiting: registry, until: new Date(pause.until).toISOString(), ...(pause.remaining ? { ratelimitRemaining: pause.remaining } : {}) });
        // Short sleeps: heartbeats keep flowing, and a pause lifted by another scan is seen soon.
        await ctx.sleep(Math.min(1000, Math.max(50, Math.min(pause.until, end) - at)));
      }
    },
    async rateLimited(registry, _image, reason, figures) {
      const at = now();
      const current = await store.readJson<RegistryPause>(keys.pause(runKey, registry));
      const until = Math.max(current?.until ?? 0, at + settings.pauseSeconds * 1000);
      const remaining = figures?.remaining ?? current?.remaining;
      const limit = figures?.limit ?? current?.limit;
      await store.writeJson(keys.pause(runKey, registry), {
        registry,
        until,
        since: current?.since ?? at,
        reason,
        ...(remaining !== undefined ? { remaining } : {}),
        ...(limit !== undefined ? { limit } : {}),
      } satisfies RegistryPause);
      return true;
    },
    async pulled(registry) {
      const current = await store.readJson<RegistryPause>(keys.pause(runKey, registry));
      if (current && current.until <= now()) await store.writeJson(keys.pause(runKey, registry), { ...current, until: 0 });
    },
  };
}
