/** The run's own copy of Trivy's vulnerability DB, so every scan of a run matches the same DB. */
import { createHash, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One copy of the vulnerability DB per run. prepareScanner updates the shared DB in the cache
 * folder once, then copies it here; every scan of the run opens this copy (read-only, Trivy >=
 * 0.68.0), so a later run updating the shared DB, or a single-release run started meanwhile,
 * never changes what the images of this run are matched against.
 */
const DATABASES = ['db', 'java-db', 'vex'];

/** Older copies than this are removed when a run prepares its own: no run lasts two weeks. */
const KEEP_MS = 14 * 24 * 3600 * 1000;

export function runDatabaseDir(cacheDir: string, runKey: string): string {
  return join(cacheDir, 'runs', createHash('sha256').update(runKey).digest('hex').slice(0, 16));
}

export interface DatabaseVersion {
  /** metadata.json's UpdatedAt of trivy.db, when there is one. */
  updatedAt?: string;
}

export async function databaseVersion(dir: string): Promise<DatabaseVersion> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'db', 'metadata.json'), 'utf8')) as { UpdatedAt?: string };
    return { updatedAt: meta.UpdatedAt };
  } catch {
    return {};
  }
}

const making = new Map<string, Promise<string>>();

/**
 * The run's copy of the DB, made from the shared one when it is not there yet (by prepareScanner,
 * or by the first scan on a worker whose cache folder prepareScanner did not see). Built beside
 * and renamed into place, so a scan never opens half a copy.
 */
export function runDatabase(cacheDir: string, runKey: string): Promise<string> {
  const dir = runDatabaseDir(cacheDir, runKey);
  let pending = making.get(dir);
  if (!pending) {
    pending = makeCopy(cacheDir, dir).finally(() => making.delete(dir));
    making.set(dir, pending);
  }
  return pending;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function makeCopy(cacheDir: string, dir: string): Promise<string> {
  if (await exists(dir)) return dir;
  const building = `${dir}.${randomUUID()}.tmp`;
  await mkdir(building, { recursive: true });
  try {
    for (const name of DATABASES) {
      const source = join(cacheDir, name);
      // A clone where the file system can (copy-on-write), a plain copy elsewhere.
      if (await exists(source)) await cp(source, join(building, name), { recursive: true, mode: constants.COPYFILE_FICLONE });
    }
    await rename(building, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another worker process made it first: theirs is the same DB.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return dir;
}

/** Removes the copies of runs prepared more than two weeks ago. */
export async function removeOldRunDatabases(cacheDir: string, now = Date.now()): Promise<number> {
  const root = join(cacheDir, 'runs');
  let removed = 0;
  for (const name of await readdir(root).catch(() => [])) {
    const path = join(root, name);
    const info = await stat(path).catch(() => undefined);
    if (info && now - info.mtimeMs > KEEP_MS) {
      await rm(path, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
