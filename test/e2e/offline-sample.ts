import { spawn } from 'node:child_process';
import { access, constants, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../../host/paths.js';
import { findTrivy } from '../../client/trivy-cli.js';

/**
 * The offline sample: the real Trivy, a vulnerability DB and container images
 * built here by scripts/build-e2e-fixtures.sh from test/fixtures/e2e/, and a
 * registry on loopback serving those images. Used by test/e2e/real-trivy.test.ts
 * and by `npm run demo` (scripts/demo.mjs).
 */
export const SAMPLE = {
  /** A Trivy cache dir holding db/ and java-db/; copy it, Trivy may write beside them. */
  cacheDir: join(PROJECT_ROOT, '.tools', 'e2e', 'trivy-cache'),
  /** The OCI image layout of every sample image. */
  layout: join(PROJECT_ROOT, '.tools', 'e2e', 'images'),
  /** Builds the layout and serves it from an in-memory registry. */
  imagesTool: join(PROJECT_ROOT, '.tools', 'bin', 'fixture-images'),
  build: 'scripts/build-e2e-fixtures.sh',
};

/** Repositories and tags in the sample registry (test/fixtures/e2e/images.json), and one it lacks. */
export const SAMPLE_IMAGES = {
  alpine: 'e2e/alpine-vulnerable:1.0',
  debian: 'e2e/debian-vulnerable:1.0',
  noOs: 'e2e/no-os:1.0',
  goApp: 'e2e/go-app:1.0',
  missing: 'e2e/missing:1.0',
} as const;

/**
 * Images that add a layer of their own (2 MB of random bytes) on top of a sample image's,
 * so they share that base layer, as Rancher images share theirs: [reference, base key].
 */
export const SHARED_BASE_IMAGES: [string, 'alpine' | 'debian'][] = [
  ['e2e/alpine-app-1:1.0', 'alpine'],
  ['e2e/alpine-app-2:1.0', 'alpine'],
  ['e2e/alpine-app-3:1.0', 'alpine'],
  ['e2e/debian-app-1:1.0', 'debian'],
  ['e2e/debian-app-2:1.0', 'debian'],
];

/**
 * Every finding the sample must produce, and no other (test/fixtures/e2e/advisories.json):
 * [image key, package, installed version, vulnerability, severity, fixed version].
 * Left out on purpose: CVE-2099-1003 (busybox already fixed), CVE-2099-1004 (curl not
 * installed), CVE-2099-1005 (another Alpine release), CVE-2099-2003 (glibc already fixed),
 * CVE-2099-3002 (x/net not linked into the Go binary).
 */
export const EXPECTED_FINDINGS: [keyof typeof SAMPLE_IMAGES, string, string, string, string, string][] = [
  ['alpine', 'libcrypto3', '3.1.4-r0', 'CVE-2099-1001', 'HIGH', '3.1.4-r5'],
  ['alpine', 'libssl3', '3.1.4-r0', 'CVE-2099-1001', 'HIGH', '3.1.4-r5'],
  ['alpine', 'zlib', '1.3-r2', 'CVE-2099-1002', 'CRITICAL', '1.3.1-r0'],
  ['debian', 'libexpat1', '2.5.0-1', 'CVE-2099-2001', 'MEDIUM', '2.5.0-1+deb12u1'],
  ['debian', 'tar', '1.34+dfsg-1.2+deb12u1', 'CVE-2099-2002', 'LOW', ''],
  ['goApp', 'golang.org/x/text', 'v0.3.7', 'CVE-2099-3001', 'HIGH', '0.3.8'],
];

async function exists(path: string, mode = constants.R_OK): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** The Trivy executable when the whole sample is in place, else why not (a reason to skip). */
export async function locateSample(): Promise<{ trivy: string } | { missing: string }> {
  let trivy: string;
  try {
    trivy = await findTrivy({ install: false });
  } catch (error) {
    return { missing: `${(error as Error).message} (CI runs \`npm run trivy-cli\`)` };
  }
  const needed = [
    join(SAMPLE.cacheDir, 'db', 'trivy.db'),
    join(SAMPLE.cacheDir, 'db', 'metadata.json'),
    join(SAMPLE.cacheDir, 'java-db', 'metadata.json'),
    join(SAMPLE.layout, 'index.json'),
  ];
  for (const file of needed) {
    if (!(await exists(file))) return { missing: `${file} is missing: run ${SAMPLE.build} (needs Go and the Go module proxy)` };
  }
  if (!(await exists(SAMPLE.imagesTool, constants.X_OK))) return { missing: `${SAMPLE.imagesTool} is missing: run ${SAMPLE.build}` };
  return { trivy };
}

/** A private copy of the sample DB, so runs never share or alter the built one. */
export async function copySampleCache(dest: string): Promise<string> {
  await cp(SAMPLE.cacheDir, dest, { recursive: true });
  return dest;
}

export interface SampleRegistry {
  /** host:port on 127.0.0.1; images are `${host}/e2e/...`. */
  host: string;
  ref(image: string): string;
  stop(): Promise<void>;
}

/**
 * Serves the sample images from an in-memory registry on a free loopback port.
 * Plain HTTP: Trivy (go-containerregistry) talks HTTP to loopback registries by itself.
 * The registry exits when its stdin closes, so it never outlives this process.
 * `addr` fixes the port (the demo keeps image names stable between runs); default: any free port.
 * `layout` serves another layout built by fixture-images (the scan benchmark's).
 */
export function startSampleRegistry(addr = '127.0.0.1:0', layout = SAMPLE.layout): Promise<SampleRegistry> {
  const child = spawn(SAMPLE.imagesTool, ['serve', '-layout', layout, '-addr', addr], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the sample registry did not start within 30 s: ${stderr.trim()}`));
    }, 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the sample registry exited with ${code}: ${stderr.trim()}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^registry (\S+)$/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      const host = match[1]!;
      resolve({
        host,
        ref: (image) => `${host}/${image}`,
        stop: async () => {
          child.stdin.end();
          const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}
