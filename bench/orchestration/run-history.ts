/**
 * The histories of a benchmark run's workflows: the size, the events, where the server suggested
 * continue-as-new, and the scans each run closed, following continue-as-new chains.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { num, timings, type HistoryEvent } from './timings.js';

const { temporal } = proto;

export interface RunHistory {
  runId: string;
  bytes: number;
  events: number;
  continuedAsNew?: string;
  /** Event id of the first workflow task the server started with suggestContinueAsNew set. */
  suggestedAt?: number;
  /** scanImage activities that closed in this run. */
  scans: number;
  list: HistoryEvent[];
}

export async function fetchRun(client: Client, workflowId: string, runId?: string): Promise<RunHistory> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const last = events.at(-1);
  const suggested = events.find((e) => e.workflowTaskStartedEventAttributes?.suggestContinueAsNew);
  return {
    runId: runId ?? '',
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    events: events.length,
    continuedAsNew: last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined,
    suggestedAt: suggested ? num(suggested.eventId) : undefined,
    scans: timings(events).scans,
    list: events,
  };
}

/** Every run of a workflow, following its continue-as-new chain from the first run. */
export async function fetchChain(client: Client, workflowId: string, firstRunId: string): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const run = await fetchRun(client, workflowId, runId);
    runs.push(run);
    runId = run.continuedAsNew;
  }
  return runs;
}
