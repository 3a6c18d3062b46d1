// The import graph of src/: which files (and which core modules) import each other at run time. A cycle
// among modules makes their load order matter and their boundaries meaningless, so the modules listed in
// CHECKED may take part in none, at file level or at module level. Type-only imports (`import type`,
// `export type … from`, `import { type A, type B }`) are erased by the compiler and are not edges.
//
// Run it on its own for the whole picture: node --import tsx test/structure-imports.test.ts --report
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** The core modules held to "no import cycle" (more as the other cycles are broken). */
const CHECKED = ['core/users', 'core/sessions', 'core/tokens', 'core/auth', 'core/tenants', 'core/invites', 'core/transfer', 'core/passwords'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.posix.join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.posix.join(dir, e.name)] : []);
}

/** The run-time relative imports of a TypeScript source (import/export … from, bare side-effect imports). */
export function runtimeImports(source: string): string[] {
  const out: string[] = [];
  // Comments out first, so an import written in a comment is not an edge.
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const statement = /(^|[;\n])\s*(import|export)\s+([^;'"]*?)\s*from\s*['"]([^'"]+)['"]|(^|[;\n])\s*import\s*['"]([^'"]+)['"]/g;
  for (let m = statement.exec(text); m !== null; m = statement.exec(text)) {
    if (m[6] !== undefined) {
      out.push(m[6]);
      continue;
    }
    const clause = m[3].trim();
    if (/^type\b/.test(clause)) continue;
    // `import { type A, type B } from` (every name type-only) is erased too; `import {} from` binds nothing.
    const braces = /^\{([\s\S]*)\}$/.exec(clause);
    if (braces) {
      const names = braces[1].split(',').map((n) => n.trim()).filter((n) => n !== '');
      if (names.length === 0 || names.every((n) => /^type\s/.test(n))) continue;
    }
    out.push(m[4]);
  }
  return out.filter((spec) => spec.startsWith('.'));
}

/** File → the files it imports at run time (paths relative to the repository, .js specifiers mapped to .ts). */
export function importGraph(dir = 'src'): Map<string, string[]> {
  const files = sourceFiles(dir);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = runtimeImports(fs.readFileSync(path.join(root, file), 'utf8'))
      .map((spec) => path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts'))
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * The module a file belongs to: core/<module> for the core (a file directly in core/ is one of its own:
 * core/index, the composition root, and the shared core/context, core/errors …), else its folder under src/.
 */
export function moduleOf(file: string): string {
  const parts = file.replace(/^src\//, '').split('/');
  if (parts[0] === 'core') return parts.length > 2 ? `core/${parts[1]}` : `core/${parts[1].replace(/\.ts$/, '')}`;
  return parts.length > 1 ? parts.slice(0, -1).join('/') : '.';
}

/** The graph between modules (an edge when any file of one imports a file of the other). */
export function moduleGraph(files: Map<string, string[]>): Map<string, string[]> {
  const graph = new Map<string, Set<string>>();
  for (const [file, targets] of files) {
    const from = moduleOf(file);
    if (!graph.has(from)) graph.set(from, new Set());
    for (const target of targets) {
      const to = moduleOf(target);
      if (to !== from) graph.get(from)!.add(to);
    }
  }
  return new Map([...graph].map(([k, v]) => [k, [...v]]));
}

/** Strongly connected components with more than one node, or one node importing itself (Tarjan). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indexOf.has(v)) visit(v);
  return found;
}

const involves = (component: string[], toModule: (node: string) => string) => component.some((node) => CHECKED.includes(toModule(node)));

describe('structure: import cycles', () => {
  it('the checker reads run-time imports only, and finds a cycle where there is one', () => {
    assert.deepEqual(runtimeImports([
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C, type D } from './c.js';",
      "import { type E, f } from './e.js';",
      "export { g } from './g.js';",
      "export type { H } from './h.js';",
      "import './side-effect.js';",
      "// import { x } from './commented.js';",
      "import { pkg } from 'kysely';",
    ].join('\n')), ['./a.js', './e.js', './g.js', './side-effect.js']);
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]]);
    assert.deepEqual(cycles(g), [['a', 'b', 'c'], ['e']]);
    assert.equal(moduleOf('src/core/users/service.ts'), 'core/users');
    assert.equal(moduleOf('src/core/context.ts'), 'core/context');
    assert.equal(moduleOf('src/surfaces/admin/auth.ts'), 'surfaces/admin');
  });

  const files = importGraph();

  it(`no file of ${CHECKED.join(', ')} is in an import cycle`, () => {
    const offending = cycles(files).filter((c) => involves(c, moduleOf));
    assert.deepEqual(offending, [], `file-level cycles: ${JSON.stringify(offending)}`);
  });

  it(`none of ${CHECKED.join(', ')} is in a cycle of modules`, () => {
    const offending = cycles(moduleGraph(files)).filter((c) => involves(c, (m) => m));
    assert.deepEqual(offending, [], `module-level cycles: ${JSON.stringify(offending)}`);
  });
});

if (process.argv.includes('--report')) {
  const graph = importGraph();
  console.log('file-level cycles:', JSON.stringify(cycles(graph), null, 1));
  console.log('module-level cycles:', JSON.stringify(cycles(moduleGraph(graph)), null, 1));
}
