import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { paths } from '../host/paths.js';

/** Writes the workflow bundle ahead of time; bundling also proves workflows/ imports nothing from Node. */
async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: paths.workflows });
  await writeFile(paths.workflowBundle, code);
  console.log(`wrote ${paths.workflowBundle} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
