/** The one door of the activities: builds every room's activity from the dependencies built once. */
import type { ActivityDeps } from './deps.js';
import { createReconcileIssues } from './issues/index.js';
import { createAssignedImages, createAssignScans, createResolveImages } from './lists/index.js';
import { createWriteReleaseReport } from './report/index.js';
import { createPrepareScanner, createScanImage } from './scan/index.js';
import { createPublishSite } from './site/index.js';
import { createGenerateGitLists } from './sources/index.js';
import { createApplyIssueTriage } from './triage/index.js';

export type { ActivityDeps, TrivySettings } from './deps.js';

/** The activities of one worker, closing over dependencies built once. */
export function createActivities(deps: ActivityDeps) {
  return {
    generateGitLists: createGenerateGitLists(deps),
    resolveImages: createResolveImages(deps),
    assignScans: createAssignScans(deps),
    assignedImages: createAssignedImages(deps),
    prepareScanner: createPrepareScanner(deps),
    scanImage: createScanImage(deps),
    writeReleaseReport: createWriteReleaseReport(deps),
    applyTriageComments: createApplyIssueTriage(deps),
    reconcileIssues: createReconcileIssues(deps),
    publishSite: createPublishSite(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
