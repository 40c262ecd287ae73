/** Releases scanned and reported by the real activities (no server), and a person's edit of a release CSV: the stored reports `check` reads. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { run } from '../activities/support.js';
import { CLI } from './processes.js';

/** One run of `releases` (each listing `list`) through the real activities: resolve, assign, scan, report. */
export async function scanReleasesNow(deps: ActivityDeps, runKey: string, releases: string[], list: string): Promise<void> {
  const activities = createActivities(deps);
  for (const name of releases) await run(activities.resolveImages, { runKey, release: { name, images: list } });
  const counts = await run(activities.assignScans, { runKey, releases });
  for (const release of releases) for (let index = 0; index < counts[release]!; index++) await run(activities.scanImage, { runKey, release, index });
  for (const release of releases) await run(activities.writeReleaseReport, { runKey, release });
}

/** A person's edit of a release CSV: state and notes of `image`'s rows of `cve`. */
export async function editReleaseCsv(reportsDir: string, release: string, image: string, cve: string, state: string, notes: string): Promise<void> {
  const path = join(reportsDir, `cves-${release}.csv`);
  const rows = parse(await readFile(path, 'utf8'), { columns: true }) as Record<string, string>[];
  let edited = 0;
  for (const row of rows) {
    if (row.image === image && row.vulnerability_id === cve) {
      row.state = state;
      row.notes = notes;
      edited++;
    }
  }
  assert.ok(edited > 0, `${cve} of ${image} in ${release}`);
  await writeFile(path, stringify(rows, { header: true, columns: Object.keys(rows[0]!) }));
}

/** `image-scanning check ...args` as a process: its exit code and output. */
export function checkCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [CLI, 'check', ...args], { env: { ...process.env, GITHUB_TOKEN: '', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}
