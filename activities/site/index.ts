/** site/: the static site written from the stored reports, and its publication to GitHub. */
export { createPublishSite } from './publish-site.js';
