// Concurrency on the admin surface (issue 2): unique emails under a race, no lost updates on one user,
// one winner among parallel refreshes of one token, and the last-admin guard under a race.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { cookieHeader, http } from './helpers/http.js';
import { createUser, signIn, uniqueEmail } from './helpers/admin.js';
import { SYSTEM_CONTEXT, SYSTEM_PRINCIPAL } from '../src/core/context.js';

const N = 50;

for (const { engine, skip } of engines()) {
  describe(`admin surface: concurrency [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it(`${N} parallel PATCHes setting one email on ${N} users: exactly one 200, the rest 409`, async () => {
      // Set-up through the core (no password, so no hashing): the race itself is over HTTP.
      const users = await Promise.all(Array.from({ length: N }, () =>
        s.core.users.create(SYSTEM_PRINCIPAL, { ...SYSTEM_CONTEXT, requestId: 'setup' }, { email: uniqueEmail('racer') })));
      const email = uniqueEmail('contested');
      const results = await Promise.all(
        users.map((u, i) => http(s.url, `/api/admin/users/${u.id}`, {
          method: 'PATCH', token: ADMIN_TOKEN,
          // Same address, different spellings: the database folds case.
          body: { email: i % 2 ? email.toUpperCase() : ` ${email} ` },
        })),
      );
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((x) => x === 200).length, 1, `statuses: ${statuses.join(',')}`);
      assert.equal(statuses.filter((x) => x === 409).length, N - 1, `statuses: ${statuses.join(',')}`);
      for (const r of results.filter((x) => x.status === 409)) {
        assert.equal(r.body.error, 'Conflict');
        assert.match(r.body.details, /email/);
      }
      const winner = users[statuses.indexOf(200)];
      const list = await http(s.url, `/api/admin/users?q=${encodeURIComponent(email)}`, { token: ADMIN_TOKEN });
      assert.deepEqual(list.body.items.map((x: any) => x.id), [winner.id]);
      assert.equal(list.body.items[0].email, email);
    });

    it('20 parallel creates with one email: one 201, the rest 409', async () => {
      const email = uniqueEmail('race-create');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email, password: 'password-123', username: `racer-${i}` } })),
      );
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((x) => x === 201).length, 1, statuses.join(','));
      assert.equal(statuses.filter((x) => x === 409).length, 19, statuses.join(','));
    });

    it(`${N} parallel PATCHes of different fields of one user: every change lands, none is lost`, async () => {
      const u = await createUser(s.url, { username: 'many-writers', password: 'initial-pass-1' });
      const v0 = await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN });
      const version0 = Number(/\.(\d+)"$/.exec(v0.headers.get('etag')!)![1]);
      const tag = Date.now().toString(36);
      // Each request changes one field to a value no other request uses, so every one is a real change.
      const patches = Array.from({ length: N }, (_, i) => {
        switch (i % 4) {
          case 0: return { username: `writer-${tag}-${i}` };
          case 1: return { name: `Name ${i}` };
          case 2: return { email: `writer.${tag}.${i}@example.com` };
          default: return { password: `password-${tag}-${i}` };
        }
      });
      const results = await Promise.all(patches.map((body) => http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body })));
      assert.deepEqual(results.map((r) => r.status), patches.map(() => 200), results.find((r) => r.status !== 200)?.text);

      const final = await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN });
      assert.equal(final.headers.get('etag'), `"${u.id}.${version0 + N}"`, 'one version per change: no update was lost');

      // The audit log is the serial history: N events, each starting where the previous one ended.
      const ev = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${u.id}&action=user.updated&limit=500`, { token: ADMIN_TOKEN });
      const events = [...ev.body.items].reverse();
      assert.equal(events.length, N);
      for (let i = 1; i < events.length; i++) {
        const { changed: _c, sessions_revoked: _s, ...prevAfter } = events[i - 1].after;
        assert.deepEqual(events[i].before, prevAfter, `event ${i} starts from event ${i - 1}'s result`);
      }
      // Each field holds the value of its last writer in commit order, and each request's change is in the history.
      const last: Record<string, unknown> = {};
      for (const e of events) {
        assert.equal(e.after.changed.length, 1, JSON.stringify(e.after.changed));
        const field = e.after.changed[0];
        if (field !== 'password') last[field] = e.after[field];
      }
      for (const field of ['username', 'name', 'email']) assert.equal(final.body.item[field], last[field], field);
      for (const p of patches) {
        const [field, value] = Object.entries(p)[0];
        if (field === 'password') continue;
        assert.ok(events.some((e) => e.after[field] === value), `${field}=${value} was applied`);
      }
      // Each event names the request that made it: the last password event's request set the password in force.
      const byRequest = new Map(results.map((r, i) => [r.headers.get('x-request-id'), patches[i]]));
      const pwEvents = events.filter((e) => e.after.changed[0] === 'password');
      assert.equal(pwEvents.length, patches.filter((p) => 'password' in p).length);
      const lastPassword = (byRequest.get(pwEvents[pwEvents.length - 1].request_id) as { password: string }).password;
      const signin = await http(s.url, '/api/auth/sign-in', { body: { identifier: final.body.item.email, password: lastPassword } });
      assert.equal(signin.status, 200, signin.text);
    });

    it('parallel refreshes of one refresh token: at most one succeeds and the family is revoked', async () => {
      const a = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const bystander = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => http(s.url, '/api/auth/refresh', { method: 'POST', cookie: cookieHeader({ '__Host-refresh': a.refresh }), headers: { 'x-csrf-token': a.csrf } })),
      );
      const statuses = results.map((r) => r.status);
      assert.ok(statuses.every((x) => x === 200 || x === 401), statuses.join(','));
      assert.ok(statuses.filter((x) => x === 200).length <= 1, statuses.join(','));
      const won = results.find((r) => r.status === 200);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: a.cookie })).status, 401, 'the family is revoked');
      if (won) {
        assert.equal((await http(s.url, '/api/auth/session', { cookie: cookieHeader({ '__Host-access': won.cookies['__Host-access'] }) })).status, 401);
        assert.equal((await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: cookieHeader({ '__Host-refresh': won.cookies['__Host-refresh'] }) })).status, 401);
      }
      assert.equal((await http(s.url, '/api/auth/session', { cookie: bystander.cookie })).status, 200, 'other families live on');
    });

    it('parallel wrong passwords cannot outrun the sign-in throttle', async () => {
      const t = await startServer(engine, { env: { GATEHOUSE_LOGIN_MAX_FAILURES: '3', GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' } });
      try {
        const u = await createUser(t.url, { password: 'burst-pass-1' });
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
          http(t.url, '/api/auth/sign-in', { body: { identifier: u.email, password: `guess-${i}-wrong` } })));
        const statuses = results.map((r) => r.status);
        assert.ok(statuses.every((x) => x === 401 || x === 429), statuses.join(','));
        assert.ok(statuses.filter((x) => x === 401).length <= 3, `at most 3 guesses were checked: ${statuses.join(',')}`);
        // The right password waits too, and a success later resets the account's counter.
        assert.equal((await http(t.url, '/api/auth/sign-in', { body: { identifier: u.email, password: 'burst-pass-1' } })).status, 429);
      } finally {
        await t.close();
      }
    });

    it('two admins deactivating each other at once: the last-admin guard still holds', async () => {
      for (let round = 0; round < 3; round++) {
        const fresh = await startServer(engine);
        try {
          const second = await createUser(fresh.url, { is_admin: true });
          const results = await Promise.all([1, second.id].map((id) =>
            http(fresh.url, `/api/admin/users/${id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_active: false } })));
          const statuses = results.map((r) => r.status).sort();
          assert.deepEqual(statuses, [200, 409], `round ${round}: ${statuses}`);
          const admins = await http(fresh.url, '/api/admin/users?is_admin=true&is_active=true', { token: ADMIN_TOKEN });
          assert.equal(admins.body.items.length, 1);
        } finally {
          await fresh.close();
        }
      }
    });
  });
}
