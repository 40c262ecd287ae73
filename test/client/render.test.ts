import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FolderResultStore, runFolderKeys } from '../../activities/store/result-store.js';
import { buildImageRecords, parseImageList } from '../../core/image-list.js';
import { parseReportCsv, renderReportCsv } from '../../core/render/csv.js';
import type { ImageScan } from '../../core/scan.js';
import { finding, releaseReport } from '../helpers/reports.js';
import { CLI } from '../helpers/processes.js';
import { tempDir } from '../helpers/harness.js';

describe('image-scanning render', () => {
  it('rebuilds the CSV, summary and site from a run folder, keeping the notes of --previous', async () => {
    const dir = await tempDir('render-');
    const runFolder = new FolderResultStore(join(dir, 'run'));
    const a = 'rancher/fleet:v0.9.6';
    const images = buildImageRecords({ images: parseImageList(`${a}\nrancher/gone:v1\n`, 'images.txt') });
    await runFolder.writeJson(runFolderKeys.images('v2.9.0'), images);
    const scan: ImageScan = { image: a, outcome: 'findings', osScanned: true, findings: [finding(a, 'CVE-2024-1'), finding(a, 'CVE-2024-2', 'CRITICAL')] };
    await runFolder.writeJson(runFolderKeys.result(images[0]!.canonical), scan);
    const previous = renderReportCsv(releaseReport('v2.9.0', { [a]: [finding(a, 'CVE-2024-1')] })).replace(',triaged,,', ',waiting,"upstream fix in 0.9.7, see #42",');
    await writeFile(join(dir, 'previous.csv'), previous);

    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'render', '--release', 'v2.9.0', '--results', join(dir, 'run'), '--previous', join(dir, 'previous.csv'), '--out', join(dir, 'out')]);
    assert.match(stdout, /2 findings in 2 images \(1 with results\)/);
    const rows = parseReportCsv(await readFile(join(dir, 'out', 'cves-v2.9.0.csv'), 'utf8'), 'out.csv');
    assert.deepEqual(rows.map((r) => [r.vulnerabilityId, r.state, r.notes]), [
      ['CVE-2024-2', 'triaged', ''],
      ['CVE-2024-1', 'waiting', 'upstream fix in 0.9.7, see #42'],
    ]);
    const summary = JSON.parse(await readFile(join(dir, 'out', 'cves-v2.9.0.summary.json'), 'utf8')) as { failedImages: { image: string; type: string }[] };
    assert.deepEqual(summary.failedImages.map((f) => [f.image, f.type]), [['rancher/gone:v1', 'NotScanned']], 'an image without a result is not shown as clean');
    assert.ok((await readFile(join(dir, 'out', 'site', 'index.html'), 'utf8')).includes('v2.9.0'));
  });

  it('exits 2 naming the folder when it holds no results for the release', async () => {
    const dir = await tempDir('render-');
    const run = promisify(execFile)(process.execPath, [CLI, 'render', '--release', 'v9', '--results', join(dir, 'nothing'), '--out', join(dir, 'out')]);
    await assert.rejects(run, (e: unknown) => (e as { code?: number }).code === 2 && /nothing holds no image list for release v9/.test((e as { stderr: string }).stderr));
  });
});
