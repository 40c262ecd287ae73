/** Reads an image list from a local path or an http(s) URL. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

export class SourceNotFoundError extends Error {
  override name = 'SourceNotFoundError';
}

/** Reads a local file or an http(s) URL; a missing source is reported by name. */
export async function readSource(source: string): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    const response = await fetch(source);
    if (response.status === 404) throw new SourceNotFoundError(`${source} was not found (HTTP 404)`);
    if (!response.ok) throw new Error(`${source} could not be read: HTTP ${response.status}`);
    return await response.text();
  }
  try {
    return await readFile(resolve(source), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SourceNotFoundError(`${source} does not exist`);
    throw error;
  }
}
