import type { ActivityOptions } from '@temporalio/workflow';
import type { PermanentScanFailure } from '../core/failures.js';

/** Repeated from core/failures.ts (workflows import no values from it); a test keeps the two equal. */
export const PERMANENT_SCAN_FAILURE_TYPES = [
  'ImageNotFound',
  'RegistryUnauthorized',
  'InvalidImageReference',
  'UnparsableReport',
] as const satisfies readonly PermanentScanFailure[];

export const scanActivityOptions: ActivityOptions = {
  // A scan may wait on a registry's pull quota (a 429 pauses pulls) up to the run's deadline
  // (IMAGE_SCANNING_RATE_LIMIT_DEADLINE, 24 h by default), heartbeating; Trivy itself is bounded by
  // TRIVY_TIMEOUT and a dead worker by the heartbeat timeout. Timeouts are not part of replay's check.
  startToCloseTimeout: '26 hours',
  // Scans heartbeat every few seconds; a dead worker is noticed and the scan handed to another.
  heartbeatTimeout: '30 seconds',
  // Wait until Trivy is really killed before the workflow moves on.
  cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...PERMANENT_SCAN_FAILURE_TYPES, 'ScannerNotInstalled', 'ScanAssignmentMissing'],
  },
  summary: 'scan one image with Trivy',
};

export const listActivityOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: ['ImageListNotFound'] },
};

/**
 * A git source's lists: the first time a Go build of Rancher's exporter (10 min cold here, and more
 * on a busy worker) and its script; the activity heartbeats every 10 s, so a dead worker is noticed
 * in minutes. A failure of the script (GitListsFailed) is the release's, for good.
 */
export const gitListsActivityOptions: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 minute', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: ['GitListsFailed', 'InvalidInput'] },
};

export const scannerSetupOptions: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: ['ScannerNotInstalled'] },
};

export const reportActivityOptions: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidPreviousReport'] },
};

/** GitHub pacing (about one content write every 3 s) makes a first run of hundreds of issues take long. */
export const issueActivityOptions: ActivityOptions = {
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '10 minutes',
  retry: {
    initialInterval: '30 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 6,
    nonRetryableErrorTypes: ['GitHubUnauthorized', 'GitHubForbidden', 'GitHubNotFound', 'GitHubGone', 'GitHubValidation'],
  },
};

/** Publishing to a GitHub branch uploads each changed page as a paced write: allow hours, like issues. */
export const publishActivityOptions: ActivityOptions = {
  startToCloseTimeout: '4 hours',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumAttempts: 6, nonRetryableErrorTypes: ['GitHubUnauthorized', 'GitHubForbidden', 'GitHubNotFound'] },
};

/** Triage from issue comments: a few reads, a CSV write per release touched, and paced answers. */
export const triageActivityOptions: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '10 minutes',
  retry: {
    initialInterval: '30 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 6,
    nonRetryableErrorTypes: ['GitHubUnauthorized', 'GitHubForbidden', 'GitHubNotFound', 'GitHubGone', 'GitHubValidation', 'InvalidTriageState', 'InvalidPreviousReport'],
  },
  summary: 'apply /cve commands from issue comments to the release CSVs',
};
