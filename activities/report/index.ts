/** report/: a release's CSV, summary, OpenVEX and history, merged a row at a time with what people wrote. */
export { createWriteReleaseReport } from './write-release-report.js';
