import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { ScanReleasesInput } from '../core/run.js';
import { RELEASE_SEARCH_KEY, TASK_QUEUE } from '../workflows/messages.js';
import { scanReleases } from '../workflows/scan-releases.js';

export interface WeeklySchedule {
  id: string;
  /** `day`: every day at `hour`; `week` (the default): on `dayOfWeek`. */
  every?: 'week' | 'day';
  dayOfWeek: 'SUNDAY' | 'MONDAY' | 'TUESDAY' | 'WEDNESDAY' | 'THURSDAY' | 'FRIDAY' | 'SATURDAY';
  hour: number;
  catchupWindow: string;
  taskQueue?: string;
}

/** The Schedule as data: weekly calendar, overlap SKIP (one weekly run at a time), explicit catch-up window. */
export function scheduleOptions(schedule: WeeklySchedule, input: ScanReleasesInput): ScheduleOptions {
  return {
    scheduleId: schedule.id,
    spec: {
      calendars: [
        schedule.every === 'day'
          ? { comment: 'daily CVE scan', hour: schedule.hour, minute: 0 }
          : { comment: 'weekly CVE scan', dayOfWeek: schedule.dayOfWeek, hour: schedule.hour, minute: 0 },
      ],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: schedule.catchupWindow },
    action: {
      type: 'startWorkflow',
      workflowType: scanReleases,
      args: [input],
      taskQueue: schedule.taskQueue ?? TASK_QUEUE,
      workflowId: schedule.id,
      typedSearchAttributes: [{ key: RELEASE_SEARCH_KEY, value: input.releases.map((r) => r.name) }],
      staticSummary: `${schedule.every === 'day' ? 'Daily' : 'Weekly'} CVE scan of ${input.releases.map((r) => r.name).join(', ')}`,
    },
  };
}

/** Creates the Schedule, or updates it when it exists, so re-running create is safe. */
export async function createSchedule(client: Client, schedule: WeeklySchedule, input: ScanReleasesInput): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create(scheduleOptions(schedule, input));
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await updateSchedule(client, schedule, input);
    return 'updated';
  }
}

export async function updateSchedule(client: Client, schedule: WeeklySchedule, input: ScanReleasesInput): Promise<void> {
  const wanted = scheduleOptions(schedule, input);
  await client.schedule.getHandle(schedule.id).update((current: ScheduleDescription) => ({
    ...current,
    spec: wanted.spec,
    action: wanted.action,
    policies: { ...current.policies, ...wanted.policies },
  }));
}

export async function describeSchedule(client: Client, id: string): Promise<ScheduleDescription> {
  return client.schedule.getHandle(id).describe();
}

export async function triggerSchedule(client: Client, id: string): Promise<void> {
  await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
}

export async function pauseSchedule(client: Client, id: string, note: string): Promise<void> {
  await client.schedule.getHandle(id).pause(note);
}

export async function unpauseSchedule(client: Client, id: string, note: string): Promise<void> {
  await client.schedule.getHandle(id).unpause(note);
}

export async function backfillSchedule(client: Client, id: string, start: Date, end: Date): Promise<void> {
  await client.schedule.getHandle(id).backfill({ start, end, overlap: ScheduleOverlapPolicy.BUFFER_ALL });
}

export async function deleteSchedule(client: Client, id: string): Promise<void> {
  await client.schedule.getHandle(id).delete();
}

/** A short human description of a Schedule. */
export function formatSchedule(d: ScheduleDescription): string {
  const next = d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString());
  const recent = d.info.recentActions.slice(-3).map((a) => `${a.takenAt.toISOString()} → ${a.action.workflow.workflowId}`);
  return [
    `schedule ${d.scheduleId}: ${d.state.paused ? 'PAUSED' : 'active'}${d.state.note ? ` (${d.state.note})` : ''}`,
    `overlap: ${d.policies.overlap}, catch-up window: ${d.policies.catchupWindow} ms`,
    `next runs: ${next.join(', ') || 'none'}`,
    `recent runs: ${recent.join('; ') || 'none'}`,
  ].join('\n');
}
