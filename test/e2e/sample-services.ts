import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnvironment, workflowBundle } from '../helpers/temporal.js';
import { startSampleRegistry, type SampleRegistry } from './offline-sample.js';

/** What an end-to-end suite over the offline sample runs against. */
export interface SampleServices {
  env: TestWorkflowEnvironment;
  registry: SampleRegistry;
}

/**
 * Registers in the calling suite the start of the Temporal test server, the sample registry
 * and the workflow bundle before its tests, and their stop after; the fields are set once
 * the suite's `before` has run.
 */
export function useSampleServices(): SampleServices {
  const services = {} as SampleServices;
  before(async () => {
    services.registry = await startSampleRegistry();
    services.env = await createTestEnvironment();
    await workflowBundle();
  });
  after(async () => {
    await services.env?.teardown();
    await services.registry?.stop();
  });
  return services;
}
