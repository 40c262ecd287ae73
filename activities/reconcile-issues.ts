import { buildDesiredIssues, countPlan, planIssueChanges, type ExistingIssue } from '../core/issue-plan.js';
import { renderIssuePlanMarkdown } from '../core/render/plan.js';
import type { IssueReconciliation } from '../core/run.js';
import type { ActivityDeps } from './deps.js';
import { loadReports } from './load-reports.js';
import { reportPaths } from './reports.js';
import { writeFileAtomic } from './result-store.js';

/**
 * Builds the issue every image should have across the run's releases and plans
 * the changes. Without a GitHub client the plan is written for people and tools
 * and nothing is changed.
 */
export function createReconcileIssues(deps: ActivityDeps) {
  return async function reconcileIssues(input: { runKey: string; releases: string[] }): Promise<IssueReconciliation> {
    const reports = await loadReports(deps, input.runKey, input.releases);
    const desired = buildDesiredIssues(reports);
    const existing: ExistingIssue[] = [];
    const plan = planIssueChanges(desired, existing, { reportLink: 'the release CSVs and site' });
    const planPath = reportPaths.planMarkdown(deps.reportsDir);
    await writeFileAtomic(planPath, renderIssuePlanMarkdown(plan, deps.issueRepository));
    await writeFileAtomic(reportPaths.planJson(deps.reportsDir), `${JSON.stringify({ repository: deps.issueRepository ?? null, ...plan }, null, 2)}\n`);
    return { applied: false, planPath, ...countPlan(plan), held: plan.held.length };
  };
}
