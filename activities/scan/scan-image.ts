/** The scan activity: scans one assigned image with Trivy and stores its normalized result. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { ScanFailure } from '../../core/failures.js';
import { countBySeverity } from '../../core/finding.js';
import type { ImageRecord } from '../../core/image-list.js';
import type { DeferredScan, ImageScan, ScanSummary } from '../../core/scan.js';
import { storeKeys, type ResultStore } from '../store/result-store.js';
import type { TrivySettings } from './trivy-settings.js';
import { countScan } from '../metrics/metrics.js';
import { ScannerNotInstalledError } from './run-trivy.js';
import type { ScanResult } from './scan-by-path.js';
import { activityScannerContext } from './prepare-scanner.js';
import { scanRecord } from './scan-record.js';

export interface ScanImageInput {
  runKey: string;
  release: string;
  /** Position in the release's scan assignment; the image itself is read from the store. */
  index: number;
  /** The workflow re-queues a scan whose registry is paused (see scan-by-path.ts), rather than it waiting here. */
  defer?: boolean;
}

function summarize(scan: ImageScan, resultKey: string): ScanSummary {
  const summary: ScanSummary = { image: scan.image, resultKey, outcome: scan.outcome, counts: countBySeverity(scan.findings) };
  if (scan.scannedAs) summary.scannedAs = scan.scannedAs;
  if (scan.digest) summary.digest = scan.digest;
  return summary;
}

export function createScanImage(deps: { store: ResultStore; trivy: TrivySettings }) {
  const assignments = new Map<string, ImageRecord[]>();

  async function assignedImage(input: ScanImageInput): Promise<ImageRecord> {
    const key = storeKeys.assigned(input.runKey, input.release);
    let assigned = assignments.get(key);
    if (!assigned) {
      assigned = (await deps.store.readJson<ImageRecord[]>(key)) ?? [];
      if (assignments.size > 32) assignments.clear();
      assignments.set(key, assigned);
    }
    const record = assigned[input.index];
    if (!record) {
      throw ApplicationFailure.create({
        type: 'ScanAssignmentMissing',
        message: `release ${input.release} has no image #${input.index} assigned in run ${input.runKey}`,
        nonRetryable: true,
      });
    }
    return record;
  }

  return async function scanImage(input: ScanImageInput): Promise<ScanSummary | DeferredScan> {
    const ctx = Context.current();
    const record = await assignedImage(input);
    const resultKey = storeKeys.result(input.runKey, record.canonical);
    // A retry after a lost completion finds the result already stored: never scan twice in a run.
    const stored = await deps.store.readJson<ImageScan>(resultKey);
    if (stored && stored.outcome !== 'failed') return summarize(stored, resultKey);

    ctx.heartbeat({ image: record.image });
    let outcome: ScanResult;
    const trivyStarted = Date.now();
    try {
      outcome = await scanRecord(deps, record, input.runKey, { ...activityScannerContext(ctx), sleep: (ms) => ctx.sleep(ms) }, { defer: input.defer });
    } catch (error) {
      if (error instanceof ScannerNotInstalledError) {
        throw ApplicationFailure.create({ type: 'ScannerNotInstalled', message: error.message, nonRetryable: true });
      }
      throw error;
    }
    if (outcome.deferred) {
      const d = outcome.deferred;
      ctx.log.info(`scan of ${record.image} put off until ${new Date(d.until).toISOString()}: ${d.registry}'s pull quota is spent${d.remaining ? ` (ratelimit-remaining ${d.remaining})` : ''}`);
      return { image: record.image, deferred: d };
    }
    const failure: ScanFailure | undefined = outcome.failure;
    const scan: ImageScan | undefined = outcome.scan;

    countScan(failure?.type ?? scan!.outcome, (Date.now() - trivyStarted) / 1000);
    if (failure) {
      const failed: ImageScan = { image: record.image, outcome: 'failed', osScanned: false, findings: [], failure, digest: outcome.digest, scannedAs: outcome.scannedAs };
      await deps.store.writeJson(resultKey, failed);
      // A failure the product handles (it is in the summary and on the site) is one log line, not
      // the SDK's stack trace: benign failures are logged at DEBUG by the SDK and count no error metric.
      ctx.log.warn(`scan of ${record.image} failed (attempt ${ctx.info.attempt}${failure.permanent ? ', not retried' : ''}): ${failure.type}: ${failure.summary}`);
      throw ApplicationFailure.create({
        type: failure.type,
        message: `${record.image}: ${failure.summary}`,
        nonRetryable: failure.permanent,
        category: ApplicationFailureCategory.BENIGN,
        // Registries count pulls per hours; retrying in seconds only burns attempts.
        nextRetryDelay: failure.type === 'RegistryRateLimited' ? `${deps.trivy.rateLimitBackoffSeconds}s` : undefined,
      });
    }
    await deps.store.writeJson(resultKey, scan);
    return summarize(scan!, resultKey);
  };
}
