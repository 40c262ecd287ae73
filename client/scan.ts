import { readFile } from 'node:fs/promises';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FailedImage } from '../core/triage.js';
import { ProgressReporter, type ProgressSnapshot } from './progress.js';
import type { IssueProgress, RunSummary, ScanReleasesInput } from '../core/run.js';
import { RELEASE_SEARCH_KEY, releaseProgressQuery, runProgressQuery, TASK_QUEUE, type RegistryWaiting, type RunProgress } from '../workflows/messages.js';
import { scanReleases } from '../workflows/scan-releases.js';

export function newRunId(input: ScanReleasesInput): string {
  const names = input.releases.map((r) => r.name).join('+');
  return `scan-${names.slice(0, 80)}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
}

/**
 * The task queue of one embedded run (`run`, `demo`): only the run's in-process worker polls it,
 * so no other worker on the same server (a second `run`, a long-lived `worker`, a cluster's)
 * takes its workflow or activity tasks and runs them with its own store, reports and token.
 * Children and activities inherit it: nothing in workflows/ names a queue.
 */
export function runTaskQueue(sharedQueue: string, workflowId: string): string {
  return `${sharedQueue}-run-${workflowId}`;
}

export async function startRun(client: Client, input: ScanReleasesInput, options: { taskQueue?: string; workflowId?: string } = {}): Promise<WorkflowHandle<typeof scanReleases>> {
  return client.workflow.start(scanReleases, {
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowId: options.workflowId ?? newRunId(input),
    args: [input],
    typedSearchAttributes: [{ key: RELEASE_SEARCH_KEY, value: input.releases.map((r) => r.name) }],
    staticSummary: `CVE scan of ${input.releases.map((r) => r.name).join(', ')}`,
  });
}

/** The issue phase's progress, from the pending reconcileIssues activity's heartbeat (the workflow cannot see it). */
async function issueProgress(handle: WorkflowHandle<typeof scanReleases>): Promise<IssueProgress | undefined> {
  const description = await handle.describe();
  const pending = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'reconcileIssues');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  if (!payload) return undefined;
  const details = defaultPayloadConverter.fromPayload<IssueProgress>(payload);
  return details?.phase === 'issues' ? details : undefined;
}

/**
 * Images waiting on a registry's pull quota, from each scanning release's own progress (the
 * parent hears from a release only when it has scanned), merged per registry.
 */
export async function waitingOf(handle: WorkflowHandle<typeof scanReleases>, p: RunProgress): Promise<RegistryWaiting[]> {
  const scanning = p.releases.filter((r) => r.phase === 'scanning');
  const answers = await Promise.all(
    scanning.map((r) =>
      handle.client
        .getHandle(`${handle.workflowId}/${r.release}`)
        .query(releaseProgressQuery)
        .catch(() => undefined),
    ),
  );
  const by = new Map<string, RegistryWaiting>();
  for (const w of answers.flatMap((a) => a?.waiting ?? [])) {
    const seen = by.get(w.registry);
    if (!seen) by.set(w.registry, { ...w, images: [...w.images] });
    else {
      seen.count += w.count;
      seen.images.push(...w.images.slice(0, Math.max(0, 5 - seen.images.length)));
      seen.until = Math.max(seen.until, w.until);
      seen.remaining = w.remaining ?? seen.remaining;
      seen.limit = w.limit ?? seen.limit;
    }
  }
  return [...by.values()];
}

/** What to show for a progress answer: images while scanning, issue writes while reconciling. */
async function snapshotOf(handle: WorkflowHandle<typeof scanReleases>, p: RunProgress): Promise<ProgressSnapshot> {
  if (p.phase === 'reconciling-issues') {
    const issues = await issueProgress(handle).catch(() => undefined);
    if (issues) return { phase: p.phase, done: issues.done, total: issues.total, unit: 'issue writes' };
  }
  const snapshot: ProgressSnapshot = { phase: p.phase, done: p.done + p.failed, total: p.assigned, unit: 'images scanned or failed', failed: p.failed, inFlight: p.inFlight };
  if (p.phase === 'scanning') {
    const waiting = await waitingOf(handle, p).catch(() => []);
    if (waiting.length) snapshot.waiting = waiting;
  }
  return snapshot;
}

/**
 * Polls the run's `progress` query about once a second until the run ends: a bar on a terminal,
 * else a plain line every 10 s (phase, done/total, ETA), through every phase, issues included.
 */
export async function followRun(handle: WorkflowHandle<typeof scanReleases>, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): Promise<RunSummary> {
  const reporter = new ProgressReporter(stream);
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  const draw = async () => reporter.update(await snapshotOf(handle, await handle.query(runProgressQuery)));
  try {
    while (!done) {
      // The run may not have processed its first task yet.
      await draw().catch(() => undefined);
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
    // Queries after completion need a worker; the result is what matters.
    await draw().catch(() => undefined);
  } finally {
    reporter.stop();
  }
  return result;
}

export function describeRunFailure(error: unknown): string {
  if (error instanceof WorkflowFailedError) return `the run failed: ${error.cause?.message ?? error.message}`;
  return (error as Error).message;
}

/** What a person needs after a run: where the outputs are and what failed. */
export function formatRunSummary(summary: RunSummary): string {
  const lines: string[] = [];
  for (const r of summary.releases) {
    if (r.status === 'failed') {
      lines.push(`release ${r.release}: FAILED: ${r.error}`);
      continue;
    }
    const res = r.result!;
    lines.push(
      `release ${r.release}: ${res.total} images, ${res.scanned} scanned here (${res.total - res.assigned} shared with another release), ${res.failed} failed scans` +
        (res.report ? `, ${res.report.findings} findings; CSV ${res.report.csvPath}` : ''),
    );
    for (const sample of res.failedSample.slice(0, 5)) lines.push(`  failed: ${sample}`);
    if (res.listProblems > 0) lines.push(`  ${res.listProblems} malformed list line(s) skipped:`);
    for (const problem of res.listProblemSample) lines.push(`    ${problem}`);
  }
  if (summary.issues) lines.push(`issues: ${summary.issues.create} to create, ${summary.issues.update} to update, ${summary.issues.close} to close; plan ${summary.issues.planPath}`);
  if (summary.sitePath) lines.push(`site: ${summary.sitePath}`);
  return lines.join('\n');
}

export function runFailed(summary: RunSummary): boolean {
  return summary.releases.some((r) => r.status === 'failed');
}

/** Exit statuses of `run` and `scan --follow` (README): 3 is a run that completed without some images. */
export const EXIT_RUN_FAILED = 1;
export const EXIT_SCANS_FAILED = 3;

/**
 * One line per image that could not be scanned: from the release's summary file when this
 * machine can read it (every image), else from the run's result (the first 20, and a count).
 */
export async function failedScanLines(summary: RunSummary): Promise<string[]> {
  const lines: string[] = [];
  for (const r of summary.releases) {
    const result = r.result;
    if (!result || result.failed === 0) continue;
    const fromFile = result.report
      ? await readFile(result.report.summaryPath, 'utf8').then(
          (text) => (JSON.parse(text) as { failedImages?: FailedImage[] }).failedImages,
          () => undefined,
        )
      : undefined;
    if (fromFile && fromFile.length > 0) {
      for (const f of fromFile) lines.push(`failed scan: ${r.release}: ${f.image}: ${f.type}: ${f.summary}`);
      continue;
    }
    for (const sample of result.failedSample) lines.push(`failed scan: ${r.release}: ${sample}`);
    if (result.failed > result.failedSample.length) lines.push(`failed scan: ${r.release}: and ${result.failed - result.failedSample.length} more (see ${result.report?.summaryPath ?? 'the release summary'})`);
  }
  return lines;
}

/** The exit status of a finished run: 1 when a release failed, 3 when scans failed, else 0; failed images go to stderr. */
export async function runExitStatus(summary: RunSummary, stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (runFailed(summary)) return EXIT_RUN_FAILED;
  const lines = await failedScanLines(summary);
  for (const line of lines) stderr.write(`${line}\n`);
  return lines.length > 0 ? EXIT_SCANS_FAILED : 0;
}
