import {
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { GitListsRef, ReleaseResult, ScanCursor, ScanReleaseInput } from '../core/run.js';
import { gitListsActivityOptions, listActivityOptions, reportActivityOptions, scanActivityOptions, scannerSetupOptions } from './activity-options.js';
import { describeFailure, invalidInput } from './failure.js';
import {
  releaseProgressQuery,
  releaseResolvedSignal,
  releaseScannedSignal,
  scansAssignedSignal,
  writeReportSignal,
  type ReleasePhase,
  type ReleaseProgress,
} from './messages.js';

const { resolveImages, assignScans, assignedImages } = proxyActivities<Activities>(listActivityOptions);
/** Names fetched per `assignedImages` call (activities/lists/assigned-images.ts caps it the same). */
const NAMES_BATCH = 100;
const { scanImage } = proxyActivities<Activities>(scanActivityOptions);
const { prepareScanner } = proxyActivities<Activities>(scannerSetupOptions);
const { writeReleaseReport } = proxyActivities<Activities>(reportActivityOptions);

export const DEFAULT_MAX_CONCURRENT_SCANS = 8;
/** Far below Temporal's 2,000 pending activities per workflow. */
export const MAX_CONCURRENT_SCANS = 500;
const FAILED_SAMPLE_SIZE = 20;
/** A git source's lists are made by their own activity (generateGitLists) before resolveImages; histories from before call resolveImages alone. */
export const GIT_LISTS_PATCH = 'git-lists-activity';

function checkInput(input: ScanReleaseInput): void {
  if (!input?.runKey) throw invalidInput('scanRelease needs a runKey');
  if (!input.release?.name) throw invalidInput('scanRelease needs release.name');
  const window = input.maxConcurrentScans ?? DEFAULT_MAX_CONCURRENT_SCANS;
  if (!Number.isInteger(window) || window < 1 || window > MAX_CONCURRENT_SCANS) {
    throw invalidInput(`maxConcurrentScans must be an integer from 1 to ${MAX_CONCURRENT_SCANS}, got ${window}`);
  }
  if (input.maxScansPerRun !== undefined && (!Number.isInteger(input.maxScansPerRun) || input.maxScansPerRun < 1)) {
    throw invalidInput(`maxScansPerRun must be a positive integer, got ${input.maxScansPerRun}`);
  }
}

/**
 * One release: resolve its list, scan the images assigned to it through a
 * sliding window, then write its report once every release of the run has
 * scanned (results are shared across releases). Carries counts, never findings.
 */
export async function scanRelease(input: ScanReleaseInput): Promise<ReleaseResult> {
  checkInput(input);
  const name = input.release.name;
  const window = input.maxConcurrentScans ?? DEFAULT_MAX_CONCURRENT_SCANS;
  const parent = workflowInfo().parent;
  const s: ScanCursor = input.resume
    ? { ...input.resume, runs: input.resume.runs + 1 }
    : { total: 0, assigned: 0, cursor: 0, done: 0, failed: 0, failedByType: {}, failedSample: [], counts: { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 }, runs: 0 };
  let phase: ReleasePhase = input.resume ? 'scanning' : 'starting';
  let inFlight = 0;
  let assignment: number | undefined = input.resume?.assigned;
  let reportAllowed = false;

  const progress = (): ReleaseProgress => ({ release: name, phase, total: s.total, assigned: s.assigned, done: s.done, failed: s.failed, inFlight });
  setHandler(releaseProgressQuery, progress);
  setHandler(scansAssignedSignal, ({ assigned }) => {
    assignment = assigned;
  });
  setHandler(writeReportSignal, () => {
    reportAllowed = true;
  });

  try {
    if (!input.resume) {
      phase = 'resolving';
      let generated: GitListsRef | undefined;
      const git = input.release.git;
      if (git && patched(GIT_LISTS_PATCH)) {
        // Its own activity: long, heartbeating, on a worker with Go when gitTaskQueue names one.
        const { generateGitLists } = proxyActivities<Activities>({
          ...gitListsActivityOptions,
          ...(input.gitTaskQueue ? { taskQueue: input.gitTaskQueue } : {}),
          summary: `generate the image lists of ${name} at ${git.ref}`,
        });
        generated = await generateGitLists({ runKey: input.runKey, release: input.release });
      }
      const resolved = await resolveImages({ runKey: input.runKey, release: input.release, mirrorList: input.mirrorList, ...(generated ? { generated } : {}) });
      s.total = resolved.total;
      s.listProblems = resolved.problems;
      s.listProblemSample = resolved.problemSample;
      if (resolved.commit) s.commit = resolved.commit;
      if (parent) {
        await getExternalWorkflowHandle(parent.workflowId).signal(releaseResolvedSignal, { release: name, total: resolved.total });
        phase = 'waiting-for-assignment';
        await condition(() => assignment !== undefined);
      } else {
        assignment = (await assignScans({ runKey: input.runKey, releases: [name] }))[name] ?? 0;
        await prepareScanner({ runKey: input.runKey });
      }
      s.assigned = assignment ?? 0;
    }

    phase = 'scanning';
    // Each scan's activity summary names its image (the Web UI's timeline), from names fetched a
    // hundred at a time. Patched: histories recorded before it schedule no `assignedImages`.
    const named = patched('scan-activity-summary');
    let names: string[] = [];
    let namesFrom = 0;
    let startedThisRun = 0;
    while (s.cursor < s.assigned) {
      await condition(() => inFlight < window);
      if (workflowInfo().continueAsNewSuggested || (input.maxScansPerRun !== undefined && startedThisRun >= input.maxScansPerRun)) {
        // Activities cannot outlive a run: drain, then carry the cursor and counters over.
        await condition(() => inFlight === 0);
        await continueAsNew<typeof scanRelease>({ ...input, resume: s });
      }
      const index = s.cursor++;
      startedThisRun++;
      let scan = scanImage;
      if (named) {
        if (index < namesFrom || index >= namesFrom + names.length) {
          names = await assignedImages({ runKey: input.runKey, release: name, from: index, count: NAMES_BATCH });
          namesFrom = index;
        }
        const image = names[index - namesFrom];
        if (image) scan = proxyActivities<Activities>({ ...scanActivityOptions, summary: image }).scanImage;
      }
      inFlight++;
      void scan({ runKey: input.runKey, release: name, index })
        .then(
          (summary) => {
            s.done++;
            for (const severity of Object.keys(s.counts) as (keyof typeof s.counts)[]) s.counts[severity] += summary.counts[severity];
          },
          (error: unknown) => {
            if (isCancellation(error)) return;
            const failure = describeFailure(error);
            s.failed++;
            s.failedByType[failure.type] = (s.failedByType[failure.type] ?? 0) + 1;
            if (s.failedSample.length < FAILED_SAMPLE_SIZE) s.failedSample.push(failure.message);
          },
        )
        .finally(() => {
          inFlight--;
        });
    }
    await condition(() => inFlight === 0);
  } catch (error) {
    if (isCancellation(error)) {
      // Let every scan acknowledge its cancellation (its Trivy killed) before the run closes.
      await CancellationScope.nonCancellable(() => condition(() => inFlight === 0));
    }
    throw error;
  }

  if (parent) {
    phase = 'waiting-for-other-releases';
    await getExternalWorkflowHandle(parent.workflowId).signal(releaseScannedSignal, progress());
    await condition(() => reportAllowed);
  }
  phase = 'reporting';
  const report = await writeReleaseReport({ runKey: input.runKey, release: name });
  phase = 'completed';
  return {
    release: name,
    total: s.total,
    assigned: s.assigned,
    scanned: s.done,
    failed: s.failed,
    failedByType: s.failedByType,
    failedSample: s.failedSample,
    continuedAsNew: s.runs,
    listProblems: s.listProblems ?? 0,
    listProblemSample: s.listProblemSample ?? [],
    ...(s.commit ? { commit: s.commit } : {}),
    report,
  };
}
