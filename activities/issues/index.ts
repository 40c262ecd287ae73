/** issues/: one GitHub issue per affected image, planned from the stored reports and applied with a token. */
export { createReconcileIssues } from './reconcile-issues.js';
