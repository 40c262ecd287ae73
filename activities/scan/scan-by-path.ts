/** One image's scan by the cheapest trusted path: its stored SBOM matched again (no pull), or a full scan of repository@digest that makes and verifies the SBOM. */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScanFailure } from '../../core/failures.js';
import type { ImageRecord } from '../../core/image-list.js';
import { choosePath, normalizeScan, pinnedReference, registryOf, scanDifference, type ScanPath, type StoredSbom } from '../../core/rematch.js';
import type { ImageScan, RegistryWait } from '../../core/scan.js';
import { resolveDigest, type RateLimitFigures, type RunCrane } from '../registry/resolve-digest.js';
import { processLauncher } from './process-launcher.js';
import { QuotaDeadlineError, type RegistryQuota } from '../registry/registry-quota.js';
import { readSbom, readTagDigest, touchSbom, writeSbom, writeTagDigest } from '../store/sbom-store.js';
import type { ResultStore } from '../store/result-store.js';
import { convertArgs, trivyArgs } from './trivy-args.js';
import { trivyPass, type PassContext } from './trivy-pass.js';
import type { TrivySettings } from './trivy-settings.js';

export interface ScanResult {
  scan?: ImageScan;
  failure?: ScanFailure;
  scannedAs?: ScanPath;
  digest?: string;
  /** Nothing scanned: the image needs a pull and its registry is paused (only with `defer`). */
  deferred?: RegistryWait;
}

export interface ScanByPathInput {
  trivy: TrivySettings;
  store: ResultStore;
  record: ImageRecord;
  databaseDir: string;
  vex?: { args: string[]; names: Map<string, string> };
  scratch: string;
  pass: PassContext;
  warn: (message: string) => void;
  /** Pauses pulls from a registry that answered 429, across the run (registry/registry-quota.ts). */
  quota?: RegistryQuota;
  /**
   * The workflow re-queues an image whose registry is paused (patched 'scan-defer-on-quota'): return
   * `deferred` at once instead of waiting inside the activity, so the scan window and the worker's
   * slots go to images that can be re-matched meanwhile.
   */
  defer?: boolean;
}

function withVexNames(scan: ImageScan, names?: Map<string, string>): ImageScan {
  for (const f of scan.findings) if (f.vex) f.vex.source = names?.get(f.vex.source) ?? f.vex.source;
  return scan;
}

/**
 * Chooses the path (core/rematch.ts), runs it, and after a full scan that pinned a digest makes
 * the digest's SBOM and checks it. Making or checking the SBOM never fails the scan.
 */
export async function scanByPath(input: ScanByPathInput): Promise<ScanResult> {
  const { trivy, record } = input;
  const rematching = Boolean(trivy.crane && trivy.version && !record.windows);
  let digest: string | undefined;
  let stored: StoredSbom | undefined;
  let storedProblem: string | undefined;
  let rateLimit: RateLimitFigures | undefined;
  let early: Promise<Speculation> | undefined;
  let lastDigest: string | undefined;
  if (rematching) {
    // The tag's digest last time: its SBOM is matched while the HEAD is made, not after it (one
    // process's wall time per unchanged image instead of two; measured by bench:scan (d)).
    lastDigest = trivy.fullScan ? undefined : await readTagDigest(input.store, record.canonical);
    if (lastDigest) early = speculate(input, lastDigest);
    const check = await resolveDigest(trivy.crane!, record.image, { run: craneThroughLauncher });
    rateLimit = check.rateLimit;
    if ('digest' in check) digest = check.digest;
    else input.warn(`no digest for ${record.image} from a HEAD (${check.unavailable}): full scan`);
    // A tag moved, or no digest: what was matched early is not used (but awaited: no Trivy left running).
    const speculation = early ? await early : undefined;
    if (digest && digest === lastDigest && speculation?.sbom) stored = speculation.sbom;
    if (digest && !stored) {
      const lookup = await readSbom(input.store, digest, trivy.version!);
      stored = lookup.stored;
      storedProblem = lookup.problem;
      if (storedProblem) input.warn(`stored SBOM of ${record.image} not used: ${storedProblem}; full scan`);
    }
    // Seen this run: the SBOM stays past the retention period only while runs keep seeing its digest.
    if (digest && stored) await touchSbom(input.store, digest, trivy.version!);
    if (digest && digest !== lastDigest) await writeTagDigest(input.store, record.canonical, digest);
    if (stored && stored === speculation?.sbom && speculation.result) {
      const choice = choosePath({ digest, trivyVersion: trivy.version, full: false, stored });
      if (choice.path === 'rematch' && speculation.result.scan) return { scan: { ...speculation.result.scan, scannedAs: 'rematched', digest }, scannedAs: 'rematched', digest };
    }
  }
  const choice = choosePath({ digest, trivyVersion: trivy.version, full: Boolean(trivy.fullScan), stored, storedProblem });
  if (rematching && choice.path === 'rematch') {
    const rematched = await rematch(input, choice.sbom);
    if (rematched.scan) return { scan: { ...rematched.scan, scannedAs: 'rematched', digest }, scannedAs: 'rematched', digest };
    input.warn(`re-match of ${record.image} failed (${rematched.failure?.type}: ${rematched.failure?.summary}); full scan`);
  }
  if (!rematching) return fullScan(input, undefined, undefined, false);
  return fullScan(input, digest, stored?.verified === false ? stored : undefined, true, rateLimit);
}

interface Speculation {
  sbom?: StoredSbom;
  result?: ScanResult;
}

/** The re-match of the SBOM of `digest`, made before the HEAD says whether the tag still points there; never throws but for cancellation. */
async function speculate(input: ScanByPathInput, digest: string): Promise<Speculation> {
  const lookup = await readSbom(input.store, digest, input.trivy.version!);
  const sbom = lookup.stored;
  if (!sbom?.verified) return {};
  try {
    return { sbom, result: await rematch(input, sbom) };
  } catch (error) {
    if (input.pass.signal?.aborted) throw error;
    return { sbom };
  }
}

/**
 * crane started like Trivy, from the scanner launcher: a start from the worker itself copies its
 * memory and holds its event loop, once an image (measured by bench:scan (d)).
 */
const craneThroughLauncher: RunCrane = async (file, args, env, timeoutMs) => {
  const launched = processLauncher().launch(file, args, env as Record<string, string>);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    launched.kill();
  }, timeoutMs);
  try {
    const exited = await launched.exited;
    return { stdout: exited.stdout, stderr: exited.stderr, exitCode: exited.exitCode, timedOut };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { stdout: '', stderr: '', exitCode: null, notFound: true };
    throw error;
  } finally {
    clearTimeout(timer);
  }
};

async function rematch(input: ScanByPathInput, sbom: StoredSbom): Promise<ScanResult> {
  const sbomFile = join(input.scratch, `${randomUUID()}.cdx.json`);
  const outputFile = join(input.scratch, `${randomUUID()}.json`);
  try {
    await writeFile(sbomFile, JSON.stringify(sbom.sbom));
    const run = await trivyPass(input.trivy, trivyArgs(input.trivy, input.record, outputFile, input.databaseDir, input.vex?.args, { sbomFile }), outputFile, input.pass, input.record.image);
    if (!run.ok) return { failure: run.failure };
    return { scan: normalizeScan(withVexNames(run.scan!, input.vex?.names), input.record.image) };
  } finally {
    await rm(sbomFile, { force: true });
    await rm(outputFile, { force: true });
  }
}

/** `rematching` false: exactly the scan of before re-matching (the tag, Trivy's report as it is, no path recorded). */
async function fullScan(
  input: ScanByPathInput,
  digest: string | undefined,
  unverified: StoredSbom | undefined,
  rematching: boolean,
  rateLimit?: RateLimitFigures,
): Promise<ScanResult> {
  const { trivy, record } = input;
  const outputFile = join(input.scratch, `${randomUUID()}.json`);
  const target = digest ? pinnedReference(record.image, digest) : record.image;
  // An SBOM is made only for a pinned digest, and not again for one already found not to reproduce its scan.
  const makeSbom = Boolean(digest && trivy.version && !unverified);
  const registry = registryOf(record.canonical);
  try {
    for (;;) {
      try {
        if (input.defer && input.quota) {
          const wait = await input.quota.check(registry);
          if (wait) {
            const remaining = rateLimit?.remaining ?? wait.remaining;
            const limit = rateLimit?.limit ?? wait.limit;
            return {
              deferred: { registry, until: wait.until, reason: wait.reason, ...(remaining !== undefined ? { remaining } : {}), ...(limit !== undefined ? { limit } : {}) },
              digest,
            };
          }
        } else await input.quota?.beforePull(registry, record.image);
      } catch (error) {
        if (!(error instanceof QuotaDeadlineError)) throw error;
        return { failure: { type: 'RegistryRateLimited', permanent: true, summary: error.message }, scannedAs: 'pulled', digest };
      }
      const run = await trivyPass(trivy, trivyArgs(trivy, record, outputFile, input.databaseDir, input.vex?.args, { target, listAllPkgs: makeSbom }), outputFile, input.pass, record.image);
      if (!run.ok) {
        if (run.failure.type === 'RegistryRateLimited' && input.quota && (await input.quota.rateLimited(registry, record.image, run.failure.summary, rateLimit))) continue;
        return rematching ? { failure: run.failure, scannedAs: 'pulled', digest } : { failure: run.failure };
      }
      await input.quota?.pulled(registry);
      if (!rematching) return { scan: withVexNames(run.scan!, input.vex?.names) };
      const scan: ImageScan = { ...normalizeScan(withVexNames(run.scan!, input.vex?.names), record.image), scannedAs: 'pulled' };
      if (digest) scan.digest = digest;
      if (unverified) scan.needsFullScans = unverified.unverifiedReason ?? 'its SBOM did not reproduce its scan';
      if (makeSbom) {
        const made = await makeVerifiedSbom(input, digest!, outputFile, scan);
        if (!made.verified) {
          scan.needsFullScans = made.unverifiedReason;
          input.warn(`${record.image} needs full scans: ${made.unverifiedReason}`);
        }
      }
      return { scan, scannedAs: 'pulled', digest };
    }
  } finally {
    await rm(outputFile, { force: true });
  }
}

/**
 * `trivy convert` of the full scan's report into CycloneDX, then `trivy sbom` on it with the same
 * DB and VEX sources: trusted only when it gives exactly the same normalized scan. Stored either
 * way (an untrusted one marks the image as needing full scans); never throws but for cancellation.
 */
async function makeVerifiedSbom(input: ScanByPathInput, digest: string, reportFile: string, full: ImageScan): Promise<StoredSbom> {
  const { trivy, record } = input;
  const sbomFile = join(input.scratch, `${randomUUID()}.cdx.json`);
  const checkFile = join(input.scratch, `${randomUUID()}.json`);
  const record0: StoredSbom = { digest, trivyVersion: trivy.version!, image: record.image, madeAt: new Date().toISOString(), verified: false, sbom: null };
  let result: StoredSbom;
  try {
    const converted = await trivyPass(trivy, convertArgs(reportFile, sbomFile), sbomFile, input.pass);
    if (!converted.ok) {
      result = { ...record0, unverifiedReason: `trivy convert failed: ${converted.failure.summary}` };
    } else {
      let sbom: unknown;
      try {
        sbom = JSON.parse(await readFile(sbomFile, 'utf8'));
      } catch (error) {
        sbom = undefined;
        result = { ...record0, unverifiedReason: `trivy convert wrote no JSON: ${(error as Error).message}` };
      }
      if (sbom !== undefined) {
        const check = await trivyPass(trivy, trivyArgs(trivy, record, checkFile, input.databaseDir, input.vex?.args, { sbomFile }), checkFile, input.pass, record.image);
        if (!check.ok) result = { ...record0, sbom, unverifiedReason: `trivy sbom on the new SBOM failed: ${check.failure.summary}` };
        else {
          const difference = scanDifference(full, normalizeScan(withVexNames(check.scan!, input.vex?.names), record.image));
          result = difference ? { ...record0, sbom, unverifiedReason: `its SBOM does not reproduce its scan: ${difference}` } : { ...record0, sbom, verified: true };
        }
      }
    }
  } catch (error) {
    if (input.pass.signal?.aborted) throw error;
    result = { ...record0, unverifiedReason: `making its SBOM failed: ${(error as Error).message}` };
  } finally {
    await rm(sbomFile, { force: true });
    await rm(checkFile, { force: true });
  }
  // The untrusted record keeps no document: only the mark that the image needs full scans.
  if (!result!.verified) result!.sbom = null;
  await writeSbom(input.store, result!);
  return result!;
}
