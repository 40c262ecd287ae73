import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Runtime, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { findTemporalCli } from '../../client/temporal-cli.js';
import { paths } from '../../client/paths.js';
import { RELEASE_SEARCH_KEY } from '../../workflows/messages.js';

let runtimeInstalled = false;

/** Keeps test output readable: the SDK's INFO lines would drown the test report. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
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
  const cli = await findTemporalCli({ install: true, log: (line) => console.error(line) });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ip: '127.0.0.1',
      searchAttributes: [RELEASE_SEARCH_KEY],
      extraArgs: ['--log-level', 'error'],
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the compiled workflows once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: paths.workflows, logger: new DefaultLogger('ERROR') });
  return bundle;
}
