import type { SearchAttributePair } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

export type ReleasePhase = 'starting' | 'resolving' | 'waiting-for-assignment' | 'scanning' | 'waiting-for-other-releases' | 'reporting' | 'completed' | 'failed';

/** A plain snapshot: counts only, so answering never costs history or memory. */
export interface ReleaseProgress {
  release: string;
  phase: ReleasePhase;
  /** Images in the release. */
  total: number;
  /** Images this release scans itself (the others are scanned for an earlier release of the run). */
  assigned: number;
  done: number;
  failed: number;
  inFlight: number;
  /** Images put off until their registry's pull quota allows, per registry (absent when none). */
  waiting?: RegistryWaiting[];
}

/** Images waiting on one registry's pull quota, for the progress line and the Web UI. */
export interface RegistryWaiting {
  registry: string;
  count: number;
  /** The first few, by name. */
  images: string[];
  /** The latest retry time (epoch ms) of the images waiting. */
  until: number;
  remaining?: string;
  limit?: string;
}

export type RunPhase = 'resolving' | 'scanning' | 'triage' | 'reporting' | 'reconciling-issues' | 'publishing' | 'completed';

export interface RunProgress {
  phase: RunPhase;
  total: number;
  assigned: number;
  done: number;
  failed: number;
  inFlight: number;
  releases: ReleaseProgress[];
}

export const releaseProgressQuery = defineQuery<ReleaseProgress>('progress');
export const runProgressQuery = defineQuery<RunProgress>('progress');

/** Child → parent: the release's list is resolved. */
export const releaseResolvedSignal = defineSignal<[{ release: string; total: number }]>('releaseResolved');
/** Parent → child: how many images of the assignment this release scans. */
export const scansAssignedSignal = defineSignal<[{ assigned: number }]>('scansAssigned');
/** Child → parent: this release's scans are finished; carries its progress. */
export const releaseScannedSignal = defineSignal<[ReleaseProgress]>('releaseScanned');
/** Parent → child: every release has scanned, results are complete, write the report. */
export const writeReportSignal = defineSignal('writeReport');

export const TASK_QUEUE = 'image-scanning';
/**
 * `RancherRelease = "v2.9.0"` works as typed in the Web UI and `temporal workflow list --query`;
 * `Release`, the name before, is a reserved word of the visibility query parser and needs
 * backticks. It stays registered so runs made before the rename are still found by it.
 */
export const RELEASE_SEARCH_ATTRIBUTE = 'RancherRelease';
export const LEGACY_RELEASE_SEARCH_ATTRIBUTE = 'Release';

/** Keyword list so a parent run carries all its releases and a child its one. */
export const RELEASE_SEARCH_KEY: Extract<SearchAttributePair, { key: { type: 'KEYWORD_LIST' } }>['key'] = { name: RELEASE_SEARCH_ATTRIBUTE, type: 'KEYWORD_LIST' };
export const LEGACY_RELEASE_SEARCH_KEY: typeof RELEASE_SEARCH_KEY = { name: LEGACY_RELEASE_SEARCH_ATTRIBUTE, type: 'KEYWORD_LIST' };
