/** lists/: what a run scans. Resolves each release's image lists and gives every image to one release. */
export { createAssignScans } from './assign-scans.js';
export { createResolveImages } from './resolve-images.js';
export { createAssignedImages } from './assigned-images.js';
