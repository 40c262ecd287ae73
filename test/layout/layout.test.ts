/** The tree's shape: no file past 500 lines, no import circle, and no room reaching up. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../host/paths.js';

const FOLDERS = ['core', 'host', 'cache', 'cluster', 'workflows', 'activities', 'worker', 'client', 'test', 'bench'];
const MAX_LINES = 500;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const files = FOLDERS.flatMap((folder) => sources(join(PROJECT_ROOT, folder)));

/** Value imports only: a type import is erased and cannot make a circle at run time. */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)) {
    if (match[1]) continue;
    found.push(resolve(dirname(file), match[2]).replace(/\.js$/, '.ts'));
  }
  return found;
}

/** Every cycle in the graph, each as the files on it (Tarjan's strongly connected components). */
export function importCircles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (node: string) => {
    indexOf.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indexOf.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indexOf.get(next)!));
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) circles.push(component);
    }
  };
  for (const node of graph.keys()) if (!indexOf.has(node)) visit(node);
  return circles;
}

describe('the tree', () => {
  it('has no source file over 500 lines (test fixtures aside)', () => {
    const long = files
      .map((file) => ({ file: relative(PROJECT_ROOT, file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_LINES);
    assert.deepEqual(long, []);
  });

  it('has no import circle', () => {
    const graph = new Map(files.map((file) => [file, valueImports(file)]));
    assert.deepEqual(importCircles(graph).map((c) => c.map((f) => relative(PROJECT_ROOT, f)).sort()), []);
  });

  it('finds a circle when there is one (the check itself)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    assert.deepEqual(importCircles(graph).map((c) => c.sort()), [['a', 'b', 'c']]);
  });

  it('keeps rooms of activities/ from importing the top (deps.ts, index.ts), even for types', () => {
    const upward = files
      .filter((file) => relative(join(PROJECT_ROOT, 'activities'), file).includes('/') && !relative(join(PROJECT_ROOT, 'activities'), file).startsWith('..'))
      .filter((file) => /from '\.\.\/(deps|index)\.js'/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(PROJECT_ROOT, file));
    assert.deepEqual(upward, []);
  });
});
