import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ActivityDeps } from '../../activities/index.js';
import { FolderResultStore } from '../../activities/store/result-store.js';

/** The Trivy stand-in: a real executable replaying Trivy-format output. */
export const TRIVY_STUB = fileURLToPath(new URL('../../../test/fakes/trivy-stub.mjs', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

export type StubScenario =
  | { report: string; delayMs?: number; waitFor?: string }
  | { synthetic: number; delayMs?: number; waitFor?: string }
  | { fail: string; times?: number; delayMs?: number }
  | { hang: true }
  | { stdout: string }
  // For `trivy sbom` (the key "sbom"): answer as that image's scan would (the SBOM reproduces it).
  | { sameAs: string };

const tempDirs = new Set<string>();

/** A temp folder, removed when the test process exits; KEEP_TEST_DIRS=1 keeps them for a look after a failure. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (tempDirs.size === 0) {
    process.once('exit', () => {
      if (process.env.KEEP_TEST_DIRS === '1') return;
      for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  tempDirs.add(dir);
  return dir;
}

/** A temp workspace: store, reports, stub Trivy state, and deps pointing at them. */
export class Harness {
  private constructor(readonly dir: string) {}

  static async create(prefix = 'image-scanning-test-'): Promise<Harness> {
    const dir = await tempDir(prefix);
    await mkdir(join(dir, 'stub'), { recursive: true });
    process.env.TRIVY_STUB_DIR = join(dir, 'stub');
    const harness = new Harness(dir);
    await harness.scenarios({});
    return harness;
  }

  get stubDir(): string {
    return join(this.dir, 'stub');
  }

  get reportsDir(): string {
    return join(this.dir, 'reports');
  }

  deps(overrides: Partial<ActivityDeps['trivy']> = {}): ActivityDeps {
    return {
      store: new FolderResultStore(join(this.dir, 'data')),
      reportsDir: this.reportsDir,
      trivy: {
        bin: TRIVY_STUB,
        cacheDir: join(this.dir, 'trivy-cache'),
        cacheBackend: 'memory',
        timeoutSeconds: 60,
        severities: [],
        rateLimitBackoffSeconds: 1,
        heartbeatSeconds: 1,
        ...overrides,
      },
    };
  }

  async scenarios(map: Record<string, StubScenario>): Promise<void> {
    // The stub reads TRIVY_STUB_DIR from its environment, inherited from this process.
    process.env.TRIVY_STUB_DIR = this.stubDir;
    await writeFile(join(this.stubDir, 'scenarios.json'), JSON.stringify(map));
  }

  async release(file: string): Promise<void> {
    await writeFile(join(this.stubDir, file), '');
  }

  /** Calls the stub received, in order. */
  async calls(): Promise<{ kind: string; pid: number; image: string; args: string }[]> {
    const text = await readFile(join(this.stubDir, 'calls.log'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => {
        const [kind, pid, image, ...args] = line.split(' ');
        return { kind: kind!, pid: Number(pid), image: image!, args: args.join(' ') };
      });
  }

  /** TRIVY_CACHE_BACKEND as each stub call saw it in its environment, in call order. */
  async cacheBackends(): Promise<string[]> {
    const text = await readFile(join(this.stubDir, 'cache-backends.log'), 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l !== '');
  }

  /** GOGC and GOMEMLIMIT as each stub call saw them (`off 1GiB`), in call order. */
  async goGc(): Promise<string[]> {
    const text = await readFile(join(this.stubDir, 'go-gc.log'), 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l !== '');
  }

  async writeList(name: string, lines: string[]): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, lines.join('\n') + '\n');
    return path;
  }

  async readReport(release: string): Promise<string> {
    return readFile(join(this.reportsDir, `cves-${release}.csv`), 'utf8');
  }
}

export function images(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `rancher/${prefix}-${from + i}:v1.${from + i}.0`);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
