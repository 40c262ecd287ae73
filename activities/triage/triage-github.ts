/** The GitHub calls of triage: comments since a cursor, an issue's image, who may triage, and the answers. */
import { createHash } from 'node:crypto';
import { LABEL_CVE_REPORT } from '../../core/issue-plan.js';
import { readIssueMarker } from '../../core/render/markdown.js';
import { mayTriage } from '../../core/triage-decision.js';
import { replyMarker } from '../../core/triage-reply.js';
import type { GitHubClient } from '../github/github.js';
import type { Repository } from '../github/repository.js';

export interface IssueComment {
  id: number;
  issueNumber: number;
  body: string;
  login: string;
  userType: string;
  createdAt: string;
  updatedAt: string;
  url: string;
}

/**
 * A comment's version: GitHub's `updated_at` has whole seconds, so an edit in the same second as
 * the pass that read the comment keeps it; the body's hash tells. The cursor remembers it, and
 * each reply carries it, so an edit is read and answered again.
 */
export function commentVersion(comment: Pick<IssueComment, 'updatedAt' | 'body'>): string {
  return `${comment.updatedAt} ${createHash('sha256').update(comment.body).digest('hex').slice(0, 16)}`;
}

/** Every comment of the repository updated at or after `since`, oldest first: one request per 100 comments, whatever the number of issues. */
export async function commentsSince(github: GitHubClient, repository: Repository, since: string | undefined): Promise<IssueComment[]> {
  const comments = await github.paginate(github.rest.issues.listCommentsForRepo, { ...repository, sort: 'updated', direction: 'asc', per_page: 100, ...(since ? { since } : {}) });
  return comments.flatMap((c) => {
    const number = Number(/\/issues\/(\d+)$/.exec(c.issue_url)?.[1]);
    if (!Number.isInteger(number)) return [];
    return [{ id: c.id, issueNumber: number, body: c.body ?? '', login: c.user?.login ?? '', userType: c.user?.type ?? '', createdAt: c.created_at, updatedAt: c.updated_at, url: c.html_url }];
  });
}

/** The image of a managed issue (its hidden marker), or undefined for any other issue or pull request. */
export async function imageOfIssue(github: GitHubClient, repository: Repository, issueNumber: number): Promise<string | undefined> {
  const { data } = await github.rest.issues.get({ ...repository, issue_number: issueNumber });
  if (data.pull_request) return undefined;
  const labels = data.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? '')));
  return labels.includes(LABEL_CVE_REPORT) ? readIssueMarker(data.body) : undefined;
}

/** Whether `login` may triage: write, maintain or admin on the repository, else membership of `team` (`org/slug`). */
export async function canTriage(github: GitHubClient, repository: Repository, login: string, team: string | undefined): Promise<boolean> {
  const { data } = await github.rest.repos.getCollaboratorPermissionLevel({ ...repository, username: login });
  if (mayTriage({ permission: data.permission, roleName: data.role_name })) return true;
  if (!team) return false;
  const [org, slug] = team.split('/');
  try {
    const { data: membership } = await github.rest.teams.getMembershipForUserInOrg({ org: org!, team_slug: slug!, username: login });
    return mayTriage({ teamMember: membership.state === 'active' });
  } catch (error) {
    if ((error as { status?: number }).status === 404) return false;
    throw error;
  }
}

/** 👍 on the comment; GitHub answers an existing reaction with 200, so a retry adds none. */
export async function thumbsUp(github: GitHubClient, repository: Repository, commentId: number): Promise<void> {
  await github.rest.reactions.createForIssueComment({ ...repository, comment_id: commentId, content: '+1' });
}

/**
 * Posts the reply unless a reply to this version of the comment is already there (a retry after
 * the reply was sent): the issue's comments since the command are read for its marker first.
 * Returns whether it posted.
 */
export async function replyOnce(github: GitHubClient, repository: Repository, comment: IssueComment, body: string): Promise<boolean> {
  const marker = replyMarker(comment.id, commentVersion(comment));
  const since = await github.paginate(github.rest.issues.listComments, { ...repository, issue_number: comment.issueNumber, since: comment.updatedAt, per_page: 100 });
  if (since.some((c) => (c.body ?? '').includes(marker))) return false;
  // Not retried here: a reply whose answer was lost would be sent twice; the activity's retry looks first.
  await github.rest.issues.createComment({ ...repository, issue_number: comment.issueNumber, body, request: { retries: 0 } });
  return true;
}
