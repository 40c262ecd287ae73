// Records the histories replayed by replay.test.ts: `npm run build && node lib/test/workflows/record-histories.js`.
// Run it again only when a workflow change is meant to be incompatible (and version the workflow then).
import { writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { startRun } from '../../client/scan.js';
import { Harness, images } from '../helpers/harness.js';
import { createTestEnvironment, workflowBundle } from '../helpers/temporal.js';

const HISTORIES = fileURLToPath(new URL('../../../test/histories/', import.meta.url));

async function main(): Promise<void> {
  const env = await createTestEnvironment();
  try {
    const h = await Harness.create();
    await h.scenarios({ [images('rec', 0, 4)[1]!]: { fail: 'MANIFEST_UNKNOWN: manifest unknown' } });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'record',
      workflowBundle: await workflowBundle(),
      activities: createActivities(h.deps()),
    });
    await worker.runUntil(async () => {
      const handle = await startRun(
        env.client,
        {
          releases: [
            { name: 'v1', images: await h.writeList('v1.txt', images('rec', 0, 4)) },
            { name: 'v2', images: await h.writeList('v2.txt', images('rec', 2, 6)) },
          ],
          maxConcurrentScans: 2,
        },
        { taskQueue: 'record', workflowId: 'recorded-run' },
      );
      await handle.result();
      await mkdir(HISTORIES, { recursive: true });
      for (const id of ['recorded-run', 'recorded-run/v1', 'recorded-run/v2']) {
        const history = await env.client.workflow.getHandle(id).fetchHistory();
        await writeFile(`${HISTORIES}${id.replace('/', '--')}.json`, historyToJSON(history));
      }
    });
  } finally {
    await env.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
