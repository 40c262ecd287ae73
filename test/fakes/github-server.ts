/**
 * A stateful fake of the GitHub REST API for tests (GitHub cannot be reached from here).
 *
 * - Serves the routes @octokit/rest calls for issues, labels, comments, releases and their
 *   assets, and repository contents (a branch-per-store file tree with blob shas and 409s).
 * - Checks every request body and JSON response body on a documented route against GitHub's
 *   own OpenAPI description (@octokit/openapi), recording violations in `fake.violations`.
 *   The description is read once per process, on the first request (or `loadGitHubOpenApi()`);
 *   each operation's validators compile on first use. Not checked: statuses the description does
 *   not document for the operation, injected fault answers, and the fake's own /_fake/ download
 *   URLs. OpenAPI 3.0 `nullable` is rewritten for Ajv and `oneOf` is checked as `anyOf`.
 * - Injects faults (5xx, secondary and primary rate limits, connection resets, delays), either
 *   one by one with `inject` or at random with `faultRate(p, seed)`.
 *
 * Usage: `const fake = await startFakeGitHub(); new Octokit({ auth: 't', baseUrl: fake.url })`.
 *
 * This file only re-exports: the fake lives in test/fakes/github/, one file per resource
 * (issues, comments, labels, releases, contents, git data, repositories), with the store in
 * state.ts, the OpenAPI checks in openapi.ts, faults in faults.ts and the HTTP server in server.ts.
 */
export { startFakeGitHub, type FakeGitHub, type FakeGitHubOptions, type RecordedRequest } from './github/server.js';
export { gitHubOpenApiStats, loadGitHubOpenApi, type SpecLoadStats, type ValidationIssue, type Violation } from './github/openapi.js';
export type { Fault, FaultHandle, FaultMatch } from './github/faults.js';
export { gitBlobSha } from './github/ids.js';
export type { IssueSnapshot, SeedIssue } from './github/issues.js';
export type { ReleaseOptions } from './github/releases.js';
export type { AssetState, BranchState, CommentState, CommitRecord, FakeRepo, IssueState, LabelState, ReleaseState, StateReason } from './github/state.js';
