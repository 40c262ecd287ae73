import { condition, isCancellation, patched, proxyActivities, setHandler, startChild, upsertSearchAttributes, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ReleaseResult, RunSummary, ScanReleasesInput, TriageResult } from '../core/run.js';
import { issueActivityOptions, listActivityOptions, publishActivityOptions, scannerSetupOptions, triageActivityOptions } from './activity-options.js';
import { describeFailure, invalidInput } from './failure.js';
import {
  RELEASE_SEARCH_KEY,
  releaseResolvedSignal,
  releaseScannedSignal,
  runProgressQuery,
  scansAssignedSignal,
  writeReportSignal,
  type ReleaseProgress,
  type RunPhase,
} from './messages.js';
import { scanRelease } from './scan-release.js';

const { assignScans } = proxyActivities<Activities>(listActivityOptions);
const { prepareScanner } = proxyActivities<Activities>(scannerSetupOptions);
const { reconcileIssues } = proxyActivities<Activities>(issueActivityOptions);
const { publishSite } = proxyActivities<Activities>(publishActivityOptions);
const { applyTriageComments } = proxyActivities<Activities>(triageActivityOptions);

/**
 * The patch that put triage from issue comments before the reports. Runs recorded before it
 * (test/histories) scheduled no such activity at this point; `patched` keeps their replay on
 * the old command sequence while new runs take the new one.
 */
export const TRIAGE_PATCH = 'triage-comments-before-reports';

type Settled = { ok: true; value: ReleaseResult } | { ok: false; error: unknown };

function checkInput(input: ScanReleasesInput): void {
  if (!input || !Array.isArray(input.releases) || input.releases.length === 0) throw invalidInput('scanReleases needs at least one release');
  const names = new Set<string>();
  for (const release of input.releases) {
    if (!release?.name) throw invalidInput('every release needs a name');
    if (names.has(release.name)) throw invalidInput(`release ${release.name} is listed twice`);
    names.add(release.name);
  }
}

/**
 * The weekly run: one child per release, each unique image scanned once across
 * all of them, then issues and the site built from every release's report.
 * One failing release is reported in the summary; it does not stop the others.
 */
export async function scanReleases(input: ScanReleasesInput): Promise<RunSummary> {
  checkInput(input);
  const info = workflowInfo();
  const runKey = `${info.workflowId}@${info.runId}`;
  const names = input.releases.map((r) => r.name);
  upsertSearchAttributes([{ key: RELEASE_SEARCH_KEY, value: names }]);

  let phase: RunPhase = 'resolving';
  const progress = new Map<string, ReleaseProgress>(
    names.map((name) => [name, { release: name, phase: 'starting', total: 0, assigned: 0, done: 0, failed: 0, inFlight: 0 }]),
  );
  const resolved = new Set<string>();
  const scanned = new Set<string>();
  const settled = new Map<string, Settled>();

  setHandler(runProgressQuery, () => {
    const releases = [...progress.values()].map((p) => ({ ...p }));
    const sum = (pick: (p: ReleaseProgress) => number) => releases.reduce((n, p) => n + pick(p), 0);
    return { phase, total: sum((p) => p.total), assigned: sum((p) => p.assigned), done: sum((p) => p.done), failed: sum((p) => p.failed), inFlight: sum((p) => p.inFlight), releases };
  });
  setHandler(releaseResolvedSignal, ({ release, total }) => {
    const p = progress.get(release);
    if (!p) return;
    p.total = total;
    p.phase = 'waiting-for-assignment';
    resolved.add(release);
  });
  setHandler(releaseScannedSignal, (snapshot) => {
    if (!progress.has(snapshot.release)) return;
    progress.set(snapshot.release, { ...snapshot });
    scanned.add(snapshot.release);
  });

  const children = new Map<string, ChildWorkflowHandle<typeof scanRelease>>();
  for (const release of input.releases) {
    try {
      const handle = await startChild(scanRelease, {
        workflowId: `${info.workflowId}/${release.name}`,
        args: [{ runKey, release, mirrorList: input.mirrorList, maxConcurrentScans: input.maxConcurrentScans, maxScansPerRun: input.maxScansPerRun, ...(input.gitTaskQueue ? { gitTaskQueue: input.gitTaskQueue } : {}) }],
        typedSearchAttributes: [{ key: RELEASE_SEARCH_KEY, value: [release.name] }],
        staticSummary: `Scan the images of release ${release.name}`,
      });
      children.set(release.name, handle);
      // Handled at once so a failing child never becomes an unhandled rejection.
      void handle.result().then(
        (value) => settle(release.name, { ok: true, value }),
        (error: unknown) => settle(release.name, { ok: false, error }),
      );
    } catch (error) {
      settle(release.name, { ok: false, error });
    }
  }
  function settle(name: string, outcome: Settled): void {
    settled.set(name, outcome);
    const p = progress.get(name)!;
    if (outcome.ok) {
      const r = outcome.value;
      Object.assign(p, { phase: 'completed', total: r.total, assigned: r.assigned, done: r.scanned, failed: r.failed, inFlight: 0 });
    } else {
      p.phase = 'failed';
      p.inFlight = 0;
    }
  }
  let triage: TriageResult | undefined;
  const allReached = (stage: Set<string>) => () => names.every((n) => stage.has(n) || settled.has(n));

  await condition(allReached(resolved));
  const live = names.filter((n) => resolved.has(n) && !settled.has(n));
  if (live.length > 0) {
    const assignment = await assignScans({ runKey, releases: live });
    await prepareScanner({ runKey });
    phase = 'scanning';
    for (const name of live) {
      progress.get(name)!.assigned = assignment[name] ?? 0;
      progress.get(name)!.phase = 'scanning';
      await children.get(name)!.signal(scansAssignedSignal, { assigned: assignment[name] ?? 0 });
    }
    await condition(allReached(scanned));
    if (!input.skipPublish && patched(TRIAGE_PATCH)) {
      // Decisions made in issue comments reach the CSVs before the reports merge them. Triage is
      // never a reason to lose a week's reports: when it fails for good, the reports are written without it.
      phase = 'triage';
      try {
        triage = await applyTriageComments({ releases: live.filter((n) => !settled.has(n)), repository: input.issueRepository, refreshBaseline: true });
      } catch (error) {
        if (isCancellation(error)) throw error;
        triage = undefined;
      }
    }
    // Every scan of the run is finished: each release may now read the results of images other releases scanned.
    phase = 'reporting';
    for (const name of live) {
      if (settled.has(name)) continue;
      progress.get(name)!.phase = 'reporting';
      await children.get(name)!.signal(writeReportSignal).catch(() => undefined);
    }
  }
  await condition(() => settled.size === names.length);

  const releases: RunSummary['releases'] = names.map((name) => {
    const outcome = settled.get(name)!;
    return outcome.ok
      ? { release: name, status: 'completed', result: outcome.value }
      : { release: name, status: 'failed', error: `${describeFailure(outcome.error).type}: ${describeFailure(outcome.error).message}` };
  });
  const reported = releases.filter((r) => r.result?.report).map((r) => r.release);
  const summary: RunSummary = {
    runKey,
    releases,
    scannedImages: releases.reduce((n, r) => n + (r.result?.scanned ?? 0), 0),
    failedScans: releases.reduce((n, r) => n + (r.result?.failed ?? 0), 0),
    ...(triage ? { triage } : {}),
  };
  if (!input.skipPublish && reported.length > 0) {
    phase = 'reconciling-issues';
    // Releases whose `issues` switch is off get CSV and site, but no issue and no mention in issue bodies (issue 24).
    // Only the activity's input changes, not the command sequence: recorded histories replay unchanged.
    const ticketed = reported.filter((name) => input.releases.find((r) => r.name === name)?.issues !== false);
    summary.issues = await reconcileIssues({ runKey, releases: ticketed, repository: input.issueRepository });
    phase = 'publishing';
    summary.sitePath = (await publishSite({ runKey, releases: reported })).sitePath;
  }
  phase = 'completed';
  return summary;
}
