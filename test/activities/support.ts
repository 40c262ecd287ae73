import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActivityDeps } from '../../activities/index.js';
import { storeKeys } from '../../activities/store/result-store.js';
import type { ImageRecord } from '../../core/image-list.js';
import { isRancherMirrored, parseImageRef } from '../../core/image-ref.js';
import { FIXTURES, Harness } from '../helpers/harness.js';

/** Fixture files of these tests (read from the source tree, not lib/). */
export const fixture = (name: string): string => join(FIXTURES, 'activities', name);

/** A fresh workspace per test, removed when the test ends. Sets TRIVY_STUB_DIR for the stub. */
export async function workspace(t: TestContext): Promise<Harness> {
  const harness = await Harness.create('image-scanning-activity-test-');
  t.after(() => rm(harness.dir, { recursive: true, force: true }));
  return harness;
}

/** A mock activity context whose SDK logger keeps expected failures out of the test output. */
export function activityEnvironment(): MockActivityEnvironment {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
}

/** Runs one activity in its own mock activity context (typed: env.run infers its result as unknown). */
export function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return activityEnvironment().run(fn, ...args) as Promise<R>;
}

export function record(image: string, windows = false): ImageRecord {
  const ref = parseImageRef(image);
  return {
    image: ref.reference,
    registry: ref.registry,
    repository: ref.repository,
    tag: ref.tag,
    digest: ref.digest,
    canonical: ref.canonical,
    windows,
    mirrored: isRancherMirrored(ref),
    projects: [],
  };
}

/** Writes a release's image records and scan assignment straight into the store. */
export async function assign(deps: ActivityDeps, runKey: string, release: string, records: ImageRecord[]): Promise<void> {
  await deps.store.writeJson(storeKeys.images(runKey, release), records);
  await deps.store.writeJson(storeKeys.assigned(runKey, release), records);
}

/** Awaits a promise that must reject with an ApplicationFailure, and returns that failure. */
export async function applicationFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, 'expected the activity to fail, but it succeeded');
  assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
  return error;
}

/** The stub's argv of one logged call (paths in tests contain no spaces). */
export const argv = (call: { args: string }): string[] => call.args.split(' ');

/** The value following `flag` in an argv, if any. */
export function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}
