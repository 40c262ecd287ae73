/** triage/: `/cve` commands in issue comments, written into the release CSVs as a person's edit and answered. */
export { applyIssueTriage, createApplyIssueTriage, TRIAGE_STATE_NAME } from './apply-issue-triage.js';
export { syncTriage } from './sync-triage.js';
