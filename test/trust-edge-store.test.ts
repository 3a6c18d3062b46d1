// Platform edge under load (issue 16, findings 5 and 6): sign-in keeps its place ahead of sign-up hashing in
// the password-hash queue, and a busy store (two nodes writing one store at once) never answers 500.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, uniqueEmail } from './helpers/admin.js';

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

  describe(`two nodes writing one store at once [${engine}]`, { skip }, () => {
    let a: TestServer;
    let b: TestServer;
    before(async () => {
      a = await startServer(engine);
      b = await startServer(engine, { db: a.db });
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    it('concurrent writes through both never answer 500: busy or locked is 503 with Retry-After', async () => {
      const users = await Promise.all(Array.from({ length: 8 }, () => createUser(a.url)));
      const statuses = new Map<number, number>();
      const requests = Array.from({ length: 200 }, (_, i) => {
        const node = i % 2 ? a : b;
        const u = users[i % users.length];
        // Each PATCH reads the user and then writes it, in one transaction: on one SQLite file two
        // connections doing that race (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT).
        return http(node.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { username: `racer-${i}` } }).then((r) => {
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 503) assert.ok(Number(r.headers.get('retry-after')) >= 1, 'a 503 says when to retry');
          if (r.status >= 500 && r.status !== 503) assert.fail(`${r.status}: ${r.text}`);
          return r;
        });
      });
      await Promise.all(requests);
      assert.ok((statuses.get(200) ?? 0) > 0, JSON.stringify([...statuses]));
      for (const status of statuses.keys()) assert.ok([200, 503].includes(status), JSON.stringify([...statuses]));
    });
  });
}
