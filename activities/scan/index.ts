/** scan/: Trivy. Prepares the run's DB and VEX sources once, then scans one image at a time through the process launcher. */
export { createPrepareScanner } from './prepare-scanner.js';
export { createScanImage } from './scan-image.js';
