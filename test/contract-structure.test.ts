// Contract coverage for the DESIGN.md "Decisions" that are about how the code is built rather than how it
// answers: Node 20+, TypeScript strict, ESM, Fastify 5, TypeBox schemas, Kysely over pg and better-sqlite3,
// argon2 and jose, and configuration read from the environment only by config.ts (main.ts hands it over).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const sourceFiles = (dir: string): string[] =>
  fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);

describe('contract: build decisions', () => {
  it('Node 20+, ESM, TypeScript strict, Fastify 5, TypeBox 1.x, Kysely over pg and better-sqlite3, argon2, jose', () => {
    const pkg = JSON.parse(read('package.json'));
    assert.equal(pkg.type, 'module');
    assert.match(pkg.engines?.node ?? '', />=\s*20/);
    const deps = { ...pkg.dependencies };
    assert.match(deps.fastify, /^\^?5\./);
    assert.match(deps.typebox, /^\^?1\./);
    for (const d of ['kysely', 'pg', 'better-sqlite3', 'argon2', 'jose']) assert.ok(deps[d], `${d} is a dependency`);
    const ts = JSON.parse(read('tsconfig.json').replace(/^\s*\/\/.*$/gm, ''));
    assert.equal(ts.compilerOptions.strict, true);
    assert.equal(ts.compilerOptions.module, 'NodeNext');
  });

  it('the environment is read only by config.ts (and by main.ts, which passes it in)', () => {
    const offenders = sourceFiles('src')
      .filter((f) => !/platform[\\/]config\.ts$|src[\\/]main\.ts$/.test(f))
      .filter((f) => /process\.env/.test(read(f)));
    assert.deepEqual(offenders, []);
  });

  it('passwords are hashed with the asynchronous argon2id API only (never hashSync, never on the loop)', () => {
    const src = read('src/core/passwords/index.ts');
    assert.match(src, /argon2\.argon2id/);
    assert.ok(!/hashSync|verifySync|compareSync/.test(src), 'no synchronous hashing');
    const others = sourceFiles('src').filter((f) => /hashSync|compareSync|from 'bcryptjs'/.test(read(f)) && !f.endsWith(path.join('passwords', 'index.ts')));
    assert.deepEqual(others, [], 'hashing lives in one place');
  });
});
