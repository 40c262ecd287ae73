/** The VEX files given to every scan of a run: local files checked, URLs fetched once. */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkOpenVexDocument } from '../../core/vex-source.js';
import { runDatabaseDir } from './run-database.js';
import type { TrivySettings } from './trivy-settings.js';

/** What `--vex` is given for one scan, and how a path Trivy reports as a finding's source is named in notes. */
export interface ScanVex {
  /** Values of `--vex`: files (URL documents as their run copy) and `repo`. */
  args: string[];
  /** A path Trivy names as `Source` → the source as configured (the same on every host and run). */
  names: Map<string, string>;
}

export class VexSourceError extends Error {
  override name = 'VexSourceError';
}

const fetching = new Map<string, Promise<ScanVex>>();

/**
 * The run's VEX sources. A URL is fetched once per run (per worker process, and kept beside the
 * run's copy of the DB, so other processes on the host reuse it) and checked as OpenVEX: every
 * image of the run meets the same statements, as it meets the same DB.
 */
export function scanVex(settings: TrivySettings, runKey: string): Promise<ScanVex> {
  const dir = join(runDatabaseDir(settings.cacheDir, runKey), 'vex-sources');
  let pending = fetching.get(dir);
  if (!pending) {
    pending = resolveSources(settings, dir);
    // A failed fetch is not kept: the next scan (or retry) tries again.
    pending.catch(() => fetching.delete(dir));
    fetching.set(dir, pending);
  }
  return pending;
}

async function resolveSources(settings: TrivySettings, dir: string): Promise<ScanVex> {
  const args: string[] = [];
  const names = new Map<string, string>();
  for (const source of settings.vex ?? []) {
    if (source.kind === 'repo') {
      args.push('repo');
    } else if (source.kind === 'file') {
      const path = source.path ?? source.name;
      args.push(path);
      names.set(path, source.name);
    } else {
      const path = join(dir, `${createHash('sha256').update(source.name).digest('hex').slice(0, 16)}.json`);
      const have = await readFile(path, 'utf8').catch(() => undefined);
      if (have === undefined) await download(source.name, path);
      args.push(path);
      names.set(path, source.name);
    }
  }
  return { args, names };
}

async function download(url: string, path: string): Promise<void> {
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(60_000), redirect: 'follow' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = await response.text();
  } catch (error) {
    throw new VexSourceError(`the VEX document ${url} could not be fetched: ${(error as Error).message}`);
  }
  try {
    checkOpenVexDocument(text, url);
  } catch (error) {
    throw new VexSourceError((error as Error).message);
  }
  await mkdir(join(path, '..'), { recursive: true });
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}
