/**
 * Where a run's time went, from its workflow histories: workflow tasks and scanImage activities,
 * how long each waited in its queue and ran, by the event times the server wrote.
 */
import proto from '@temporalio/proto';

const { temporal } = proto;
export type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** A number field of a history event (a Long, a number, or absent) as a number. */
export const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(String(value)));
const timeOf = (event: HistoryEvent): number => num(event.eventTime?.seconds) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;

export interface Timings {
  workflowTasks: number;
  /** Workflow tasks on the normal queue after the first: the worker had lost the run from its cache and replayed its history. */
  replays: number;
  /** Workflow tasks that failed or timed out. */
  failedTasks: number;
  wftQueueMs: number[];
  wftRunMs: number[];
  scans: number;
  scanQueueMs: number[];
  scanRunMs: number[];
  firstScheduled: number;
  lastClosed: number;
}

export function timings(events: HistoryEvent[]): Timings {
  const byId = new Map<number, HistoryEvent>();
  const scanScheduled = new Set<number>();
  let normalQueueTasks = 0;
  const t: Timings = { workflowTasks: 0, replays: 0, failedTasks: 0, wftQueueMs: [], wftRunMs: [], scans: 0, scanQueueMs: [], scanRunMs: [], firstScheduled: Infinity, lastClosed: -Infinity };
  for (const event of events) {
    const id = num(event.eventId);
    byId.set(id, event);
    const at = timeOf(event);
    if (event.workflowTaskScheduledEventAttributes) {
      if (event.workflowTaskScheduledEventAttributes.taskQueue?.kind !== temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY) normalQueueTasks++;
    } else if (event.workflowTaskFailedEventAttributes || event.workflowTaskTimedOutEventAttributes) {
      t.failedTasks++;
    } else if (event.workflowTaskStartedEventAttributes) {
      const scheduled = byId.get(num(event.workflowTaskStartedEventAttributes.scheduledEventId));
      if (scheduled) t.wftQueueMs.push(at - timeOf(scheduled));
    } else if (event.workflowTaskCompletedEventAttributes) {
      t.workflowTasks++;
      const started = byId.get(num(event.workflowTaskCompletedEventAttributes.startedEventId));
      if (started) t.wftRunMs.push(at - timeOf(started));
    } else if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'scanImage') {
      scanScheduled.add(id);
      t.firstScheduled = Math.min(t.firstScheduled, at);
    } else if (event.activityTaskStartedEventAttributes) {
      const scheduledId = num(event.activityTaskStartedEventAttributes.scheduledEventId);
      if (scanScheduled.has(scheduledId)) t.scanQueueMs.push(at - timeOf(byId.get(scheduledId)!));
    } else {
      const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
      if (closed && scanScheduled.has(num(closed.scheduledEventId))) {
        t.scans++;
        const started = byId.get(num(closed.startedEventId));
        if (started) t.scanRunMs.push(at - timeOf(started));
        t.lastClosed = Math.max(t.lastClosed, at);
      }
    }
  }
  t.replays = Math.max(0, normalQueueTasks - 1);
  return t;
}

export function mergeTimings(all: Timings[]): Timings {
  return {
    workflowTasks: all.reduce((n, t) => n + t.workflowTasks, 0),
    replays: all.reduce((n, t) => n + t.replays, 0),
    failedTasks: all.reduce((n, t) => n + t.failedTasks, 0),
    wftQueueMs: all.flatMap((t) => t.wftQueueMs),
    wftRunMs: all.flatMap((t) => t.wftRunMs),
    scans: all.reduce((n, t) => n + t.scans, 0),
    scanQueueMs: all.flatMap((t) => t.scanQueueMs),
    scanRunMs: all.flatMap((t) => t.scanRunMs),
    firstScheduled: Math.min(...all.map((t) => t.firstScheduled)),
    lastClosed: Math.max(...all.map((t) => t.lastClosed)),
  };
}
