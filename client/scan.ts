import { readFile } from 'node:fs/promises';
import { SingleBar, Presets } from 'cli-progress';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { FailedImage } from '../core/triage.js';
import type { RunSummary, ScanReleasesInput } from '../core/run.js';
import { RELEASE_SEARCH_KEY, runProgressQuery, TASK_QUEUE, type RunProgress } from '../workflows/messages.js';
import { scanReleases } from '../workflows/scan-releases.js';

export function newRunId(input: ScanReleasesInput): string {
  const names = input.releases.map((r) => r.name).join('+');
  return `scan-${names.slice(0, 80)}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
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

/** Polls the run's `progress` query about once a second and draws a bar until the run ends. */
export async function followRun(handle: WorkflowHandle<typeof scanReleases>, stream: NodeJS.WriteStream = process.stderr): Promise<RunSummary> {
  const bar = new SingleBar(
    { stream, format: '{phase} |{bar}| {value}/{total} images scanned or failed | {failed} failed | {inFlight} in flight', hideCursor: true, noTTYOutput: false },
    Presets.shades_classic,
  );
  let started = false;
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  const draw = (p: RunProgress) => {
    const payload = { phase: p.phase.padEnd(18), failed: p.failed, inFlight: p.inFlight };
    const finished = p.done + p.failed;
    if (!started) {
      bar.start(Math.max(p.assigned, 1), finished, payload);
      started = true;
    }
    bar.setTotal(Math.max(p.assigned, 1));
    bar.update(finished, payload);
  };
  try {
    while (!done) {
      try {
        draw(await handle.query(runProgressQuery));
      } catch {
        // The run may not have processed its first task yet.
      }
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
    try {
      draw(await handle.query(runProgressQuery));
    } catch {
      // Queries after completion need a worker; the result is what matters.
    }
  } finally {
    if (started) bar.stop();
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
