/**
 * Side (b) of the comparison: the same scanImage activity function over the same images in the
 * bench process under MockActivityEnvironment, with no Temporal, and its wall time, CPU and RSS.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { FolderResultStore, storeKeys } from '../../activities/store/result-store.js';
import { buildImageRecords, parseImageList } from '../../core/image-list.js';
import { cpuOf, launcherCpuOf, sampleRss } from '../support.js';

const quiet = new DefaultLogger('ERROR');

export interface PlainRun {
  wallMs: number;
  scanned: number;
  cpu: { bench: number; scanners: number };
  peakRss: number;
}

/** Scans `releases` with `inFlight` scanImage calls at a time in this process, and measures it. */
export async function plainLoop(work: string, label: string, stub: string, releases: { name: string; list: string[] }[], inFlight: number): Promise<PlainRun> {
  const dir = join(work, label);
  const deps: ActivityDeps = {
    store: new FolderResultStore(join(dir, 'data')),
    reportsDir: join(dir, 'reports'),
    // The worker's defaults (worker/config.ts), with the stub as Trivy.
    trivy: { bin: stub, cacheDir: join(dir, 'trivy-cache'), cacheBackend: 'memory', timeoutSeconds: 600, severities: [], rateLimitBackoffSeconds: 300, heartbeatSeconds: 5 },
  };
  const runKey = `plain-${label}@${randomUUID()}`;
  const items: { runKey: string; release: string; index: number }[] = [];
  for (const release of releases) {
    const records = buildImageRecords({ images: parseImageList(release.list.join('\n'), release.name) });
    await deps.store.writeJson(storeKeys.images(runKey, release.name), records);
    await deps.store.writeJson(storeKeys.assigned(runKey, release.name), records);
    records.forEach((_, index) => items.push({ runKey, release: release.name, index }));
  }
  const { scanImage } = createActivities(deps);
  const sampler = sampleRss(process.pid, 100);
  const self0 = cpuOf(process.pid);
  const launcher0 = launcherCpuOf(process.pid);
  const cpu0 = process.cpuUsage();
  let next = 0;
  let scanned = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        // One activity context per scan, as a worker gives each activity its own.
        await new MockActivityEnvironment(undefined, { logger: quiet }).run(scanImage, item);
        scanned++;
      }
    }),
  );
  const wallMs = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const self1 = cpuOf(process.pid);
  const scanners = self1.children - self0.children + launcherCpuOf(process.pid) - launcher0;
  return { wallMs, scanned, cpu: { bench: (cpu.user + cpu.system) / 1e6, scanners }, peakRss: sampler.stop() };
}
