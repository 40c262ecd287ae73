/** Fault injection: the faults tests can inject (5xx, rate limits, resets, delays), random faults, and the replies they answer with. */
import { errorBody, type Reply } from './routing.js';

export interface FaultMatch {
  method?: string;
  /** Tested against the request path (without query). */
  path?: RegExp;
}

interface FaultCommon {
  /** How many matching requests this fault answers (default 1; Infinity for all). */
  times?: number;
  match?: FaultMatch;
}

export type Fault =
  | (FaultCommon & { kind: 'status'; status: 500 | 502 | 503; /** Apply the request, then answer with the status anyway. */ afterApply?: boolean })
  | (FaultCommon & { kind: 'secondary-rate-limit'; /** Seconds, sent as `retry-after`. */ retryAfter: number })
  | (FaultCommon & { kind: 'rate-limit'; /** Seconds until `x-ratelimit-reset` (default 60). */ resetIn?: number })
  | (FaultCommon & { kind: 'reset' })
  | (FaultCommon & { kind: 'delay'; ms: number });

export interface FaultHandle {
  readonly fault: Fault;
  /** Requests this fault has answered so far. */
  readonly hits: number;
  /** Requests it will still answer. */
  readonly remaining: number;
  cancel(): void;
}

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUS_TEXT: Record<number, string> = { 500: 'Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** The faults of one fake: injected ones (first match wins) and, when set, random ones. */
export class FaultInjector {
  private readonly faults: { fault: Fault; hits: number; remaining: number }[] = [];
  private random: { p: number; next: () => number } | undefined;

  /** `clock` dates the rate-limit replies; `rateLimit` is the fake's `x-ratelimit-limit`. */
  constructor(
    private readonly clock: () => Date,
    private readonly now: () => string,
    private readonly rateLimit: number,
  ) {}

  inject(fault: Fault): FaultHandle {
    const entry = { fault, hits: 0, remaining: fault.times ?? 1 };
    this.faults.push(entry);
    return {
      fault,
      get hits() {
        return entry.hits;
      },
      get remaining() {
        return entry.remaining;
      },
      cancel() {
        entry.remaining = 0;
      },
    };
  }

  clear() {
    this.faults.length = 0;
    this.random = undefined;
  }

  /** A random fault in a fraction p of all requests; p = 0 turns it off. */
  rate(p: number, seed: number) {
    this.random = p > 0 ? { p, next: prng(seed) } : undefined;
  }

  /** The fault that answers (or delays) this request, if any; counts it as a hit. */
  pick(method: string, path: string): Fault | undefined {
    for (const entry of this.faults) {
      if (entry.remaining <= 0) continue;
      const match = entry.fault.match;
      if (match?.method && match.method.toUpperCase() !== method) continue;
      if (match?.path && !match.path.test(path)) continue;
      entry.remaining--;
      entry.hits++;
      return entry.fault;
    }
    const random = this.random;
    if (random && random.p > 0 && random.next() < random.p) {
      const pick = Math.floor(random.next() * 5);
      if (pick === 0) return { kind: 'status', status: 500 };
      if (pick === 1) return { kind: 'status', status: 502 };
      if (pick === 2) return { kind: 'status', status: 503 };
      if (pick === 3) return { kind: 'secondary-rate-limit', retryAfter: random.next() < 0.5 ? 0 : 1 };
      return { kind: 'reset' };
    }
    return undefined;
  }

  /** GitHub's answer for a fault; undefined for `reset` and `delay`, which answer nothing themselves. */
  reply(fault: Fault, requestId: string): Reply | undefined {
    switch (fault.kind) {
      case 'status':
        return { status: fault.status, body: errorBody(fault.status, STATUS_TEXT[fault.status] ?? 'Server Error') };
      case 'secondary-rate-limit':
        return {
          status: 403,
          headers: { 'retry-after': String(fault.retryAfter) },
          body: errorBody(
            403,
            `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          ),
        };
      case 'rate-limit': {
        const reset = Math.floor(this.clock().getTime() / 1000) + (fault.resetIn ?? 60);
        return {
          status: 403,
          headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-used': String(this.rateLimit), 'x-ratelimit-reset': String(reset) },
          body: errorBody(
            403,
            `API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID ${requestId} and timestamp ${this.now().replace('T', ' ').replace('Z', ' UTC')}.`,
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-rate-limits',
          ),
        };
      }
      default:
        return undefined;
    }
  }
}
