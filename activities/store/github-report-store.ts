/** The report store's GitHub twin: a folder on a branch, written through the contents API with compare-and-swap. */
import type { GitHubClient } from '../github/github.js';
import type { Repository } from '../github/repository.js';
import type { ReportStore, StoredReport } from './report-store.js';

/**
 * A folder on a branch of a GitHub repository, through the contents API. The
 * blob sha read is sent with the write, so GitHub refuses it (409) when someone
 * committed in between; the caller then re-reads and re-merges.
 */
export class GitHubReportStore implements ReportStore {
  constructor(
    private readonly github: GitHubClient,
    private readonly repository: Repository,
    private readonly branch: string,
    private readonly folder: string,
  ) {}

  get description(): string {
    return `${this.repository.owner}/${this.repository.repo}@${this.branch}:${this.folder}`;
  }

  private path(name: string): string {
    return this.folder ? `${this.folder.replace(/\/+$/, '')}/${name}` : name;
  }

  async read(name: string): Promise<StoredReport | undefined> {
    try {
      const { data } = await this.github.rest.repos.getContent({ ...this.repository, path: this.path(name), ref: this.branch });
      if (Array.isArray(data) || data.type !== 'file') throw new Error(`${this.description}/${name} is not a file`);
      if (data.encoding === 'base64') return { text: Buffer.from(data.content, 'base64').toString('utf8'), version: data.sha };
      // Over 1 MB the contents API sends no content (encoding "none"); reading it as empty would
      // drop every note on the next write. The blob of the same sha holds it, up to 100 MB.
      const { data: blob } = await this.github.rest.git.getBlob({ ...this.repository, file_sha: data.sha });
      if (blob.encoding !== 'base64') throw new Error(`${this.description}/${name}: GitHub sent the blob ${data.sha} as "${blob.encoding}", not base64`);
      return { text: Buffer.from(blob.content, 'base64').toString('utf8'), version: data.sha };
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    }
  }

  /**
   * The committer date of the newest commit on the branch that touched the file (the commits
   * API filtered by path): a blob sha says that a file changed, not when. One read.
   */
  async changedAt(name: string): Promise<string | undefined> {
    const { data } = await this.github.rest.repos.listCommits({ ...this.repository, sha: this.branch, path: this.path(name), per_page: 1 });
    const commit = data[0]?.commit;
    return commit?.committer?.date ?? commit?.author?.date ?? undefined;
  }

  async write(name: string, text: string, readVersion: string | undefined, message: string): Promise<'written' | 'conflict'> {
    try {
      await this.github.rest.repos.createOrUpdateFileContents({
        ...this.repository,
        path: this.path(name),
        branch: this.branch,
        message,
        content: Buffer.from(text, 'utf8').toString('base64'),
        ...(readVersion ? { sha: readVersion } : {}),
      });
      return 'written';
    } catch (error) {
      const status = (error as { status?: number }).status;
      // 409: the sha is stale; 422: the file appeared although we read none.
      if (status === 409 || status === 422) return 'conflict';
      throw error;
    }
  }
}
