/** The product's own counters (scans by outcome, Trivy's seconds, GitHub writes), beside the SDK's. */
import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';

/**
 * The product's own counters, where the SDK has none, exported through the worker's Prometheus
 * endpoint (Runtime telemetry) beside the SDK's: scans by outcome, Trivy's seconds, GitHub
 * writes. Outside an activity (the CLI's `issues apply`) there is no meter and nothing is counted.
 */
function meter(): MetricMeter | undefined {
  try {
    return Context.current().metricMeter;
  } catch {
    return undefined;
  }
}

/** outcome: findings, clean, os-not-scanned, or the failure type. */
export function countScan(outcome: string, trivySeconds: number): void {
  const m = meter();
  if (!m) return;
  m.createCounter('image_scanning_scans', 'scans', 'image scans by outcome').add(1, { outcome });
  m.createHistogram('image_scanning_trivy_seconds', 'float', 's', 'wall time of one Trivy run').record(trivySeconds, { outcome });
}

export function countGitHubWrite(method: string): void {
  meter()?.createCounter('image_scanning_github_writes', 'requests', 'GitHub requests that change something').add(1, { method });
}
