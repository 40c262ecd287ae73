/**
 * The benchmark's image lists: made-up image names for each release, written as one list file
 * a release, as `image-scanning run` reads them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function imageNames(release: number, count: number, tag: string): string[] {
  return Array.from({ length: count }, (_, i) => `rancher/bench-${tag}-r${release}-${i}:v1.${i % 50}.${release}`);
}

/** `releases` list files of `count` images each in `dir`, named `<tag>-r<n>`. */
export async function writeLists(dir: string, tag: string, releases: number, count: number): Promise<{ name: string; images: string; list: string[] }[]> {
  await mkdir(dir, { recursive: true });
  const out = [];
  for (let r = 0; r < releases; r++) {
    const list = imageNames(r, count, tag);
    const path = join(dir, `${tag}-r${r}.txt`);
    await writeFile(path, list.join('\n') + '\n');
    out.push({ name: `${tag}-r${r}`, images: path, list });
  }
  return out;
}
