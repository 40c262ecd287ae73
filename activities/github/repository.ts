/** A GitHub repository as `owner/name`, parsed once where it is configured. */
export interface Repository {
  owner: string;
  repo: string;
}

export function parseRepository(value: string): Repository {
  const [owner, repo, ...rest] = value.split('/');
  if (!owner || !repo || rest.length) throw new Error(`repository "${value}" is not owner/name`);
  return { owner, repo };
}
