/**
 * The fake's store: the state types of repositories, issues, labels, comments, releases and branches,
 * and FakeStore, which holds them with the ids, the clock and the git objects every route file shares.
 */
import { gitBlobSha, sha1 } from './ids.js';
import { DOCS, fail, type Context } from './routing.js';

export type StateReason = 'completed' | 'not_planned' | 'duplicate' | 'reopened';

export interface LabelState {
  id: number;
  node_id: string;
  name: string;
  color: string;
  description: string | null;
  default: boolean;
}

export interface CommentState {
  id: number;
  node_id: string;
  issueNumber: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
  /** Reactions on the comment, one per (user, content) as GitHub keeps them. */
  reactions?: ReactionState[];
}

export interface ReactionState {
  id: number;
  node_id: string;
  user: string;
  content: string;
  created_at: string;
}

export interface IssueState {
  id: number;
  node_id: string;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: StateReason | null;
  labelIds: number[];
  commentIds: number[];
  user: string;
  locked: boolean;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  closed_by: string | null;
}

export interface AssetState {
  id: number;
  node_id: string;
  name: string;
  label: string | null;
  content_type: string;
  data: Buffer;
  digest: string;
  download_count: number;
  created_at: string;
  updated_at: string;
}

export interface ReleaseState {
  id: number;
  node_id: string;
  tag_name: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  target_commitish: string;
  created_at: string;
  published_at: string | null;
  assets: AssetState[];
}

export interface CommitRecord {
  sha: string;
  message: string;
  /** Paths written (or deleted) by the commit. */
  paths: string[];
  author: string;
  date: string;
}

export interface BranchState {
  /** Path → content. */
  files: Map<string, Buffer>;
  /** Sha of the head commit. */
  head: string;
  commits: CommitRecord[];
}

export interface FakeRepo {
  owner: string;
  name: string;
  full_name: string;
  id: number;
  default_branch: string;
  issues: Map<number, IssueState>;
  labels: Map<number, LabelState>;
  comments: Map<number, CommentState>;
  releases: ReleaseState[];
  branches: Map<string, BranchState>;
  /** Collaborators by login (lower case) → role: read, triage, write, maintain or admin. The authenticated user is admin. */
  collaborators: Map<string, string>;
}

export interface GitCommitObject {
  tree: string;
  parents: string[];
  /** The implicit first commit of a fake repository: not listed in `commits()`. */
  root?: boolean;
  record: CommitRecord;
}

export interface StoreOptions {
  login: string;
  defaultBranch: string;
  autoCreateRepos: boolean;
  now: () => Date;
}

function subtree(flat: Map<string, string>, dir: string): Map<string, string> {
  const prefix = `${dir}/`;
  return new Map([...flat].filter(([path]) => path.startsWith(prefix)).map(([path, blob]) => [path.slice(prefix.length), blob]));
}

/** The issue `raw` names (its number, as in the URL), or a 404. */
export function issueOf(repo: FakeRepo, raw: string | undefined): IssueState {
  const issue = /^\d+$/.test(raw ?? '') ? repo.issues.get(Number(raw)) : undefined;
  return issue ?? fail(404, 'Not Found', `${DOCS}/issues/issues#get-an-issue`);
}

export class FakeStore {
  /** Login of the authenticated user. */
  readonly login: string;
  readonly defaultBranch: string;
  readonly autoCreate: boolean;
  readonly clock: () => Date;
  /** The fake's URL, set once it listens. */
  base = '';
  readonly repos = new Map<string, FakeRepo>();
  /** Teams by `org/slug` (lower case) → logins (lower case) with an active membership. */
  readonly teams = new Map<string, Set<string>>();
  readonly assetsById = new Map<number, { repo: FakeRepo; release: ReleaseState; asset: AssetState }>();

  // Git objects: content-addressed, shared by every repository of the fake: blobs by git blob sha,
  // trees as a flat map of file path → blob sha (every folder is a tree too), commits with their
  // tree and parents. Each branch commit (contents API, `commitFile`, git data API) is recorded
  // here, so the contents API and the git data API see the same history.
  readonly blobs = new Map<string, Buffer>();
  readonly trees = new Map<string, Map<string, string>>();
  readonly gitCommits = new Map<string, GitCommitObject>();

  private nextId = 1_000_001;

  constructor(options: StoreOptions) {
    this.login = options.login;
    this.defaultBranch = options.defaultBranch;
    this.autoCreate = options.autoCreateRepos;
    this.clock = options.now;
  }

  now(): string {
    return this.clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  newId(): number {
    return this.nextId++;
  }

  getRepo(owner: string, name: string, create = this.autoCreate): FakeRepo {
    const key = `${owner}/${name}`.toLowerCase();
    let repo = this.repos.get(key);
    if (!repo) {
      if (!create) fail(404, 'Not Found');
      const id = this.newId();
      repo = {
        owner,
        name,
        full_name: `${owner}/${name}`,
        id,
        default_branch: this.defaultBranch,
        issues: new Map(),
        labels: new Map(),
        comments: new Map(),
        releases: [],
        branches: new Map([[this.defaultBranch, this.newBranch()]]),
        collaborators: new Map([[this.login.toLowerCase(), 'admin']]),
      };
      this.repos.set(key, repo);
    }
    return repo;
  }

  /** The repository a `/repos/:owner/:repo/…` route names. */
  repoOf(ctx: Context): FakeRepo {
    return this.getRepo(ctx.params[0]!, ctx.params[1]!);
  }

  repoApi(repo: FakeRepo): string {
    return `${this.base}/repos/${repo.full_name}`;
  }

  newBranch(from?: BranchState): BranchState {
    if (from) return { files: new Map(from.files), head: from.head, commits: [...from.commits] };
    const head = sha1(`root:${this.newId()}`);
    this.gitCommits.set(head, { tree: this.storeFiles(new Map()), parents: [], root: true, record: { sha: head, message: 'Initial commit', paths: [], author: this.login, date: this.now() } });
    return { files: new Map(), head, commits: [] };
  }

  commit(branch: BranchState, message: string, paths: string[], author: string): CommitRecord {
    const record: CommitRecord = { sha: sha1(`commit:${branch.head}:${this.newId()}:${message}`), message, paths, author, date: this.now() };
    this.gitCommits.set(record.sha, { tree: this.storeFiles(branch.files), parents: [branch.head], record });
    branch.head = record.sha;
    branch.commits.push(record);
    return record;
  }

  storeBlob(data: Buffer): string {
    const sha = gitBlobSha(data);
    this.blobs.set(sha, data);
    return sha;
  }

  /** Stores a flat tree (path → blob sha) and every folder in it; returns the tree's sha. */
  storeTree(flat: Map<string, string>): string {
    const sorted = [...flat.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sha = sha1(`tree\n${sorted.map(([path, blob]) => `${path} ${blob}\n`).join('')}`);
    if (this.trees.has(sha)) return sha;
    this.trees.set(sha, new Map(sorted));
    for (const dir of new Set(sorted.filter(([path]) => path.includes('/')).map(([path]) => path.slice(0, path.indexOf('/'))))) {
      this.storeTree(subtree(flat, dir));
    }
    return sha;
  }

  /** The tree of folder `dir` inside a flat tree, stored; returns its sha. */
  storeSubtree(flat: Map<string, string>, dir: string): string {
    return this.storeTree(subtree(flat, dir));
  }

  storeFiles(files: Map<string, Buffer>): string {
    return this.storeTree(new Map([...files].map(([path, data]) => [path, this.storeBlob(data)])));
  }

  /** The files of a stored tree. */
  materialize(treeSha: string): Map<string, Buffer> {
    const flat = this.trees.get(treeSha) ?? new Map<string, string>();
    return new Map([...flat].map(([path, blob]) => [path, this.blobs.get(blob)!]));
  }

  /** Commits from `tip` back to (not including) `stop`, oldest first; undefined when `stop` is not an ancestor. */
  commitsSince(tip: string, stop: string | undefined): CommitRecord[] | undefined {
    const chain: CommitRecord[] = [];
    let sha: string | undefined = tip;
    while (sha !== undefined && sha !== stop) {
      const object = this.gitCommits.get(sha);
      if (!object) return undefined;
      if (!object.root) chain.push(object.record);
      sha = object.parents[0];
    }
    if (stop !== undefined && sha !== stop) return undefined;
    return chain.reverse();
  }
}
