import {
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { GitListsRef, ReleaseResult, ScanCursor, ScanReleaseInput } from '../core/run.js';
import type { RegistryWait } from '../core/scan.js';
import { gitListsActivityOptions, listActivityOptions, reportActivityOptions, scanActivityOptions, scannerSetupOptions } from './activity-options.js';
import { describeFailure, invalidInput } from './failure.js';
import {
  releaseProgressQuery,
  releaseResolvedSignal,
  releaseScannedSignal,
  scansAssignedSignal,
  writeReportSignal,
  type RegistryWaiting,
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
/** Images named per registry in the progress answer and the Web UI's details. */
const WAITING_NAMES = 5;
/** A put-off scan is not tried again sooner than this, whatever its registry said. */
const MIN_RETRY_MS = 1000;

/** The images put off per registry, for the progress query and the Web UI. */
function waitingByRegistry(waits: Map<number, { image: string; wait: RegistryWait }>): RegistryWaiting[] {
  const by = new Map<string, RegistryWaiting>();
  for (const { image, wait } of waits.values()) {
    let w = by.get(wait.registry);
    if (!w) {
      w = { registry: wait.registry, count: 0, images: [], until: 0 };
      by.set(wait.registry, w);
    }
    w.count++;
    if (w.images.length < WAITING_NAMES) w.images.push(image);
    w.until = Math.max(w.until, wait.until);
    if (wait.remaining !== undefined) w.remaining = wait.remaining;
    if (wait.limit !== undefined) w.limit = wait.limit;
  }
  return [...by.values()].sort((a, b) => a.registry.localeCompare(b.registry));
}

/** One line a person reads in the Web UI (workflow details, timer summaries) about images waiting on a registry. */
export function describeWaiting(w: RegistryWaiting): string {
  const more = w.count > w.images.length ? ` and ${w.count - w.images.length} more` : '';
  const figures = w.remaining !== undefined ? ` (ratelimit-remaining ${w.remaining}${w.limit !== undefined ? `, limit ${w.limit}` : ''})` : '';
  return `${w.count} image${w.count === 1 ? '' : 's'} waiting on ${w.registry}'s pull quota${figures} until ${new Date(w.until).toISOString()}: ${w.images.join(', ')}${more}`;
}

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
  /** Scans put off on a paused registry, by index, until their timer fires; then `ready` again. */
  const waits = new Map<number, { image: string; wait: RegistryWait }>();
  const ready: number[] = [...(input.resume?.retry ?? [])];
  const showWaiting = () => {
    const waiting = waitingByRegistry(waits);
    setCurrentDetails(waiting.length ? waiting.map(describeWaiting).join('\n') : '');
  };

  const progress = (): ReleaseProgress => {
    const p: ReleaseProgress = { release: name, phase, total: s.total, assigned: s.assigned, done: s.done, failed: s.failed, inFlight };
    if (waits.size > 0) p.waiting = waitingByRegistry(waits);
    return p;
  };
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
    // A scan whose registry's quota is spent comes back at once, put off (activities/scan/scan-by-path.ts):
    // it waits on a timer here, behind the others, holding no slot of the window or of a worker.
    // Patched: before it, such scans waited inside the activity, and histories recorded so replay as they were.
    const deferring = patched('scan-defer-on-quota');
    let names: string[] = [];
    let namesFrom = 0;
    let startedThisRun = 0;
    for (;;) {
      // Without deferring `ready` and `waits` stay empty: the same commands as the loop before the patch.
      await condition(() => inFlight < window && (s.cursor < s.assigned || ready.length > 0 || (waits.size === 0 && inFlight === 0)));
      if (s.cursor >= s.assigned && ready.length === 0) break;
      if (workflowInfo().continueAsNewSuggested || (input.maxScansPerRun !== undefined && startedThisRun >= input.maxScansPerRun)) {
        // Activities cannot outlive a run: drain, then carry the cursor, the counters and the put-off scans over.
        await condition(() => inFlight === 0);
        const retry = [...ready, ...waits.keys()];
        await continueAsNew<typeof scanRelease>({ ...input, resume: retry.length ? { ...s, retry } : { ...s, retry: undefined } });
      }
      const index = s.cursor < s.assigned ? s.cursor++ : ready.shift()!;
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
      void scan(deferring ? { runKey: input.runKey, release: name, index, defer: true } : { runKey: input.runKey, release: name, index })
        .then(
          (summary) => {
            if ('deferred' in summary) {
              const wait = summary.deferred;
              waits.set(index, { image: summary.image, wait });
              showWaiting();
              const line = describeWaiting({ registry: wait.registry, count: 1, images: [summary.image], until: wait.until, remaining: wait.remaining, limit: wait.limit });
              // Workflow time: deterministic on replay. A cancelled run drops the timer with the scan.
              void sleep(Math.max(MIN_RETRY_MS, wait.until - Date.now()), { summary: line.slice(0, 400) }).then(
                () => {
                  waits.delete(index);
                  ready.push(index);
                  showWaiting();
                },
                () => waits.delete(index),
              );
              return;
            }
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
