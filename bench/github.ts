/**
 * GitHub request counts of issue reconciliation against the fake GitHub server
 * (test/fakes/github-server.ts): a first run, an unchanged re-run, a run where
 * 10% of the images changed, and one where 10% were fixed; plus how long a first
 * run of many affected images takes under the default pacing (computed from the
 * recorded request sequence, not waited for), and a check of that model.
 *
 *   npm run bench:github [-- --images 500 --first-run 900]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { throttling } from '@octokit/plugin-throttling';
import { createGitHub, DEFAULT_PACING, type GitHubClient } from '../activities/github/github.js';
import type { ActivityDeps } from '../activities/index.js';
import { reconcileReports } from '../activities/issues/reconcile-issues.js';
import { FolderResultStore, storeKeys } from '../activities/store/result-store.js';
import { syncTriage } from '../activities/triage/index.js';
import { renderReportCsv } from '../core/render/csv.js';
import { readIssueMarker } from '../core/render/markdown.js';
import { summarizeReport } from '../core/triage.js';
import type { Finding } from '../core/finding.js';
import type { ReleaseReport } from '../core/triage.js';
import { startFakeGitHub, type FakeGitHub, type RecordedRequest } from '../test/fakes/github-server.js';
import { finding, releaseReport } from '../test/helpers/reports.js';
import { load, machine, table } from './support.js';

const { values: opts } = parseArgs({
  options: {
    images: { type: 'string', default: '500' },
    'first-run': { type: 'string', default: '900' },
  },
});
const IMAGES = Number(opts.images);
const FIRST_RUN = Number(opts['first-run']);
const OWNER = 'rancher';
const log = (line: string) => process.stderr.write(`[bench:github] ${line}\n`);

/** A release of n affected images; `changed` images get one more finding, `fixed` images are clean. */
function report(n: number, change: { changed?: (i: number) => boolean; fixed?: (i: number) => boolean } = {}): ReleaseReport {
  const scans: Record<string, Finding[] | 'clean'> = {};
  for (let i = 0; i < n; i++) {
    const image = `rancher/app-${i}:v1.0.${i}`;
    if (change.fixed?.(i)) {
      scans[image] = 'clean';
      continue;
    }
    scans[image] = [
      finding(image, `CVE-2024-${1000 + i}`, i % 7 === 0 ? 'CRITICAL' : 'HIGH'),
      ...(change.changed?.(i) ? [finding(image, `CVE-2025-${2000 + i}`, 'MEDIUM')] : []),
    ];
  }
  return releaseReport('v2.12.0', scans);
}

async function deps(dir: string, github: GitHubClient, repo: string): Promise<ActivityDeps> {
  return {
    store: new FolderResultStore(join(dir, 'data')),
    reportsDir: join(dir, 'reports', repo),
    trivy: { bin: 'trivy', cacheDir: dir, cacheBackend: 'memory', timeoutSeconds: 1, severities: [], rateLimitBackoffSeconds: 1, heartbeatSeconds: 1 },
    github,
    githubCanWrite: true,
    issueRepository: `${OWNER}/${repo}`,
  };
}

const isWrite = (r: RecordedRequest) => r.method !== 'GET' && r.method !== 'HEAD';
/** The throttling plugin's own test of a content-creating (notification-triggering) request. */
const isContentCreating = (r: RecordedRequest) => isWrite(r) && throttling.triggersNotification(r.path);

function kinds(requests: RecordedRequest[]): string {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const key = `${r.method} ${(r.route ?? r.path).replace('/repos/{owner}/{repo}', '')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} x ${k}`)
    .join('<br>');
}

/**
 * Replays a request sequence through the throttling plugin's pacing (Bottleneck groups with
 * maxConcurrent 1 and minTime): every write starts >= writeMs after the previous write started,
 * every content-creating write >= notificationMs after the previous one; each request then
 * takes `latencyMs`. The activity sends its requests one after another.
 */
function pacedDuration(requests: RecordedRequest[], pacing: { writeMs: number; notificationMs: number }, latencyMs: number): number {
  let t = 0;
  let lastWrite = -Infinity;
  let lastNotification = -Infinity;
  for (const r of requests) {
    if (isWrite(r)) {
      t = Math.max(t, lastWrite + pacing.writeMs);
      lastWrite = t;
    }
    if (isContentCreating(r)) {
      t = Math.max(t, lastNotification + pacing.notificationMs);
      lastNotification = t;
    }
    t += latencyMs;
  }
  return t;
}

const hms = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min ${String(s % 60).padStart(2, '0')} s`;
};

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'image-scanning-bench-github-'));
  let fake: FakeGitHub | undefined;
  try {
    log(`machine: ${machine()}; load average ${load()}`);
    fake = await startFakeGitHub();
    const fast = () => createGitHub({ token: 'bench-token', baseUrl: fake!.url, pacing: { writeMs: 0, notificationMs: 0 } });

    // 1. Request counts for IMAGES affected images.
    const d = await deps(dir, fast(), 'cve-reports');
    const scenarios: { name: string; report: ReleaseReport }[] = [
      { name: `first run (${IMAGES} affected images, empty repository)`, report: report(IMAGES) },
      { name: 'unchanged re-run', report: report(IMAGES) },
      { name: `10% changed (a new finding in ${IMAGES / 10} images)`, report: report(IMAGES, { changed: (i) => i % 10 === 0 }) },
      { name: `10% fixed (${IMAGES / 10} images now clean), after the run above`, report: report(IMAGES, { changed: (i) => i % 10 === 0, fixed: (i) => i % 10 === 5 }) },
    ];
    const rows: (string | number)[][] = [];
    for (const s of scenarios) {
      fake.clearLog();
      const started = Date.now();
      const result = await reconcileReports(d, [s.report], { apply: true });
      const ms = Date.now() - started;
      const requests = [...fake.requests];
      rows.push([
        s.name,
        `${result.create} create, ${result.update} update, ${result.reopen} reopen, ${result.close} close, ${result.unchanged} unchanged`,
        requests.length,
        requests.filter((r) => !isWrite(r)).length,
        requests.filter(isWrite).length,
        requests.filter(isContentCreating).length,
        kinds(requests),
        `${ms} ms`,
        hms(pacedDuration(requests, DEFAULT_PACING, 0)),
      ]);
      log(`${s.name}: ${requests.length} requests in ${ms} ms`);
    }
    if (fake.violations.length > 0) throw new Error(`the fake saw ${fake.violations.length} OpenAPI violations: ${JSON.stringify(fake.violations[0])}`);

    // 2. A first run of FIRST_RUN affected images under the default pacing: computed from its request sequence.
    const big = await deps(dir, fast(), 'cve-reports-first-run');
    fake.clearLog();
    await reconcileReports(big, [report(FIRST_RUN)], { apply: true });
    const firstRun = [...fake.requests];
    const latencies = [0, 300];

    // 3. The model against a real paced run: 1/100 of the default pacing, 100 images.
    const scale = 100;
    const scaled = { writeMs: DEFAULT_PACING.writeMs / scale, notificationMs: DEFAULT_PACING.notificationMs / scale };
    const check = await deps(dir, createGitHub({ token: 'bench-token', baseUrl: fake.url, pacing: scaled }), 'cve-reports-model-check');
    fake.clearLog();
    const started = Date.now();
    await reconcileReports(check, [report(100)], { apply: true });
    const measured = Date.now() - started;
    const checkRequests = [...fake.requests];
    const modelled = pacedDuration(checkRequests, scaled, 0);

    // 4. Triage from issue comments: `issues sync` on 1,000 issues, unchanged, then with 50 new comments.
    const TRIAGE_IMAGES = 1000;
    const triageRepo = 'cve-reports-triage';
    const t = await deps(dir, fast(), triageRepo);
    const triaged = report(TRIAGE_IMAGES);
    await mkdir(t.reportsDir, { recursive: true });
    const csvPath = join(t.reportsDir, 'cves-v2.12.0.csv');
    await writeFile(csvPath, renderReportCsv(triaged));
    await t.store.writeFile(storeKeys.latestReportRows('v2.12.0'), csvPath);
    const { rows: _rows, carriedRows: _carried, ...triagedHead } = triaged;
    await t.store.writeJson(storeKeys.latestReport('v2.12.0'), { ...triagedHead, summary: summarizeReport(triaged) });
    await reconcileReports(t, [triaged], { apply: true });
    await syncTriage(t, ['v2.12.0']);
    const triageRows: (string | number)[][] = [];
    const measure = async (name: string) => {
      fake!.clearLog();
      const out = await syncTriage(t, ['v2.12.0']);
      const requests = [...fake!.requests];
      triageRows.push([name, `${out.triage.applied} applied, ${out.triage.replied} replies, ${out.issues ? `${out.issues.update} issues updated, ${out.issues.close} closed` : 'issues not redrawn'}`, requests.length, requests.filter((r) => !isWrite(r)).length, requests.filter(isWrite).length, kinds(requests), hms(pacedDuration(requests, DEFAULT_PACING, 0))]);
    };
    await measure(`issues sync, ${TRIAGE_IMAGES} issues, no new comment`);
    fake.setCollaborator(OWNER, triageRepo, 'alice', 'write');
    for (const [i, issue] of fake.issues(OWNER, triageRepo).slice(0, 50).entries()) {
      const image = readIssueMarker(issue.body)!;
      const n = Number(/app-(\d+):/.exec(image)![1]);
      // Half ignore the image's last CVE (its issue closes), half mark it waiting (its table is redrawn).
      const command = i % 2 === 0 ? `ignore CVE-2024-${1000 + n} not reachable` : `waiting CVE-2024-${1000 + n} upstream fix in 1.2.3`;
      fake.addComment(OWNER, triageRepo, issue.number, `/cve ${command}`, i % 10 === 9 ? 'mallory' : 'alice');
    }
    await measure(`issues sync, ${TRIAGE_IMAGES} issues, 50 new comments (45 by a collaborator: 25 ignore, 20 waiting; 5 by readers)`);
    await measure('issues sync right after (the bot\'s own replies are new comments)');
    await measure('issues sync again, unchanged');
    if (fake.violations.length > 0) throw new Error(`the fake saw ${fake.violations.length} OpenAPI violations: ${JSON.stringify(fake.violations[0])}`);

    console.log('## GitHub requests (`npm run bench:github`)');
    console.log();
    console.log(`Machine: ${machine()}. Load average at start: ${load()}. \`reconcileReports\` (activities/issues/reconcile-issues.ts) with \`createGitHub({ token, baseUrl: fake.url, pacing: { writeMs: 0, notificationMs: 0 } })\` against the fake GitHub (test/fakes/github-server.ts, every request and response checked against GitHub's OpenAPI description), one repository, one release, one finding (two when changed) per image.`);
    console.log();
    console.log(
      table(['run', 'plan', 'requests', 'reads', 'writes', 'content-creating', 'by route', 'time against the fake, no pacing', 'time under the default pacing (computed)'], rows),
    );
    console.log();
    console.log(`Default pacing (\`DEFAULT_PACING\` in activities/github/github.ts): ${DEFAULT_PACING.writeMs} ms between writes, ${DEFAULT_PACING.notificationMs} ms between content-creating writes (issue creation, comments: the throttling plugin's own list), which keeps under GitHub's 500 content-creating requests an hour.`);
    console.log();
    console.log(
      table(
        ['first run', 'requests', 'writes', 'content-creating', ...latencies.map((l) => `duration, ${l} ms per request`)],
        [[`${FIRST_RUN} affected images, empty repository`, firstRun.length, firstRun.filter(isWrite).length, firstRun.filter(isContentCreating).length, ...latencies.map((l) => hms(pacedDuration(firstRun, DEFAULT_PACING, l)))]],
      ),
    );
    console.log();
    console.log(`Triage from issue comments (\`syncTriage\`, activities/triage/sync-triage.ts: the triage pass a weekly run makes before its reports, then the issues redrawn as the run's reconciliation does), reports in a local folder:`);
    console.log();
    console.log(table(['sync', 'outcome', 'requests', 'reads', 'writes', 'by route', 'time under the default pacing (computed)'], triageRows));
    console.log();
    console.log(
      `Model check: 100 affected images with the pacing divided by ${scale} (${scaled.writeMs} ms / ${scaled.notificationMs} ms): measured ${(measured / 1000).toFixed(2)} s against the fake, the model says ${(modelled / 1000).toFixed(2)} s plus request time.`,
    );
    console.log();
  } finally {
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
