/** Messages between the worker and its scanner launcher (launcher-process.ts), over Node's IPC channel. */
export type LauncherRequest = { type: 'spawn'; id: number; file: string; args: string[]; env: Record<string, string | undefined> } | { type: 'kill'; id: number };

export type LauncherReply =
  | { type: 'ready' }
  | { type: 'exit'; id: number; exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { type: 'error'; id: number; code?: string; message: string };
