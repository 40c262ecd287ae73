/** Starts the scanner's processes through one small forked launcher, so no start copies the worker's memory. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Messages between the worker and its scanner launcher (launcher-main.ts), over Node's IPC channel. */
export type LauncherRequest = { type: 'spawn'; id: number; file: string; args: string[]; env: Record<string, string | undefined> } | { type: 'kill'; id: number };

export type LauncherReply =
  | { type: 'ready' }
  | { type: 'exit'; id: number; exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { type: 'error'; id: number; code?: string; message: string };

export interface Exited {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A process started through the launcher. */
export interface Launched {
  /** Settles when the process has exited; rejects when it could not start (error.code as Node gives it). */
  readonly exited: Promise<Exited>;
  /** SIGKILL to the process and its process group. */
  kill(): void;
}

export class LauncherExitedError extends Error {
  override name = 'LauncherExitedError';
}

const LAUNCHER = fileURLToPath(new URL('./launcher-main.js', import.meta.url));

/**
 * Starts processes from the small launcher process (see launcher-main.ts for why), forked on
 * first use and again after it died. Idle, it holds neither the worker's event loop nor its exit.
 */
export class ProcessLauncher {
  private child?: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (exited: Exited) => void; reject: (error: Error) => void }>();

  /** `env` adds to (or overrides) the worker's environment for this process only. */
  launch(file: string, args: string[], env: Record<string, string> = {}): Launched {
    const child = this.ensureStarted();
    const id = this.nextId++;
    const exited = new Promise<Exited>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // The environment as it is now, as a spawn from the worker itself would see it.
    this.request(child, { type: 'spawn', id, file, args, env: { ...process.env, ...env } });
    this.holdWhileBusy();
    return {
      exited,
      kill: () => {
        if (this.pending.has(id) && this.child === child) this.request(child, { type: 'kill', id });
      },
    };
  }

  /** The launcher's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops the launcher, which kills whatever it still runs. */
  close(): void {
    this.child?.disconnect();
  }

  private ensureStarted(): ChildProcess {
    if (this.child) return this.child;
    // execArgv []: none of the worker's own Node flags (profilers, heap sizes) in the launcher.
    const child = fork(LAUNCHER, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    this.child = child;
    child.on('message', (reply: LauncherReply) => this.settle(reply));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const error = new LauncherExitedError(`the scanner launcher (pid ${child.pid}) exited (${signal ?? `code ${code}`}) while its processes ran; they were killed`);
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    });
    child.on('error', () => undefined); // 'exit' follows and rejects what was pending
    return child;
  }

  private request(child: ChildProcess, message: LauncherRequest): void {
    child.send(message, (error) => {
      // A send that fails means the launcher is gone; its 'exit' rejects the run.
      if (error && child.connected) child.kill('SIGKILL');
    });
  }

  private settle(reply: LauncherReply): void {
    if (reply.type === 'ready') return;
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    this.holdWhileBusy();
    if (reply.type === 'exit') {
      waiter.resolve({ exitCode: reply.exitCode, signal: reply.signal, stdout: reply.stdout, stderr: reply.stderr });
    } else {
      waiter.reject(Object.assign(new Error(reply.message), { code: reply.code }));
    }
  }

  /** Busy, the launcher keeps the worker alive until its processes report; idle, it does not. */
  private holdWhileBusy(): void {
    const child = this.child;
    if (!child) return;
    const channel = child.channel as { ref(): void; unref(): void } | undefined;
    if (this.pending.size > 0) {
      child.ref();
      channel?.ref();
    } else {
      child.unref();
      channel?.unref();
    }
  }
}

let shared: ProcessLauncher | undefined;

/** The process's one launcher. */
export function processLauncher(): ProcessLauncher {
  shared ??= new ProcessLauncher();
  return shared;
}
