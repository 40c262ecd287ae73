/** The triage activity: reads new `/cve` comments on the product's issues, writes their decisions into the release CSVs, and answers each. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TriageResult } from '../../core/run.js';
import { parseTriageComment } from '../../core/triage-command.js';
import { TriageCsv } from '../../core/triage-csv.js';
import { planComment, type ReleaseRows } from '../../core/triage-plan.js';
import { isTriageReply, renderTriageReply, type ReplyProblem } from '../../core/triage-reply.js';
import type { GitHubClient } from '../github/github.js';
import { parseRepository } from '../github/repository.js';
import { toGitHubFailure } from '../issues/issue-tracker.js';
import { csvFileName } from '../report/report-paths.js';
import { reportStoreOf, type ReportLocation, type ReportStore } from '../store/report-store.js';
import { canTriage, commentVersion, commentsSince, imageOfIssue, replyOnce, thumbsUp, type IssueComment } from './triage-github.js';

/** Where the cursor lives, beside the CSVs in the report store. */
export const TRIAGE_STATE_NAME = 'triage-state.json';

/** The cursor: the newest comment update read, the comments (by id) read at that version (see `commentVersion`), and each release's written rows then. */
interface TriageStateFile {
  version: 1;
  since?: string;
  processed: Record<string, string>;
  baseline: Record<string, Record<string, [string, string, string]>>;
}

export interface TriageDeps extends ReportLocation {
  github?: GitHubClient;
  githubCanWrite?: boolean;
  issueRepository?: string;
  /** `org/team-slug` whose members may triage besides the repository's writers. */
  triageTeam?: string;
}

export interface TriageInput {
  releases: string[];
  repository?: string;
  /** Weekly runs refresh each release's baseline even without new comments (they write anyway); `issues sync` does not. */
  refreshBaseline?: boolean;
}

const SUSPECT = /(^|\n)\s{0,3}\/cve\b/i;

async function readState(store: ReportStore): Promise<{ state: TriageStateFile; version?: string; existed: boolean }> {
  const stored = await store.read(TRIAGE_STATE_NAME);
  if (!stored) return { state: { version: 1, processed: {}, baseline: {} }, existed: false };
  try {
    const parsed = JSON.parse(stored.text) as TriageStateFile;
    if (parsed.version !== 1 || typeof parsed.processed !== 'object' || typeof parsed.baseline !== 'object') throw new Error('unknown layout');
    return { state: parsed, version: stored.version, existed: true };
  } catch (error) {
    throw ApplicationFailure.create({ type: 'InvalidTriageState', nonRetryable: true, message: `${store.description}/${TRIAGE_STATE_NAME} is not a triage cursor (${(error as Error).message}); it was left untouched` });
  }
}

/**
 * One pass. Retried attempts are safe at every step: a row already as a command leaves it is
 * not written again, 👍 exists once per person and content, and a reply is looked for before
 * it is posted. The cursor is written last, and only when there was something new.
 */
export async function applyIssueTriage(deps: TriageDeps, input: TriageInput, heartbeat: (detail: unknown) => void = () => undefined): Promise<TriageResult> {
  const result: TriageResult = { comments: 0, commands: 0, applied: 0, reacted: 0, replied: 0, rowsChanged: 0, releasesWritten: [] };
  const repoName = input.repository ?? deps.issueRepository;
  if (!repoName || !deps.github || !deps.githubCanWrite) return result;
  const repository = parseRepository(repoName);
  const github = deps.github;
  const store = reportStoreOf(deps);
  const { state, version: stateVersion, existed } = await readState(store);

  const listed = await gh(() => commentsSince(github, repository, state.since), `listing the comments of ${repoName}`);
  const fresh = listed.filter((c) => state.processed[c.id] !== commentVersion(c));
  result.comments = fresh.length;
  const csvs = new Map<string, { rows: ReleaseRows; version?: string }>();
  const loadRelease = async (release: string) => {
    let loaded = csvs.get(release);
    if (loaded) return loaded;
    const name = csvFileName(release);
    const stored = await store.read(name);
    const csv = new TriageCsv(stored?.text ?? 'image,package_name,type,vulnerability_id,severity,url,patched_version,mirrored,state,notes\n', `${store.description}/${name}`);
    // No baseline yet (the first pass): the CSV as it is now is all that is known.
    // When the file last changed, so that a row a person changed since the baseline wins only when they changed it after the comment.
    const changedAt = stored && store.changedAt ? await store.changedAt(name) : undefined;
    loaded = { rows: { release, csv, baseline: state.baseline[release] ?? csv.writtenRows(), ...(changedAt ? { changedAt } : {}) }, version: stored?.version };
    csvs.set(release, loaded);
    return loaded;
  };

  const images = new Map<number, string | undefined>();
  const allowed = new Map<string, boolean>();
  const answers: { comment: IssueComment; applied: number; problems: ReplyProblem[] }[] = [];
  for (const comment of fresh) {
    if (isTriageReply(comment.body) || comment.userType === 'Bot' || !SUSPECT.test(comment.body)) continue;
    const parsed = parseTriageComment(comment.body);
    if (parsed.commands.length === 0 && parsed.problems.length === 0) continue;
    if (!images.has(comment.issueNumber)) images.set(comment.issueNumber, await gh(() => imageOfIssue(github, repository, comment.issueNumber), `reading issue #${comment.issueNumber}`));
    const image = images.get(comment.issueNumber);
    if (!image) continue;
    result.commands += parsed.commands.length + parsed.problems.length;
    heartbeat({ phase: 'triage', comment: comment.id });
    if (!allowed.has(comment.login)) allowed.set(comment.login, await gh(() => canTriage(github, repository, comment.login, deps.triageTeam), `checking the permission of a commenter in ${repoName}`));
    if (!allowed.get(comment.login)) {
      answers.push({ comment, applied: 0, problems: [{ kind: 'permission' }] });
      continue;
    }
    const releases: ReleaseRows[] = [];
    for (const release of input.releases) releases.push((await loadRelease(release)).rows);
    const plan = planComment(image, parsed.commands, releases, { login: comment.login, at: comment.updatedAt, url: comment.url });
    for (const edit of plan.edits) {
      const { rows } = csvs.get(edit.release)!;
      rows.csv.set(image, edit.packageName, edit.vulnerabilityId, edit.triage);
      // The next comment of this pass judges the row against what this one left.
      rows.baseline = { ...rows.baseline };
      rows.baseline[`${image}\u0000${edit.packageName}\u0000${edit.vulnerabilityId}`] = [edit.triage.state, edit.triage.notes, edit.triage.ignoreExpires];
      result.rowsChanged++;
    }
    const problems: ReplyProblem[] = [...parsed.problems.map((p) => ({ kind: 'syntax' as const, line: p.line, source: p.source, message: p.message })), ...plan.problems];
    answers.push({ comment, applied: plan.applied, problems });
  }

  if (input.refreshBaseline) for (const release of input.releases) await loadRelease(release);
  for (const [release, loaded] of csvs) {
    if (!loaded.rows.csv.isChanged) continue;
    const outcome = await store.write(csvFileName(release), loaded.rows.csv.text(), loaded.version, `Triage from issue comments (${release})`);
    // Someone committed meanwhile: the retry re-reads and judges their edit.
    if (outcome === 'conflict') throw ApplicationFailure.create({ type: 'ReportConflict', message: `${store.description}/${csvFileName(release)} changed while triage was applied; will retry` });
    result.releasesWritten.push(release);
  }

  for (const answer of answers) {
    heartbeat({ phase: 'answers', comment: answer.comment.id });
    if (answer.applied > 0) {
      await gh(() => thumbsUp(github, repository, answer.comment.id), `reacting to comment ${answer.comment.id}`);
      result.reacted++;
      result.applied += answer.applied;
    }
    if (answer.problems.length > 0) {
      const body = renderTriageReply({ commentId: answer.comment.id, version: commentVersion(answer.comment), commentUrl: answer.comment.url, problems: answer.problems, applied: answer.applied });
      if (await gh(() => replyOnce(github, repository, answer.comment, body), `replying on issue #${answer.comment.issueNumber}`)) result.replied++;
    }
  }

  const baselineChanged = [...csvs].some(([release, loaded]) => JSON.stringify(loaded.rows.csv.writtenRows()) !== JSON.stringify(state.baseline[release]));
  if (fresh.length > 0 || (input.refreshBaseline && (baselineChanged || !existed))) {
    const since = listed.reduce<string | undefined>((max, c) => (max === undefined || c.updatedAt > max ? c.updatedAt : max), state.since);
    const processed: Record<string, string> = {};
    // Only the comments at the cursor's own second need remembering: `since` returns them again.
    for (const c of listed) if (c.updatedAt === since) processed[c.id] = commentVersion(c);
    const baseline = { ...state.baseline };
    for (const [release, loaded] of csvs) baseline[release] = loaded.rows.csv.writtenRows();
    const next: TriageStateFile = { version: 1, ...(since ? { since } : {}), processed, baseline };
    const outcome = await store.write(TRIAGE_STATE_NAME, `${JSON.stringify(next)}\n`, stateVersion, 'Triage cursor');
    if (outcome === 'conflict') throw ApplicationFailure.create({ type: 'ReportConflict', message: `${store.description}/${TRIAGE_STATE_NAME} changed during triage; will retry` });
  }
  return result;
}

async function gh<T>(call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toGitHubFailure(error, what);
  }
}

export function createApplyIssueTriage(deps: TriageDeps) {
  return async function applyTriageComments(input: TriageInput): Promise<TriageResult> {
    const ctx = Context.current();
    return applyIssueTriage(deps, input, (detail) => ctx.heartbeat(detail));
  };
}
