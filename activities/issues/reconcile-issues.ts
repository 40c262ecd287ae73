/** The issue activity: plans one issue per affected image from the stored reports and applies it. */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { imagePageName } from '../../core/render/html.js';
import { countPlan, DesiredIssuesBuilder, indexExistingIssues, planIssueChanges, type ExistingIssue, type IssuePlan } from '../../core/issue-plan.js';
import { renderIssuePlanMarkdown } from '../../core/render/plan.js';
import type { IssueProgress, IssueReconciliation } from '../../core/run.js';
import type { ReleaseReport } from '../../core/triage.js';
import type { GitHubClient } from '../github/github.js';
import { parseRepository } from '../github/repository.js';
import { applyChange, ensureLabels, listManagedIssues, toGitHubFailure } from './issue-tracker.js';
import { asReportSource, imagesOf, loadReports, rowsByImage, type ReportSource } from '../report/stored-report.js';
import { reportPaths } from '../report/report-paths.js';
import { temporaryPath, writeFileAtomic, type ResultStore } from '../store/result-store.js';

/**
 * `issue-plan.json`, one change at a time: the plan of a large run holds every issue body (tens
 * of MB), and one JSON.stringify of it would hold a second copy. Same JSON as
 * `JSON.stringify({ repository, ...plan }, null, 2)`.
 */
async function writePlanJson(path: string, repository: string | undefined, plan: IssuePlan): Promise<void> {
  const tmp = temporaryPath(path);
  const out = createWriteStream(tmp);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const nested = (value: unknown) => JSON.stringify(value, null, 2).replace(/\n/g, '\n  ');
  try {
    await write(`{\n  "repository": ${JSON.stringify(repository ?? null)},\n  "changes": [`);
    for (const [i, change] of plan.changes.entries()) await write(`${i ? ',' : ''}\n    ${JSON.stringify(change, null, 2).replace(/\n/g, '\n    ')}`);
    await write(`${plan.changes.length ? '\n  ' : ''}],\n  "unchanged": ${plan.unchanged},\n  "held": ${nested(plan.held)},\n  "labels": ${nested(plan.labels)}\n}\n`);
    out.end();
    await once(out, 'finish');
    await rename(tmp, path);
  } catch (error) {
    out.destroy();
    await rm(tmp, { force: true });
    throw error;
  }
}

/** What issue reconciliation needs: where the plan is written, and the repository and client it applies to. */
export interface IssueDeps {
  reportsDir: string;
  siteUrl?: string;
  issueRepository?: string;
  github?: GitHubClient;
  githubCanWrite?: boolean;
}

export interface ReconcileOptions {
  /** Apply the plan (needs a token); otherwise only write it. */
  apply: boolean;
  /** Called before each GitHub write, and after the last, with how far the writes are. */
  heartbeat?: (progress: IssueProgress) => void;
}

/**
 * Builds the issue every image should have, reads what GitHub has, plans the
 * fewest changes and applies them (or only writes the plan). Every attempt
 * re-reads and re-plans, so a retry after a crash never creates an issue twice.
 */
export async function reconcileReports(deps: IssueDeps, reports: (ReleaseReport | ReportSource)[], options: ReconcileOptions): Promise<IssueReconciliation & { plan: IssuePlan }> {
  const siteUrl = deps.siteUrl?.replace(/\/?$/, '/');
  const bodyOptions = {
    reportLink: siteUrl ? `the release CSV and the CVE site (${siteUrl})` : 'the release CSV and the CVE site',
    imagePageUrl: siteUrl ? (image: string) => `${siteUrl}${imagePageName(image)}` : undefined,
  };
  // The releases' rows are read merged by image, and each image's issue is settled (its body
  // rendered, its findings let go) before the next image's rows are read.
  const sources = reports.map(asReportSource);
  const builder = new DesiredIssuesBuilder();
  for (const report of sources) builder.addRelease(report.head);
  for await (const { image, rows } of rowsByImage(sources, imagesOf(sources))) {
    rows.forEach((ofImage, i) => ofImage.forEach((row) => builder.addRow(sources[i]!.head.release, row)));
    builder.finishImage(image, bodyOptions);
  }
  const desired = builder.build();
  const repository = deps.issueRepository ? parseRepository(deps.issueRepository) : undefined;
  let existing: ExistingIssue[] = [];
  if (repository && deps.github) {
    try {
      existing = await listManagedIssues(deps.github, repository);
    } catch (error) {
      throw toGitHubFailure(error, `listing the cve-report issues of ${deps.issueRepository}`);
    }
  }
  const plan = planIssueChanges(desired, existing, bodyOptions);
  const planPath = reportPaths.planMarkdown(deps.reportsDir);
  await writeFileAtomic(planPath, renderIssuePlanMarkdown(plan, deps.issueRepository));
  await writePlanJson(reportPaths.planJson(deps.reportsDir), deps.issueRepository, plan);

  const applied = options.apply && repository !== undefined && deps.github !== undefined && deps.githubCanWrite === true;
  // image → issue URL, for the site's image view.
  const links: Record<string, string> = {};
  for (const [image, issue] of indexExistingIssues(existing)) if (issue.url) links[image] = issue.url;
  if (applied) {
    try {
      await ensureLabels(deps.github!, repository!, plan.labels);
    } catch (error) {
      throw toGitHubFailure(error, `creating labels in ${deps.issueRepository}`);
    }
    for (const [done, change] of plan.changes.entries()) {
      options.heartbeat?.({ phase: 'issues', done, total: plan.changes.length });
      try {
        const url = await applyChange(deps.github!, repository!, change);
        if (url) links[change.image] = url;
      } catch (error) {
        throw toGitHubFailure(error, `${change.action} issue for ${change.image} in ${deps.issueRepository}`);
      }
    }
    options.heartbeat?.({ phase: 'issues', done: plan.changes.length, total: plan.changes.length });
  }
  await writeFileAtomic(reportPaths.issueLinks(deps.reportsDir), `${JSON.stringify(links, Object.keys(links).sort(), 2)}\n`);
  return { applied, planPath, ...countPlan(plan), held: plan.held.length, plan };
}

export function createReconcileIssues(deps: IssueDeps & { store: ResultStore }) {
  return async function reconcileIssues(input: { runKey: string; releases: string[]; repository?: string }): Promise<IssueReconciliation> {
    const reports = await loadReports(deps, input.runKey, input.releases);
    const ctx = Context.current();
    const target = input.repository ? { ...deps, issueRepository: input.repository } : deps;
    const { plan: _plan, ...result } = await reconcileReports(target, reports, { apply: true, heartbeat: (progress) => ctx.heartbeat(progress) });
    return result;
  };
}
