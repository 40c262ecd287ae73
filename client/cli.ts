#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { checkImageCommand } from './check.js';
import { ConfigError, loadEnvConfig, loadFileConfig, runInputFrom, type ReleaseFlags } from '../worker/config.js';
import { reconcileFromStore, syncFromIssues } from './issues.js';
import { renderFromResults } from './render.js';
import { CacheServiceError, clusterCommand, printImages, runCache, runEmbedded, runWorker, startScan } from './commands.js';
import { connectClient } from './connection.js';
import { startDevServer } from './dev-server.js';
import { paths } from '../host/paths.js';
import {
  backfillSchedule,
  createSchedule,
  deleteSchedule,
  describeSchedule,
  formatSchedule,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
  updateSchedule,
  type WeeklySchedule,
} from './schedule.js';
import { findTemporalCli } from './temporal-cli.js';
import { TrivyCliUnavailableError } from './trivy-cli.js';
import { GoBinaryUnavailableError } from '../host/go-install.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function date(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError('must be an ISO date, e.g. 2026-11-01T00:00:00Z');
  return d;
}

/** Runs one command and turns its outcome into the documented exit code. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    try {
      process.exitCode = (await fn(...args)) ?? EXIT_OK;
    } catch (error) {
      if (error instanceof ConfigError || error instanceof TrivyCliUnavailableError || error instanceof CacheServiceError || error instanceof GoBinaryUnavailableError) {
        console.error(`image-scanning: ${error.message}`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      console.error(`image-scanning: ${(error as Error).message}`);
      process.exitCode = EXIT_FAILED;
    }
  };
}

const releaseOptions = (command: Command) =>
  command
    .option('--release <name>', 'release name (with --images), or one release of --config')
    .option('--images <file>', 'rancher-images.txt: local path or URL')
    .option('--sources <file>', 'rancher-images-sources.txt: local path or URL')
    .option('--windows-images <file>', 'rancher-windows-images.txt: local path or URL')
    .option('--mirror-list <file>', 'image-mirror list (SOURCE DESTINATION TAG): destinations count as mirrored')
    .option('--repository <owner/name>', 'GitHub repository whose release assets hold the lists (default rancher/rancher)')
    .option('--config <file>', 'JSON config with the releases to scan');

async function scheduleFrom(options: { config?: string; id?: string }): Promise<WeeklySchedule> {
  const file = options.config ? await loadFileConfig(options.config) : undefined;
  const s = file?.schedule;
  return { id: options.id ?? s?.id ?? 'image-scanning-weekly', every: s?.every ?? 'week', dayOfWeek: s?.dayOfWeek ?? 'MONDAY', hour: s?.hour ?? 3, catchupWindow: s?.catchupWindow ?? '1 day', taskQueue: loadEnvConfig().TEMPORAL_TASK_QUEUE };
}

async function withClient<T>(fn: (client: Awaited<ReturnType<typeof connectClient>>['client']) => Promise<T>): Promise<T> {
  const { client, connection } = await connectClient();
  try {
    return await fn(client);
  } finally {
    await connection.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('image-scanning')
    .description('Weekly CVE inventory of the container images in Rancher releases, on Temporal')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('server')
    .description('start the embedded Temporal dev server (SQLite under .data/, Web UI on 8233)')
    .option('--port <port>', 'gRPC port', integer, 7233)
    .option('--ui-port <port>', 'Web UI port', integer, 8233)
    .action(
      action(async (options: { port: number; uiPort: number }) => {
        const cli = await findTemporalCli({ install: true, log: (l) => console.error(l) });
        console.error(`Temporal dev server: gRPC 127.0.0.1:${options.port}, Web UI http://localhost:${options.uiPort}, database ${paths.devServerDb}`);
        const child = startDevServer({ cli, dbFile: paths.devServerDb, port: options.port, uiPort: options.uiPort, stdio: 'inherit' });
        return new Promise<number>((resolve) => child.on('exit', (code) => resolve(code === 0 || code === null ? EXIT_OK : EXIT_FAILED)));
      }),
    );

  const cluster = program.command('cluster').description('the deployment of docker-compose.yml as processes on this machine: PostgreSQL, the Temporal server, its Web UI, the scan cache, N workers (state in .data/cluster/ or IMAGE_SCANNING_CLUSTER_DIR)');
  cluster
    .command('up')
    .description('build or find the binaries, start whatever is not running, and return once all is healthy')
    .option('--workers <n>', 'worker processes', integer)
    .option('--port <port>', 'the frontend gRPC port of a new cluster (the other ports follow it)', integer)
    .action(action((options: { workers?: number; port?: number }) => clusterCommand('up', options)));
  cluster.command('build').description('build or find the Temporal server, SQL tool and UI server (Go module proxy, cached by Go)').action(action(() => clusterCommand('build')));
  cluster.command('down').description('stop everything `up` started; the data stays for the next `up`').action(action(() => clusterCommand('down')));
  cluster.command('status').description('what runs, where; exit 1 when a part is down').action(action(() => clusterCommand('status')));
  cluster.command('env').description('the export lines that point run, scan and worker at the cluster: eval "$(image-scanning cluster env)"').action(action(() => clusterCommand('env')));

  program
    .command('cache')
    .description('start the embedded scan cache (redis-server on 127.0.0.1:6389, data under .data/redis/) unless TRIVY_CACHE_BACKEND names one; print its masked URL')
    .action(action(runCache));

  program
    .command('install-temporal-cli')
    .description('find or build the Temporal CLI (TEMPORAL_CLI, PATH, then go install into .tools/bin)')
    .action(
      action(async () => {
        console.log(await findTemporalCli({ install: true, log: (l) => console.error(l) }));
      }),
    );

  releaseOptions(program.command('images').description('print the images a run would scan, one JSON object per line'))
    .option('--json', 'one JSON object per image (the only format for now)')
    .action(action(printImages));

  program
    .command('render')
    .description('rebuild the CSV, summary and site of a release from stored scan results, without scanning')
    .requiredOption('--release <name>', 'release name')
    .requiredOption('--results <dir>', "a run's folder in the result store (data/runs/<run>)")
    .option('--previous <file>', 'previous CSV to merge notes and states from (default: the CSV already in --out)')
    .requiredOption('--out <dir>', 'reports directory to write')
    .action(action(renderFromResults));

  const issues = program.command('issues').description('GitHub issues from the newest stored reports');
  releaseOptions(issues.command('plan').description('write the plan (Markdown and JSON), change nothing'))
    .option('--repo <owner/name>', 'repository of the issues (default GITHUB_REPOSITORY)')
    .action(action((options: ReleaseFlags & { repo?: string }) => reconcileFromStore(options, false)));
  releaseOptions(issues.command('apply').description('apply the plan with GITHUB_TOKEN'))
    .option('--repo <owner/name>', 'repository of the issues (default GITHUB_REPOSITORY)')
    .action(action((options: ReleaseFlags & { repo?: string }) => reconcileFromStore(options, true)));
  releaseOptions(issues.command('sync').description('apply /cve commands from issue comments to the release CSVs, then the issues, without scanning'))
    .option('--repo <owner/name>', 'repository of the issues (default GITHUB_REPOSITORY)')
    .action(action(syncFromIssues));

  program
    .command('check')
    .argument('<image>', 'an image reference, e.g. rancher/fleet:v0.13.0')
    .description('scan one image now (same DB, cache and VEX settings as a run) and show each CVE of its newest reports as still present, fixed or new; exit 0 when no unignored CVE remains, 3 otherwise')
    .option('--json', 'one JSON document (for scripts)')
    .action(action((image: string, options: { json?: boolean }) => checkImageCommand(image, options)));

  program
    .command('worker')
    .description('run a worker on the task queue until SIGINT/SIGTERM')
    .option('--git-lists', "poll IMAGE_SCANNING_GIT_TASK_QUEUE for git sources only (Rancher's export script: needs Go, jq and yq)")
    .action(action((options: { gitLists?: boolean }) => runWorker(options)));

  releaseOptions(program.command('run').description('embedded one-shot: dev server if needed, in-process worker, progress bar, outputs'))
    .option('--out <dir>', 'reports directory (CSV, summary, site, issue plan)')
    .option('--concurrency <n>', 'scans in flight per release', integer)
    .option('--full', 'pull and scan every image in full, making its SBOM again (no re-match), e.g. after changing analyzers')
    .action(action(runEmbedded));

  releaseOptions(program.command('scan').description('start a run on a running Temporal cluster (workers elsewhere)'))
    .option('--follow', 'follow the run with a progress bar until it ends')
    .action(action(startScan));

  const schedule = program.command('schedule').description('manage the weekly Schedule');
  const withId = (c: Command) => c.option('--id <id>', 'schedule id (default: from --config, else image-scanning-weekly)');
  const withConfig = (c: Command) => withId(c.option('--config <file>', 'JSON config (releases and schedule)'));
  withId(releaseOptions(schedule.command('create').description('create the weekly Schedule, or update it when it exists'))).action(
    action(async (options) => {
      const input = await runInputFrom(options);
      const outcome = await withClient(async (client) => createSchedule(client, await scheduleFrom(options), input));
      console.log(`schedule ${outcome}`);
    }),
  );
  withId(releaseOptions(schedule.command('update').description('update the weekly Schedule'))).action(
    action(async (options) => {
      const input = await runInputFrom(options);
      await withClient(async (client) => updateSchedule(client, await scheduleFrom(options), input));
      console.log('schedule updated');
    }),
  );
  const byId = (name: string, description: string, fn: (client: Awaited<ReturnType<typeof connectClient>>['client'], id: string, options: Record<string, unknown>) => Promise<string>) =>
    withConfig(schedule.command(name).description(description)).action(
      action(async (options: Record<string, unknown>) => {
        const { id } = await scheduleFrom(options as { config?: string; id?: string });
        console.log(await withClient((client) => fn(client, id, options)));
      }),
    );
  byId('describe', 'show the Schedule', async (client, id) => formatSchedule(await describeSchedule(client, id)));
  byId('trigger', 'start a run now', async (client, id) => (await triggerSchedule(client, id), `schedule ${id} triggered`));
  byId('pause', 'pause the Schedule', async (client, id) => (await pauseSchedule(client, id, 'paused from the image-scanning CLI'), `schedule ${id} paused`));
  byId('unpause', 'unpause the Schedule', async (client, id) => (await unpauseSchedule(client, id, 'unpaused from the image-scanning CLI'), `schedule ${id} unpaused`));
  byId('delete', 'delete the Schedule', async (client, id) => (await deleteSchedule(client, id), `schedule ${id} deleted`));
  withConfig(schedule.command('backfill').description('run the Schedule for past times'))
    .requiredOption('--start <date>', 'start (ISO date)', date)
    .requiredOption('--end <date>', 'end (ISO date)', date)
    .action(
      action(async (options: { config?: string; id?: string; start: Date; end: Date }) => {
        const { id } = await scheduleFrom(options);
        await withClient((client) => backfillSchedule(client, id, options.start, options.end));
        console.log(`schedule ${id} backfilled from ${options.start.toISOString()} to ${options.end.toISOString()}`);
      }),
    );
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      return;
    }
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(EXIT_FAILED);
});
