/** One Trivy command of a scan (`image`, `sbom` or `convert`): run, classified on failure, its JSON report parsed on success. */
import { readFile } from 'node:fs/promises';
import { classifyTrivyFailure, type ScanFailure } from '../../core/failures.js';
import type { ImageScan } from '../../core/scan.js';
import { parseTrivyReport, UnparsableReportError } from '../../core/trivy-report.js';
import { runTrivy } from './run-trivy.js';
import { trivyEnvironment } from './trivy-args.js';
import type { TrivySettings } from './trivy-settings.js';

/** Go's collector for a short-lived Trivy process whose heap is bounded: none until 1 GiB, then as usual. */
export const SHORT_LIVED_GO = { GOGC: 'off', GOMEMLIMIT: '1GiB' } as const;

export type TrivyPass = { ok: true; text: string; scan?: ImageScan } | { ok: false; failure: ScanFailure };

export interface PassContext {
  signal?: AbortSignal;
  heartbeat: () => void;
}

/**
 * Runs Trivy with `args`, whose `--output` is `outputFile`. With `image`, the report is parsed as
 * that image's scan (an unparsable one is an `UnparsableReport` failure); without, its text is returned.
 */
export async function trivyPass(trivy: TrivySettings, args: string[], outputFile: string, ctx: PassContext, image?: string): Promise<TrivyPass> {
  // `sbom` and `convert` have no layers to cache, and Trivy's SBOM artifact removes its cache entry
  // when done: on the shared Redis cache two scans of SBOMs with the same key raced ("layer cache
  // missing", measured by bench:scan). They get a private memory cache instead.
  const env = args[0] === 'image' || trivy.server ? trivyEnvironment(trivy) : { TRIVY_CACHE_BACKEND: 'memory' };
  // `sbom` and `convert` live a tenth of a second on a bounded heap (an SBOM, no layer): Go's
  // collector off until 1 GiB saves about a fifth of their CPU (75 instead of 97 ms a re-match,
  // measured for bench:scan (d)), where every unchanged image of a weekly run is one of them.
  // An operator's own GOGC/GOMEMLIMIT wins; `image` keeps Go's defaults (layers can be large).
  if (args[0] !== 'image' && process.env.GOGC === undefined && process.env.GOMEMLIMIT === undefined) Object.assign(env, SHORT_LIVED_GO);
  const run = await runTrivy(trivy.bin, args, {
    env,
    timeoutMs: (trivy.timeoutSeconds + (trivy.timeoutGraceSeconds ?? 30)) * 1000,
    signal: ctx.signal,
    onTick: ctx.heartbeat,
    tickMs: trivy.heartbeatSeconds * 1000,
  });
  if (run.timedOut) {
    return { ok: false, failure: { type: 'ScanTimeout', permanent: false, summary: `trivy ${args[0]} of ${image ?? args.at(-1)} exceeded ${trivy.timeoutSeconds}s and was killed` } };
  }
  if (run.exitCode !== 0) return { ok: false, failure: classifyTrivyFailure(run.stderr || `exit code ${run.exitCode ?? run.signal}`) };
  const text = await readFile(outputFile, 'utf8').catch(() => run.stdout);
  if (image === undefined) return { ok: true, text };
  try {
    return { ok: true, text, scan: parseTrivyReport(text, image) };
  } catch (error) {
    if (!(error instanceof UnparsableReportError)) throw error;
    return { ok: false, failure: { type: 'UnparsableReport', permanent: true, summary: error.message } };
  }
}
