import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The claim-check store: activities leave large data here and hand each other
 * keys. Local directory by default; any shared volume works for many workers.
 * Writes go through a temporary file and a rename, so a killed worker never
 * leaves half a file for another worker to read.
 */
export class ResultStore {
  constructor(readonly root: string) {}

  path(key: string): string {
    return join(this.root, key);
  }

  async writeJson(key: string, value: unknown): Promise<void> {
    await writeFileAtomic(this.path(key), JSON.stringify(value));
  }

  async readJson<T>(key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.path(key), 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, data);
  } catch (error) {
    // The folder usually exists (a run writes thousands of results into a few): create it only when missing.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, data);
  }
  await rename(tmp, path);
}

/** Keeps a name readable in a path while making it unique and safe. */
export function safeName(name: string): string {
  const readable = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${readable}-${hash}`;
}

/** Keys inside one run's folder, which `render --results <run folder>` reads on its own. */
export const runFolderKeys = {
  images: (release: string) => `releases/${safeName(release)}/images.json`,
  assigned: (release: string) => `releases/${safeName(release)}/assigned.json`,
  report: (release: string) => `releases/${safeName(release)}/report.json`,
  result: (canonicalImage: string) => `results/${safeName(canonicalImage)}.json`,
};

/** Key scheme: everything of one run under its run key, results by (run, image). */
export const storeKeys = {
  run: (runKey: string) => `runs/${safeName(runKey)}`,
  images: (runKey: string, release: string) => `${storeKeys.run(runKey)}/${runFolderKeys.images(release)}`,
  assigned: (runKey: string, release: string) => `${storeKeys.run(runKey)}/${runFolderKeys.assigned(release)}`,
  report: (runKey: string, release: string) => `${storeKeys.run(runKey)}/${runFolderKeys.report(release)}`,
  result: (runKey: string, canonicalImage: string) => `${storeKeys.run(runKey)}/${runFolderKeys.result(canonicalImage)}`,
  /** The newest report of a release, for `issues plan|apply` outside a run. */
  latestReport: (release: string) => `releases/${safeName(release)}/latest-report.json`,
};
