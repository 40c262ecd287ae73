import { createAssignScans } from './assign-scans.js';
import type { ActivityDeps } from './deps.js';
import { createPrepareScanner } from './prepare-scanner.js';
import { createPublishSite } from './publish-site.js';
import { createReconcileIssues } from './reconcile-issues.js';
import { createResolveImages } from './resolve-images.js';
import { createScanImage } from './scan-image.js';
import { createWriteReleaseReport } from './write-release-report.js';

export type { ActivityDeps, TrivySettings } from './deps.js';

/** The activities of one worker, closing over dependencies built once. */
export function createActivities(deps: ActivityDeps) {
  return {
    resolveImages: createResolveImages(deps),
    assignScans: createAssignScans(deps),
    prepareScanner: createPrepareScanner(deps),
    scanImage: createScanImage(deps),
    writeReleaseReport: createWriteReleaseReport(deps),
    reconcileIssues: createReconcileIssues(deps),
    publishSite: createPublishSite(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
