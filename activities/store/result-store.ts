/** The result store (a folder, keyed by run) that carries everything too large for workflow history, and its file helpers. */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * The claim-check store: activities leave large data here and hand each other keys.
 * Two kinds: a folder (the embedded default; shared between workers only on a shared
 * volume) and PostgreSQL (postgres-result-store.ts), which workers on any host share.
 * Both pass the same contract tests (test/activities/store/result-store-contract.test.ts).
 */
export interface ResultStore {
  /** Where a key's value lives, for people to read: a path, or a masked postgres:// location. */
  path(key: string): string;
  /** Writes or replaces the value: a retried write leaves one value, never two. */
  writeJson(key: string, value: unknown): Promise<void>;
  readJson<T>(key: string): Promise<T | undefined>;
  /**
   * Stores a file's bytes under `key` (a report's rows: too large for one JSON value), replacing
   * what was there; a reader sees the old file or the new one, never a mix.
   */
  writeFile(key: string, sourcePath: string): Promise<void>;
  /** The bytes stored under `key` as a stream, read a piece at a time; undefined when never written. */
  openFile(key: string): Promise<Readable | undefined>;
  /** The names one level below `prefix` (`releases` gives each release's folder name), sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * Removes the entries of runs last written more than `days` ago, and the entries under
   * AGED_ONE_BY_ONE (SBOMs) last written or touched more than `days` ago; how many runs and entries went.
   */
  prune(days: number, now?: number): Promise<number>;
  /** Marks a value as still in use, without rewriting it: its retention counts from now. Nothing when absent. */
  touch(key: string): Promise<void>;
  close?(): Promise<void>;
}

/**
 * The folder store. Writes go through a temporary file and a rename, so a killed worker
 * never leaves half a file for another worker to read.
 */
export class FolderResultStore implements ResultStore {
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

  async writeFile(key: string, sourcePath: string): Promise<void> {
    await copyFileAtomic(sourcePath, this.path(key));
  }

  async openFile(key: string): Promise<Readable | undefined> {
    // Opened first, so a missing file is "never written" rather than an error on the stream's first read.
    const handle = await open(this.path(key), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    return handle?.createReadStream({ highWaterMark: 1024 * 1024 });
  }

  async list(prefix: string): Promise<string[]> {
    try {
      return (await readdir(this.path(prefix))).filter((name) => !name.endsWith('.tmp')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw error;
    }
  }

  async touch(key: string): Promise<void> {
    const at = new Date();
    await utimes(this.path(key), at, at).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  async prune(days: number, now = Date.now()): Promise<number> {
    const runs = join(this.root, 'runs');
    let removed = 0;
    for (const prefix of AGED_ONE_BY_ONE) removed += await removeOlderFiles(this.path(prefix), now - days * 24 * 3600 * 1000);
    for (const name of await readdir(runs).catch(() => [] as string[])) {
      const info = await stat(join(runs, name)).catch(() => undefined);
      if (info && now - info.mtimeMs > days * 24 * 3600 * 1000) {
        await rm(join(runs, name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }
}

/** The store seen from inside one run's folder, as `render --results <run folder>` sees it. */
export function withinRun(store: ResultStore, runKey: string): ResultStore {
  const prefix = storeKeys.run(runKey);
  return {
    path: (key) => store.path(`${prefix}/${key}`),
    writeJson: (key, value) => store.writeJson(`${prefix}/${key}`, value),
    readJson: (key) => store.readJson(`${prefix}/${key}`),
    writeFile: (key, sourcePath) => store.writeFile(`${prefix}/${key}`, sourcePath),
    openFile: (key) => store.openFile(`${prefix}/${key}`),
    list: (key) => store.list(`${prefix}/${key}`),
    prune: () => Promise.resolve(0),
    touch: (key) => store.touch(`${prefix}/${key}`),
  };
}

/**
 * Prefixes outside every run whose entries age one by one (written or touched), not with a run:
 * an image digest's SBOM lives as long as some run sees the digest (activities/store/sbom-store.ts).
 */
export const AGED_ONE_BY_ONE = ['sboms/'] as const;

/** Removes the files below `dir` last modified before `cutoff` (epoch ms); how many went. */
async function removeOlderFiles(dir: string, cutoff: number): Promise<number> {
  let removed = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removed += await removeOlderFiles(path, cutoff);
    else if (entry.isFile() && !entry.name.endsWith('.tmp')) {
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed++;
      }
    }
  }
  return removed;
}

/** A name beside `path` no other writer picks, ending in `.tmp` so that listings skip it. */
/** Reads of a stored file: large pieces, so a CSV parser is called a few hundred times for a 60 MB file, not thousands. */
export const READ_CHUNK = 1024 * 1024;

export function temporaryPath(path: string): string {
  return `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = temporaryPath(path);
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
  /** A git source's repository, ref and commit, for the report, site and issues. */
  source: (release: string) => `releases/${safeName(release)}/source.json`,
  /** A git source's lists as its export script wrote them (activities/sources). */
  gitLists: (release: string) => `releases/${safeName(release)}/git-lists.json`,
  /** The release's CSV as this run wrote it, sorted: where the issue and site activities read its rows. */
  reportRows: (release: string) => `releases/${safeName(release)}/report.csv`,
  result: (canonicalImage: string) => `results/${safeName(canonicalImage)}.json`,
};

/** Key scheme: everything of one run under its run key, results by (run, image). */
export const storeKeys = {
  run: (runKey: string) => `runs/${safeName(runKey)}`,
  images: (runKey: string, release: string) => `${storeKeys.run(runKey)}/${runFolderKeys.images(release)}`,
  assigned: (runKey: string, release: string) => `${storeKeys.run(runKey)}/${runFolderKeys.assigned(release)}`,
  report: (runKey: string, release: string) => `${storeKeys.run(runKey)}/${runFolderKeys.report(release)}`,
  source: (runKey: string, release: string) => `${storeKeys.run(runKey)}/${runFolderKeys.source(release)}`,
  gitLists: (runKey: string, release: string) => `${storeKeys.run(runKey)}/${runFolderKeys.gitLists(release)}`,
  reportRows: (runKey: string, release: string) => `${storeKeys.run(runKey)}/${runFolderKeys.reportRows(release)}`,
  result: (runKey: string, canonicalImage: string) => `${storeKeys.run(runKey)}/${runFolderKeys.result(canonicalImage)}`,
  /** The newest report of a release, for `issues plan|apply` outside a run. */
  latestReport: (release: string) => `releases/${safeName(release)}/latest-report.json`,
  latestReportRows: (release: string) => `releases/${safeName(release)}/latest-report.csv`,
};

/** Copies a file into place through a temporary file and a rename: a reader sees the old file or the new one. */
export async function copyFileAtomic(sourcePath: string, path: string): Promise<void> {
  const tmp = temporaryPath(path);
  await mkdir(dirname(path), { recursive: true });
  await copyFile(sourcePath, tmp);
  await rename(tmp, path);
}
