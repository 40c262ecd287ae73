import { onPath } from '../../host/executables.js';

/** Why the PostgreSQL tests cannot run here, or false when they can. */
export async function postgresAvailable(): Promise<string | false> {
  for (const name of ['initdb', 'pg_ctl', 'postgres']) {
    if (!(await onPath(name))) return `PostgreSQL tests skipped: ${name} is not on PATH (install PostgreSQL's server binaries)`;
  }
  return false;
}
