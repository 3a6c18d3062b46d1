// Platform edge under load (issue 16, findings 5 and 6): sign-in keeps its place ahead of sign-up hashing in
// the password-hash queue, and a busy store (two nodes writing one store at once) never answers 500.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, uniqueEmail } from './helpers/admin.js';
import { ROOT } from './helpers/process.js';

/** Writes one user row over and over in short transactions, a millisecond apart (argv: file, user id). */
const ROGUE_WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('busy_timeout = 5000');
const touch = db.prepare('update users set seen_at = ? where id = ?');
process.stdout.write('ready\\n');
const pause = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  touch.run(new Date().toISOString(), Number(process.argv[2]));
  Atomics.wait(pause, 0, 0, 1);
}
`;

for (const { engine, skip } of engines()) {
  describe(`sign-in ahead of a sign-up flood in the hash queue [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine, { env: { GATEHOUSE_HASH_CONCURRENCY: '1', GATEHOUSE_SIGNUP_MAX_PER_ADDRESS: '1000' } });
    });
    after(async () => s?.close());

    it('a sign-in that arrives behind queued sign-up hashes is answered before them', async () => {
      const FLOOD = 16;
      const finished: string[] = [];
      const signUps = Array.from({ length: FLOOD }, (_, i) =>
        http(s.url, '/api/auth/sign-up', { body: { email: uniqueEmail(`flood${i}`), password: 'password-123' } }).then((r) => {
          finished.push('sign-up');
          return r;
        }));
      // Wait until most of the flood is queued for a hashing thread (one runs at a time here).
      const deadline = Date.now() + 20_000;
      while (s.core.hasher.queued < FLOOD / 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.ok(s.core.hasher.queued >= FLOOD / 2, `the flood is queued (${s.core.hasher.queued})`);
      const queuedAhead = s.core.hasher.queued;
      const signIn = await http(s.url, '/api/auth/sign-in', { body: { identifier: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
      finished.push('sign-in');
      assert.equal(signIn.status, 200, signIn.text);
      const before = finished.indexOf('sign-in');
      for (const r of await Promise.all(signUps)) assert.equal(r.status, 200, r.text);
      // Ahead of every queued sign-up but the one or two already on the thread when it arrived.
      assert.ok(before <= FLOOD - queuedAhead + 2, `sign-in finished after ${before} sign-ups (${queuedAhead} were queued when it came)`);
    });
  });

  // A writer outside the server on its SQLite file (what a second process on the same DATA_DIR was, before
  // the lock, or a tool run against a live store): the server's transactions read, then write, and the other
  // writer commits in between (SQLITE_BUSY_SNAPSHOT) or holds the lock (SQLITE_BUSY).
  describe(`another writer on the store under load [${engine}]`, { skip: engine === 'sqlite' ? skip : 'SQLite only: busy and snapshot errors are the embedded store\'s' }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('never answers 500: busy or locked is 503 with Retry-After', async () => {
      const users = await Promise.all(Array.from({ length: 8 }, () => createUser(s.url)));
      const file = path.join(s.db.env.DATA_DIR, 'gatehouse.db');
      const writer = spawn(process.execPath, ['-e', ROGUE_WRITER, file, String(users[0].id)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => writer.stdout!.once('data', () => resolve()));
      const statuses = new Map<number, number>();
      try {
        for (let round = 0; round < 8; round++) {
          await Promise.all(Array.from({ length: 50 }, (_, i) => {
            const u = users[i % users.length];
            return http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { username: `racer-${round}-${i}` } }).then((r) => {
              statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
              if (r.status === 503) assert.ok(Number(r.headers.get('retry-after')) >= 1, 'a 503 says when to retry');
              assert.ok(r.status < 500 || r.status === 503, `${r.status}: ${r.text}`);
            });
          }));
        }
      } finally {
        writer.kill('SIGKILL');
      }
      assert.ok((statuses.get(200) ?? 0) > 0, JSON.stringify([...statuses]));
      for (const status of statuses.keys()) assert.ok([200, 412, 503].includes(status), JSON.stringify([...statuses]));
    });
  });
}
