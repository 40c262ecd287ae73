// `npm run demo`: the README's embedded main job (`image-scanning run`) on the
// offline sample, end to end, with no network beyond the package registries:
// the real Trivy (found or built, see client/trivy-cli.ts), the DB and images
// built here (scripts/build-e2e-fixtures.sh), a registry on loopback serving them,
// then `node lib/client/cli.js run` exactly as a user runs it.
// Run it after `npm run build` (the npm script does).
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../lib/host/paths.js';
import { findTrivy } from '../lib/client/trivy-cli.js';
import { copySampleCache, SAMPLE_IMAGES, startSampleRegistry } from '../lib/test/e2e/offline-sample.js';

const demoDir = join(PROJECT_ROOT, '.data', 'demo');
const reportsDir = join(PROJECT_ROOT, 'reports', 'demo');

const trivy = await findTrivy({ install: true, log: (line) => console.error(line) });
const fixtures = spawnSync(join(PROJECT_ROOT, 'scripts', 'build-e2e-fixtures.sh'), { stdio: ['ignore', 'ignore', 'inherit'] });
if (fixtures.status !== 0) process.exit(fixtures.status ?? 1);

await rm(demoDir, { recursive: true, force: true });
await mkdir(demoDir, { recursive: true });
const cacheDir = await copySampleCache(join(demoDir, 'trivy-cache'));
// A fixed port keeps image names, and so the CSV's rows and notes, the same from one demo to the next.
const addr = process.env.DEMO_REGISTRY_ADDR ?? '127.0.0.1:5055';
const registry = await startSampleRegistry(addr).catch((error) => {
  console.error(`demo: cannot serve the sample on ${addr} (${error.message}); using any free port (set DEMO_REGISTRY_ADDR to choose)`);
  return startSampleRegistry();
});
let code = 1;
try {
  const images = [SAMPLE_IMAGES.alpine, SAMPLE_IMAGES.debian, SAMPLE_IMAGES.noOs, SAMPLE_IMAGES.goApp].map(registry.ref);
  const list = join(demoDir, 'images.txt');
  await writeFile(list, `# the offline sample, served by ${registry.host}\n${images.join('\n')}\n`);
  const env = {
    ...process.env,
    TRIVY_BIN: trivy,
    TRIVY_CACHE_DIR: cacheDir,
    TRIVY_TIMEOUT: process.env.TRIVY_TIMEOUT ?? '120',
    IMAGE_SCANNING_DATA_DIR: join(demoDir, 'data'),
  };
  const args = ['lib/client/cli.js', 'run', '--release', 'demo', '--images', list, '--out', reportsDir];
  console.error(`demo: Trivy ${trivy}, DB ${relative(PROJECT_ROOT, cacheDir)}, registry ${registry.host}`);
  console.error(`demo: TRIVY_BIN=${trivy} TRIVY_CACHE_DIR=${relative(PROJECT_ROOT, cacheDir)} node ${args.join(' ')}`);
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: 'inherit' });
  code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
} finally {
  await registry.stop();
}
process.exit(code);
