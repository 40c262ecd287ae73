import { Presets, SingleBar } from 'cli-progress';
import type { RegistryWaiting } from '../workflows/messages.js';

/** One snapshot of a run as a person follows it. */
export interface ProgressSnapshot {
  /** scanning, reporting, reconciling-issues, ... */
  phase: string;
  done: number;
  total: number;
  /** What `done` counts: images, issue writes. */
  unit: string;
  failed?: number;
  inFlight?: number;
  /** Images put off until a registry's pull quota allows. */
  waiting?: RegistryWaiting[];
}

/** `3 waiting on docker.io (ratelimit-remaining 0;w=21600) until 14:02:10: rancher/a:1, rancher/b:2 and 1 more`. */
export function waitingText(waiting: RegistryWaiting[] | undefined): string {
  return (waiting ?? [])
    .map((w) => {
      const figures = w.remaining !== undefined ? ` (ratelimit-remaining ${w.remaining})` : '';
      const more = w.count > w.images.length ? ` and ${w.count - w.images.length} more` : '';
      return `${w.count} waiting on ${w.registry}${figures} until ${new Date(w.until).toISOString().slice(11, 19)}: ${w.images.join(', ')}${more}`;
    })
    .join('; ');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Progress for a person: a bar on a terminal; elsewhere (a cron job's log, CI) one plain line
 * every `intervalMs` and at each change of phase, so a run of an hour is never silent.
 * The ETA is the phase's own pace so far.
 */
export class ProgressReporter {
  private bar?: SingleBar;
  private phase?: string;
  private phaseStarted = 0;
  private phaseStartDone = 0;
  private lastLine = 0;
  private lastText = '';
  private last?: ProgressSnapshot;
  private lastWaiting = '';

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly options: { intervalMs?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  eta(s: ProgressSnapshot): string {
    const elapsed = (this.now() - this.phaseStarted) / 1000;
    const rate = (s.done - this.phaseStartDone) / elapsed;
    if (s.done >= s.total) return '0s';
    return rate > 0 ? formatDuration((s.total - s.done) / rate) : '?';
  }

  line(s: ProgressSnapshot): string {
    if (s.total === 0 && s.done === 0) return `${s.phase}…`;
    const extra = [s.failed ? `${s.failed} failed` : '', s.inFlight ? `${s.inFlight} in flight` : ''].filter(Boolean).join(', ');
    const waiting = waitingText(s.waiting);
    return `${s.phase}: ${s.done}/${s.total} ${s.unit}${extra ? ` (${extra})` : ''}, ETA ${this.eta(s)}${waiting ? `; ${waiting}` : ''}`;
  }

  update(s: ProgressSnapshot): void {
    const changed = s.phase !== this.phase;
    if (changed) {
      this.phase = s.phase;
      this.phaseStarted = this.now();
      this.phaseStartDone = s.done;
    }
    this.last = s;
    if (this.stream.isTTY) {
      const waiting = waitingText(s.waiting);
      const payload = { phase: s.phase.padEnd(18), unit: s.unit, failed: s.failed ?? 0, inFlight: s.inFlight ?? 0, eta: this.eta(s), waiting: waiting ? ` | ${waiting}` : '' };
      if (!this.bar) {
        this.bar = new SingleBar(
          { stream: this.stream as NodeJS.WriteStream, format: '{phase} |{bar}| {value}/{total} {unit} | {failed} failed | {inFlight} in flight | ETA {eta}{waiting}', hideCursor: true },
          Presets.shades_classic,
        );
        this.bar.start(Math.max(s.total, 1), s.done, payload);
      }
      this.bar.setTotal(Math.max(s.total, 1));
      this.bar.update(s.done, payload);
      return;
    }
    // A registry starting or ending a wait is news: printed at once, not at the next interval.
    const waitingOn = (s.waiting ?? []).map((w) => w.registry).join(' ');
    const waitingChanged = waitingOn !== this.lastWaiting;
    this.lastWaiting = waitingOn;
    if (changed || waitingChanged || this.now() - this.lastLine >= (this.options.intervalMs ?? 10_000)) this.print(s);
  }

  private print(s: ProgressSnapshot): void {
    this.lastLine = this.now();
    this.lastText = this.line(s);
    this.stream.write(`${new Date(this.now()).toISOString().slice(11, 19)} ${this.lastText}\n`);
  }

  /** Ends the bar, or prints where the run ended unless that was the last line printed. */
  stop(): void {
    if (this.bar) this.bar.stop();
    else if (this.last && this.line(this.last) !== this.lastText) this.print(this.last);
  }
}
