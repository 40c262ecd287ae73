/** The GitHub calls of issue reconciliation: list managed issues, ensure labels, apply one change. */
import { ApplicationFailure } from '@temporalio/common';
import { labelStyle, LABEL_CVE_REPORT, type ExistingIssue, type IssueChange } from '../../core/issue-plan.js';
import type { GitHubClient } from '../github/github.js';
import type { Repository } from '../github/repository.js';

/** GitHub answers that retrying cannot change; everything else is left to Temporal's retries. */
const PERMANENT: Record<number, string> = { 401: 'GitHubUnauthorized', 403: 'GitHubForbidden', 404: 'GitHubNotFound', 410: 'GitHubGone', 422: 'GitHubValidation' };

/** Maps an Octokit error to a failure type without ever echoing request headers (the token). */
export function toGitHubFailure(error: unknown, what: string): Error {
  const status = (error as { status?: number }).status;
  const message = `${what}: GitHub answered ${status ?? 'no response'}: ${(error as Error).message}`;
  // A rate limit the throttling plugin gave up on is still only a matter of time.
  if (/rate limit/i.test(String((error as Error).message))) return ApplicationFailure.create({ type: 'GitHubRateLimited', message });
  if (status !== undefined && PERMANENT[status]) return ApplicationFailure.create({ type: PERMANENT[status], message, nonRetryable: true });
  return ApplicationFailure.create({ type: 'GitHubUnavailable', message });
}

/** Every issue the product manages, open and closed: one list request per 100 issues, never a search per image. */
export async function listManagedIssues(github: GitHubClient, repository: Repository): Promise<ExistingIssue[]> {
  const issues = await github.paginate(github.rest.issues.listForRepo, { ...repository, labels: LABEL_CVE_REPORT, state: 'all', per_page: 100 });
  return issues
    .filter((i) => !i.pull_request)
    .map((i) => ({
      number: i.number,
      title: i.title,
      body: i.body ?? '',
      state: i.state === 'closed' ? 'closed' : 'open',
      labels: i.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter((l) => l !== ''),
      url: i.html_url,
    }));
}

/** Creates the labels the plan needs that the repository lacks; returns how many were created. */
export async function ensureLabels(github: GitHubClient, repository: Repository, labels: string[]): Promise<number> {
  const existing = new Set((await github.paginate(github.rest.issues.listLabelsForRepo, { ...repository, per_page: 100 })).map((l) => l.name));
  let created = 0;
  for (const name of labels) {
    if (existing.has(name)) continue;
    try {
      await github.rest.issues.createLabel({ ...repository, name, ...labelStyle(name) });
      created++;
    } catch (error) {
      // Created meanwhile by another run or a person: that is what we wanted.
      if ((error as { status?: number }).status !== 422) throw error;
    }
  }
  return created;
}

/** Applies one planned change; returns the issue's URL when it created one. */
export async function applyChange(github: GitHubClient, repository: Repository, change: IssueChange): Promise<string | undefined> {
  switch (change.action) {
    case 'create':
      // Not retried here: a create whose answer was lost would be sent twice. The activity's retry
      // re-lists and re-plans instead, and finds the issue if it was made.
      return (await github.rest.issues.create({ ...repository, title: change.title, body: change.body, labels: change.labels, request: { retries: 0 } })).data.html_url;
    case 'update':
      await github.rest.issues.update({
        ...repository,
        issue_number: change.number,
        title: change.title,
        body: change.body,
        labels: change.labels,
        ...(change.reopen ? { state: 'open' as const } : {}),
      });
      return;
    case 'close':
      await github.rest.issues.createComment({ ...repository, issue_number: change.number, body: change.comment, request: { retries: 0 } });
      await github.rest.issues.update({ ...repository, issue_number: change.number, state: 'closed', state_reason: 'completed' });
      return;
  }
}
