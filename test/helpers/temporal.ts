import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Runtime, DefaultLogger, Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { EAGER_ACTIVITIES } from '../../client/dev-server.js';
import { findTemporalCli } from '../../client/temporal-cli.js';
import { paths } from '../../host/paths.js';
import { LEGACY_RELEASE_SEARCH_KEY, RELEASE_SEARCH_KEY } from '../../workflows/messages.js';

let runtimeInstalled = false;

/** Every SDK log line of this process (INFO and up), so tests can search them for secrets. */
export const capturedLogs: string[] = [];

/** Keeps test output readable: lines are captured, and only errors are printed. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      const line = `${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {}, (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v))}`;
      capturedLogs.push(line);
      if (entry.level === 'ERROR') console.error(line);
    }),
  });
}

/**
 * A real Temporal server for tests: the one at TEMPORAL_ADDRESS when set,
 * else the dev server from the CLI the project built (never a download).
 */
export async function createTestEnvironment(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  if (process.env.TEMPORAL_ADDRESS) {
    return TestWorkflowEnvironment.createFromExistingServer({
      address: process.env.TEMPORAL_ADDRESS,
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    });
  }
  if (process.env.TEMPORAL_TESTCONTAINERS === '1') {
    const address = await startContainerServer();
    if (address) return TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'default' });
  }
  const cli = await findTemporalCli({ install: true, log: (line) => console.error(line) });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ip: '127.0.0.1',
      searchAttributes: [RELEASE_SEARCH_KEY, LEGACY_RELEASE_SEARCH_KEY],
      // The settings `image-scanning run` gives its own dev server, so the tests see what ships.
      extraArgs: ['--log-level', 'error', ...EAGER_ACTIVITIES],
    },
  });
}

/** The CLI's own image runs the same dev server; used on hosts with a Docker engine. */
export const TEMPORAL_CLI_IMAGE = 'temporalio/temporal:1.5.1';

/**
 * TEMPORAL_TESTCONTAINERS=1: the dev server in a container through testcontainers.
 * Without a Docker engine it says so and returns nothing, and the local CLI is used.
 */
async function startContainerServer(): Promise<string | undefined> {
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer(TEMPORAL_CLI_IMAGE)
      .withCommand(['server', 'start-dev', '--ip', '0.0.0.0', '--search-attribute', 'RancherRelease=KeywordList', '--search-attribute', 'Release=KeywordList', ...EAGER_ACTIVITIES])
      .withExposedPorts(7233)
      .withWaitStrategy(Wait.forListeningPorts())
      .start();
    process.once('exit', () => void container.stop());
    return `${container.getHost()}:${container.getMappedPort(7233)}`;
  } catch (error) {
    console.error(`TEMPORAL_TESTCONTAINERS=1 but no container could be started (${(error as Error).message}); using the local Temporal CLI instead`);
    return undefined;
  }
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the compiled workflows once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: paths.workflows, logger: new DefaultLogger('ERROR') });
  return bundle;
}

/** A worker in this process on the test server, running the product's activities over `deps`. */
export async function testWorker(env: TestWorkflowEnvironment, deps: ActivityDeps, taskQueue: string, extra: Partial<WorkerOptions> = {}): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.client.options.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(deps),
    ...extra,
  });
}
