import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { quietRuntime, workflowBundle } from '../helpers/temporal.js';

const HISTORIES = fileURLToPath(new URL('../../../test/histories/', import.meta.url));

describe('workflow replay', () => {
  it('replays every recorded history without non-determinism', async () => {
    quietRuntime();
    const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
    assert.ok(files.length >= 2, 'a parent and a child history are committed under test/histories/');
    const histories = await Promise.all(
      files.map(async (file) => ({ workflowId: file.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(await readFile(HISTORIES + file, 'utf8'))) })),
    );
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) results.push(result);
    assert.equal(results.length, files.length);
    for (const result of results) assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
  });
});
