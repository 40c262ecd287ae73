import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['lib/**', 'node_modules/**', '.tools/**', '.data/**', 'data/**', 'reports/**', 'test/fakes/**', 'scripts/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Workflows must stay deterministic: nothing from Node, no activity or core code as values.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflows run in a deterministic sandbox: no Node built-ins' })),
          patterns: [
            { group: ['../activities/*', '../client/*', '../worker/*', '../core/*'], allowTypeImports: true, message: 'workflows import only @temporalio/workflow and types' },
            { group: ['@octokit/*', 'csv-*', 'zod', 'commander'], message: 'workflows import only @temporalio/workflow and types' },
          ],
        },
      ],
    },
  },
  {
    // core/ holds the pure rules: it imports no room (nor Node's I/O through one).
    files: ['core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/activities/**', '**/workflows/**', '**/client/**', '**/worker/**', '**/cluster/**', '**/cache/**', '**/host/**', '@temporalio/*'],
              message: 'core/ is pure: it imports no room and no Temporal',
            },
          ],
        },
      ],
    },
  },
  {
    // Activities never reach up: no client/ or workflows/ values, and a room takes what it needs as
    // parameters instead of importing the top's deps.ts or index.ts.
    files: ['activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/client/**', '**/workflows/**', '**/worker/**'], allowTypeImports: true, message: 'activities import no client/, workflows/ or worker/ value' },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/*/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/client/**', '**/workflows/**', '**/worker/**'], allowTypeImports: true, message: 'activities import no client/, workflows/ or worker/ value' },
            { group: ['../deps.js', '../index.js', '../../activities/deps.js', '../../activities/index.js'], message: 'a room receives its dependencies as parameters; it never imports the top (deps.ts, index.ts)' },
          ],
        },
      ],
    },
  },
);
