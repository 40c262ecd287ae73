import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { webUiBase, webUiUrl } from '../../client/connection.js';
import { EXIT_SCANS_FAILED, runExitStatus } from '../../client/scan.js';
import type { ReleaseResult, RunSummary } from '../../core/run.js';
import { tempDir } from '../helpers/harness.js';

function release(name: string, failed: number, summaryPath?: string): RunSummary['releases'][number] {
  const result: ReleaseResult = {
    release: name,
    total: 61,
    assigned: 61,
    scanned: 61 - failed,
    failed,
    failedByType: failed ? { ImageNotFound: failed } : {},
    failedSample: Array.from({ length: Math.min(failed, 20) }, (_, i) => `rancher/gone-${i}:v1: image not found in the registry`),
    continuedAsNew: 0,
    listProblems: 0,
    listProblemSample: [],
    report: summaryPath
      ? { release: name, csvPath: 'x.csv', summaryPath, findings: 0, bySeverity: { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 }, images: 61, failedScans: failed, osNotScanned: 0, invalidIgnores: 0, newFindings: 0, fixedFindings: 0 }
      : undefined,
  };
  return { release: name, status: 'completed', result };
}

function collect(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    }),
    text: () => text,
  };
}

describe('the exit status of a finished run', () => {
  it('is 3 when the run completed but images could not be scanned, with each failed image on stderr', async () => {
    const dir = await tempDir('image-scanning-exit-');
    const summaryPath = join(dir, 'cves-v2.9.0.summary.json');
    const failedImages = Array.from({ length: 25 }, (_, i) => ({ image: `rancher/gone-${i}:v1`, type: 'ImageNotFound', summary: 'image not found in the registry' }));
    await writeFile(summaryPath, JSON.stringify({ failedImages }));
    const out = collect();
    const code = await runExitStatus({ runKey: 'r', releases: [release('v2.9.0', 25, summaryPath), release('v2.10.0', 0)], scannedImages: 97, failedScans: 25 }, out.stream);
    assert.equal(code, EXIT_SCANS_FAILED);
    const lines = out.text().trim().split('\n');
    assert.equal(lines.length, 25, 'every failed image, not only the 20 the run result carries');
    assert.equal(lines[0], 'failed scan: v2.9.0: rancher/gone-0:v1: ImageNotFound: image not found in the registry');
  });

  it('falls back to the run result when the summary file is elsewhere, and says how many more', async () => {
    const out = collect();
    assert.equal(await runExitStatus({ runKey: 'r', releases: [release('v2.9.0', 30, '/nonexistent/summary.json')], scannedImages: 31, failedScans: 30 }, out.stream), 3);
    const lines = out.text().trim().split('\n');
    assert.equal(lines.length, 21);
    assert.match(lines.at(-1)!, /and 10 more \(see \/nonexistent\/summary\.json\)/);
  });

  it('is 0 for a clean run and 1 for a failed release', async () => {
    const out = collect();
    assert.equal(await runExitStatus({ runKey: 'r', releases: [release('v2.9.0', 0)], scannedImages: 61, failedScans: 0 }, out.stream), 0);
    assert.equal(out.text(), '');
    assert.equal(await runExitStatus({ runKey: 'r', releases: [{ release: 'v2.9.0', status: 'failed', error: 'boom' }], scannedImages: 0, failedScans: 0 }, out.stream), 1);
  });
});

describe('the Web UI link', () => {
  it("is the UI of the server in use: TEMPORAL_UI_URL, else the local server's UI port, else unknown", () => {
    const saved = process.env.TEMPORAL_UI_URL;
    try {
      delete process.env.TEMPORAL_UI_URL;
      assert.equal(webUiBase('127.0.0.1:7233'), 'http://localhost:8233');
      assert.equal(webUiBase('127.0.0.1:17233'), 'http://localhost:18233', 'the cluster puts its UI 1000 above too');
      assert.equal(webUiBase('temporal.example.com:7233'), undefined);
      assert.match(webUiUrl('default', 'run-1', 'temporal.example.com:7233'), /unknown: set TEMPORAL_UI_URL/);
      process.env.TEMPORAL_UI_URL = 'https://ui.example.com/';
      assert.equal(webUiUrl('default', 'a/b', 'temporal.example.com:7233'), 'https://ui.example.com/namespaces/default/workflows/a%2Fb');
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_UI_URL;
      else process.env.TEMPORAL_UI_URL = saved;
    }
  });
});
