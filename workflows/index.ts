export { scanReleases } from './scan-releases.js';
export { scanRelease } from './scan-release.js';
