import { reconcileReports } from '../activities/issues/reconcile-issues.js';
import { latestReport } from '../activities/report/stored-report.js';
import { syncTriage } from '../activities/triage/index.js';
import type { ReportSource } from '../activities/report/stored-report.js';
import { ConfigError, loadEnvConfig, runInputFrom, type ReleaseFlags } from '../worker/config.js';
import { depsFromConfig } from '../worker/worker.js';

/** `issues plan|apply`: reconcile GitHub with the newest stored report of each release, outside a run. */
export async function reconcileFromStore(flags: ReleaseFlags & { repo?: string }, apply: boolean): Promise<number> {
  const env = loadEnvConfig();
  const input = await runInputFrom(flags);
  const deps = depsFromConfig(env);
  deps.issueRepository = flags.repo ?? input.issueRepository ?? env.GITHUB_REPOSITORY;
  if (apply && !deps.issueRepository) throw new ConfigError('issues apply needs --repo owner/name, issueRepository in the config, or GITHUB_REPOSITORY');
  if (apply && !deps.githubCanWrite) throw new ConfigError('issues apply needs GITHUB_TOKEN (or GITHUB_TOKEN_FILE)');
  const reports: ReportSource[] = [];
  for (const release of input.releases) {
    const report = await latestReport(deps, release.name);
    if (!report) throw new ConfigError(`no stored report for release ${release.name} in ${deps.store.path('releases')}; run a scan first`);
    reports.push(report);
  }
  const result = await reconcileReports(deps, reports, { apply });
  console.log(
    `${result.applied ? 'applied' : 'planned'}: ${result.create} to create, ${result.update} to update, ${result.reopen} to reopen, ${result.close} to close, ${result.unchanged} unchanged, ${result.held} held`,
  );
  console.log(`plan: ${result.planPath}`);
  return 0;
}

/** `issues sync`: `/cve` commands in issue comments applied to the release CSVs, and the issues redrawn, without a scan. */
export async function syncFromIssues(flags: ReleaseFlags & { repo?: string }): Promise<number> {
  const env = loadEnvConfig();
  const input = await runInputFrom(flags);
  const deps = depsFromConfig(env);
  deps.issueRepository = flags.repo ?? input.issueRepository ?? env.GITHUB_REPOSITORY;
  if (!deps.issueRepository) throw new ConfigError('issues sync needs --repo owner/name, issueRepository in the config, or GITHUB_REPOSITORY');
  if (!deps.githubCanWrite) throw new ConfigError('issues sync needs GITHUB_TOKEN (or GITHUB_TOKEN_FILE)');
  const { triage, issues } = await syncTriage(deps, input.releases.map((r) => r.name));
  console.log(
    `triage: ${triage.comments} new or edited comments, ${triage.commands} command lines, ${triage.applied} applied, ${triage.replied} replies, ${triage.rowsChanged} rows changed in ${triage.releasesWritten.join(', ') || 'no release'}`,
  );
  if (issues) console.log(`issues: ${issues.create} created, ${issues.update} updated, ${issues.reopen} reopened, ${issues.close} closed, ${issues.unchanged} unchanged`);
  return 0;
}
