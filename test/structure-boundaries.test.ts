// The house rules of docs/architecture.md that are about where code lives, checked on the source tree:
// SQL only in stores, no import cycle between modules, surfaces reach the store only through the core.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const sourceFiles = (dir: string): string[] =>
  fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name).split(path.sep).join('/')] : []);
const files = sourceFiles('src');
const text = new Map(files.map((f) => [f, fs.readFileSync(path.join(root, f), 'utf8')]));

/** Files a file imports at run time (`import type` and type-only re-exports left out: they vanish when compiled). */
function runtimeImports(file: string): string[] {
  const out: string[] = [];
  for (const m of text.get(file)!.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)) {
    if (m[2]) continue;
    out.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), m[3].replace(/\.js$/, '.ts'))));
  }
  return out;
}

/** The module a file belongs to: `core/<name>` or `surfaces/<name>` for files in such a folder, else the file itself. */
function moduleOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 3 ? parts.slice(0, 3).join('/') : file.replace(/\.ts$/, '');
}

/** Strongly connected components of more than one node (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); component.push(w); } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('structure: where code lives', () => {
  it('has no import cycle, between files or between modules', () => {
    const fileGraph = new Map(files.map((f) => [f, new Set(runtimeImports(f))]));
    assert.deepEqual(cycles(fileGraph), [], 'file cycles');
    const moduleGraph = new Map<string, Set<string>>();
    for (const [f, deps] of fileGraph) {
      const from = moduleOf(f);
      if (!moduleGraph.has(from)) moduleGraph.set(from, new Set());
      for (const d of deps) if (moduleOf(d) !== from) moduleGraph.get(from)!.add(moduleOf(d));
    }
    assert.deepEqual(cycles(moduleGraph), [], 'module cycles');
  });

  it('writes SQL only in stores: src/store/ and core/<module>/store.ts', () => {
    const statement = /\.(selectFrom|updateTable|insertInto|deleteFrom|replaceInto|mergeInto)\(|\bsql(<[^>]*>)?`/;
    const isStore = (f: string) => f.startsWith('src/store/') || /^src\/core\/[^/]+\/store\.ts$/.test(f);
    const offenders = files.filter((f) => !isStore(f) && statement.test(text.get(f)!));
    assert.deepEqual(offenders, []);
  });

  it('lets surfaces and the platform reach the store only through the core', () => {
    const offenders = files
      .filter((f) => f.startsWith('src/surfaces/') || f.startsWith('src/platform/'))
      .flatMap((f) => runtimeImports(f).filter((d) => d.startsWith('src/store/')).map((d) => `${f} → ${d}`));
    assert.deepEqual(offenders, []);
    const platformToCore = files
      .filter((f) => f.startsWith('src/platform/'))
      .flatMap((f) => runtimeImports(f).filter((d) => d.startsWith('src/core/')).map((d) => `${f} → ${d}`));
    assert.deepEqual(platformToCore, [], 'the platform knows nothing of the core');
  });

  it('keeps the engine out of services: no engine branch outside stores', () => {
    // Every file of a core module but its store (core/<module>/store.ts or <name>-store.ts) is a service file.
    const isModuleFile = (f: string) => /^src\/core\/[^/]+\/.+\.ts$/.test(f) && !/^src\/core\/[^/]+\/store\.ts$/.test(f);
    const offenders = files.filter((f) => isModuleFile(f) && /\bengine\s*===|\.engine\b/.test(text.get(f)!));
    assert.deepEqual(offenders, []);
  });
});
