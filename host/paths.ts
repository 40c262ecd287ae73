import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root: compiled files live two levels down, in lib/<folder>/. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const paths = {
  toolsRoot: join(PROJECT_ROOT, '.tools'),
  tools: join(PROJECT_ROOT, '.tools', 'bin'),
  data: join(PROJECT_ROOT, '.data'),
  devServerDb: join(PROJECT_ROOT, '.data', 'temporal.db'),
  devServerLog: join(PROJECT_ROOT, '.data', 'temporal-server.log'),
  workflows: join(PROJECT_ROOT, 'lib', 'workflows', 'index.js'),
  workflowBundle: join(PROJECT_ROOT, 'lib', 'workflow-bundle.js'),
};
