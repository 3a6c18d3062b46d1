// Contract coverage for the decisions in docs/architecture.md about how the code is built rather than how it
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
  it('Node 20+, ESM, TypeScript strict, Fastify 5, TypeBox 1.x, Kysely over pg and better-sqlite3, an argon2 binding, jose', () => {
    const pkg = JSON.parse(read('package.json'));
    assert.equal(pkg.type, 'module');
    assert.match(pkg.engines?.node ?? '', />=\s*20/);
    const deps = { ...pkg.dependencies };
    assert.match(deps.fastify, /^\^?5\./);
    assert.match(deps.typebox, /^\^?1\./);
    for (const d of ['kysely', 'pg', 'better-sqlite3', '@node-rs/argon2', 'jose']) assert.ok(deps[d], `${d} is a dependency`);
    // argon2id through a native binding that installs from the registry alone: prebuilt binaries as npm
    // packages per platform, no install script fetching anything.
    const binding = JSON.parse(read('node_modules/@node-rs/argon2/package.json'));
    assert.ok(!binding.scripts?.install && !binding.scripts?.postinstall && !binding.scripts?.preinstall, 'no install step');
    assert.ok(Object.keys(binding.optionalDependencies ?? {}).some((p) => p.includes('linux-x64')), 'prebuilt per platform, from the registry');
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

  it('passwords are hashed as argon2id on hashing threads only, never on the event loop', () => {
    const src = read('src/core/passwords/index.ts');
    // The hashing threads' program (worker.js, a module of its own, type-checked by tsc) is the only place
    // argon2 is loaded and called; the hasher (the event loop's side) neither imports it nor calls anything
    // synchronous.
    const program = read('src/core/passwords/worker.js');
    assert.match(program, /^\/\/ @ts-check/, 'the program is type-checked');
    assert.ok(JSON.parse(read('tsconfig.json')).include.includes('src/core/passwords/worker.js'), 'tsc sees the program');
    assert.match(program, /from '@node-rs\/argon2'/);
    assert.match(program, /algorithm: Algorithm\.Argon2id/, 'argon2id');
    assert.match(program, /os\.setPriority\(0,/, 'the thread lowers its own priority');
    assert.ok(!/hashSync|verifySync|compareSync/.test(src), 'no synchronous hashing on the event loop');
    assert.ok(!/from '(@node-rs\/)?argon2'/.test(src), 'argon2 is not loaded on the event loop');
    assert.ok(!/^import (?!type )[^;]*from '\.\/worker\.js'/m.test(src), 'the hasher imports only the program\'s types');
    assert.match(src, /new URL\('\.\/worker\.js', import\.meta\.url\)/, 'started by URL');
    assert.match(src, /new Worker\(HASH_WORKER_URL/);
    const others = sourceFiles('src').filter((f) => /hashSync|compareSync|from 'bcryptjs'|argon2'/.test(read(f)) &&
      !f.endsWith(path.join('passwords', 'index.ts')));
    assert.deepEqual(others, [], 'hashing lives in one place');
  });
});
