/** The ids the fake hands out: sha1 digests, git blob shas and GraphQL node ids. */
import { createHash } from 'node:crypto';

export function sha1(data: string | Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Git's blob id: sha1("blob <len>\0" + content). */
export function gitBlobSha(content: string | Uint8Array): string {
  const buffer = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
  return createHash('sha1').update(`blob ${buffer.length}\0`).update(buffer).digest('hex');
}

export function nodeId(prefix: string, id: number): string {
  return `${prefix}_${Buffer.from(`fake:${prefix}:${id}`).toString('base64url')}`;
}
