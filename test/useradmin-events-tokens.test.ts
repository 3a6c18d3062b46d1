// User-admin surface: the event log view (/api/admin/events), personal access tokens (/api/admin/user/tokens),
// /api/admin/user, and the error id on the request's log line. Real HTTP, each engine.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../src/app.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { asSession, signIn, uniqueEmail } from './helpers/admin.js';
import { assertError, createUa, login, STRONG, ua, USER_KEYS } from './useradmin-helpers.js';

const tomorrow = () => new Date(Date.now() + 86400e3).toISOString();

for (const { engine, skip } of engines()) {
  describe(`user-admin events, tokens and logs [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('writes user-created, user-updated (preData/data), user-password-changed and user-deleted, listed newest first', async () => {
      const started = new Date().toISOString();
      const email = uniqueEmail('ev');
      const created = await createUa(s.url, { email, name: 'Some Name', password: 'some-strange-pass-123-GH', rootRole: 1 });
      await ua(s.url, `/api/admin/user-admin/${created.id}`, { method: 'PUT', body: { name: 'New name', rootRole: 'Viewer' } });
      await ua(s.url, `/api/admin/user-admin/${created.id}`, { method: 'PUT', body: {} });
      await ua(s.url, `/api/admin/user-admin/${created.id}/change-password`, { body: { password: 'simple123-_ASsad' } });
      await ua(s.url, `/api/admin/user-admin/${created.id}`, { method: 'DELETE' });

      const res = await ua(s.url, `/api/admin/events?targetUser=${created.id}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.version, 1);
      const types = res.body.events.map((e: any) => e.type);
      assert.deepEqual(types, ['user-deleted', 'user-password-changed', 'user-updated', 'user-created'], 'a no-op PUT writes nothing');
      const [deleted, pw, updated, made] = res.body.events;
      assert.equal(made.data.id, created.id);
      assert.equal(made.data.email, email);
      assert.equal(made.data.name, 'Some Name');
      assert.equal(made.preData, null);
      assert.equal(updated.preData.name, 'Some Name');
      assert.equal(updated.data.name, 'New name');
      assert.equal(updated.preData.root_role, 'Admin');
      assert.equal(updated.data.root_role, 'Viewer');
      assert.equal(updated.data.id, created.id);
      assert.deepEqual(pw.data.changed, ['password']);
      assert.equal(deleted.preData.id, created.id);
      assert.equal(deleted.preData.email, email);
      assert.equal(deleted.data, null);
      for (const e of res.body.events) {
        assert.ok(e.id > 0);
        assert.ok(e.createdAt >= started);
        assert.equal(typeof e.createdBy, 'string');
        assert.deepEqual(e.tags, []);
        assert.ok(!/strange-pass|simple123|password_hash|\$argon2/.test(JSON.stringify(e)), 'no secret in an event');
      }
      const ids = res.body.events.map((e: any) => e.id);
      assert.deepEqual(ids, [...ids].sort((a: number, b: number) => b - a), 'newest first');
    });

    it('filters by type (Unleash names, IS:/IS_ANY_OF:), actor, target and time range', async () => {
      const admin = await createUa(s.url, { email: uniqueEmail('actor'), password: STRONG, rootRole: 'Admin' });
      const cookie = await login(s.url, admin.email, STRONG);
      const target = await createUa(s.url);
      const t0 = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      const byActor = await http(s.url, `/api/admin/user-admin/${target.id}`, { method: 'PUT', cookie, body: { name: 'Renamed by actor' } });
      assert.equal(byActor.status, 200);
      await http(s.url, `/api/admin/user-admin/${target.id}/change-password`, { cookie, body: { password: 'simple123-_ASsad' } });

      const mine = await ua(s.url, `/api/admin/events?createdBy=${admin.id}`);
      assert.deepEqual(mine.body.events.map((e: any) => e.type).filter((t: string) => t.startsWith('user-')), ['user-password-changed', 'user-updated']);
      for (const e of mine.body.events) assert.equal(e.createdByUserId, admin.id);
      assert.equal(mine.body.events.find((e: any) => e.type === 'user-updated').createdBy, admin.email);

      const updatedOnly = await ua(s.url, `/api/admin/events?type=user-updated&targetUser=${target.id}`);
      assert.deepEqual(updatedOnly.body.events.map((e: any) => e.type), ['user-updated']);
      const pwOnly = await ua(s.url, `/api/admin/events?type=IS:user-password-changed&targetUser=${target.id}`);
      assert.deepEqual(pwOnly.body.events.map((e: any) => e.type), ['user-password-changed']);
      const anyOf = await ua(s.url, `/api/admin/events?type=IS_ANY_OF:user-created,user-updated&targetUser=${target.id}`);
      assert.deepEqual(anyOf.body.events.map((e: any) => e.type), ['user-updated', 'user-created']);
      const sessions = await ua(s.url, `/api/admin/events?type=session-created&createdBy=${admin.id}`);
      assert.ok(sessions.body.events.length >= 1, 'other audit actions keep their own names');
      for (const e of sessions.body.events) assert.equal(e.type, 'session-created');

      const since = await ua(s.url, `/api/admin/events?targetUser=${target.id}&from=${encodeURIComponent(t0)}`);
      assert.deepEqual(since.body.events.map((e: any) => e.type), ['user-password-changed', 'user-updated']);
      const until = await ua(s.url, `/api/admin/events?targetUser=${target.id}&to=${encodeURIComponent(t0)}`);
      assert.deepEqual(until.body.events.map((e: any) => e.type), ['user-invite-created', 'user-created'], 'created without a password: invited');
      const none = await ua(s.url, `/api/admin/events?targetUser=${target.id}&from=2000-01-01&to=2000-01-02`);
      assert.deepEqual(none.body.events, []);
      assert.equal(none.body.nextCursor, null);

      for (const q of ['from=yesterday', 'to=2024-13-45x', 'createdBy=abc', 'targetUser=-1', 'type=%20', 'type=bad%20type', 'limit=0', 'limit=501', 'cursor=x', `type=${'a,'.repeat(30)}a`]) {
        assertError(await ua(s.url, `/api/admin/events?${q}`), 400, 'ValidationError');
      }
      assertError(await http(s.url, '/api/admin/events'), 401, 'AuthenticationRequired');
    });

    it('pages with a cursor: every event once, newest first, then nextCursor null', async () => {
      const u = await createUa(s.url, { password: STRONG });
      for (let i = 0; i < 4; i++) await ua(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { name: `n${i}` } });
      const seen: number[] = [];
      let cursor: number | null = null;
      for (let round = 0; round < 10; round++) {
        const q: string = `/api/admin/events?targetUser=${u.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await ua(s.url, q);
        assert.equal(page.status, 200);
        assert.ok(page.body.events.length <= 2);
        seen.push(...page.body.events.map((e: any) => e.id));
        cursor = page.body.nextCursor;
        if (cursor === null) break;
      }
      assert.equal(seen.length, 5);
      assert.equal(new Set(seen).size, 5);
      assert.deepEqual(seen, [...seen].sort((a, b) => b - a));
      // A filtered view pages the same way.
      const filtered: number[] = [];
      cursor = null;
      for (let round = 0; round < 10; round++) {
        const page: any = await ua(s.url, `/api/admin/events?type=user-updated&targetUser=${u.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        filtered.push(...page.body.events.map((e: any) => e.id));
        cursor = page.body.nextCursor;
        if (cursor === null) break;
      }
      assert.equal(filtered.length, 4);
    });

    it('events from other surfaces show in the same log (one audit log)', async () => {
      const admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const made = await http(s.url, '/api/admin/users', { ...asSession(admin), body: { email: uniqueEmail('other'), password: 'password-123' } });
      assert.equal(made.status, 201, made.text);
      const id = made.body.item.id;
      await http(s.url, `/api/admin/users/${id}`, { method: 'PATCH', ...asSession(admin), body: { password: 'password-456' } });
      const res = await ua(s.url, `/api/admin/events?targetUser=${id}`);
      assert.deepEqual(res.body.events.map((e: any) => e.type), ['user-password-changed', 'user-created']);
      assert.equal(res.body.events[1].createdByUserId, admin.userId);
    });

    it('personal access tokens: create with expiry (secret once), list, use raw or Bearer, delete', async () => {
      const email = uniqueEmail('pat');
      const owner = await createUa(s.url, { email, password: STRONG, rootRole: 'Admin' });
      const cookie = await login(s.url, email, STRONG);
      const expiresAt = tomorrow();
      const created = await http(s.url, '/api/admin/user/tokens', { cookie, body: { description: 'expected description', expiresAt } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.description, 'expected description');
      assert.equal(new Date(created.body.expiresAt).getTime(), new Date(expiresAt).getTime());
      assert.equal(created.body.userId, owner.id);
      assert.equal(typeof created.body.secret, 'string');
      const secret = created.body.secret;

      const list = await http(s.url, '/api/admin/user/tokens', { cookie });
      assert.equal(list.status, 200);
      assert.equal(list.body.pats.length, 1);
      assert.equal(list.body.pats[0].secret, undefined);
      assert.ok(!list.text.includes(secret));

      for (const authorization of [secret, `Bearer ${secret}`]) {
        const me = await http(s.url, '/api/admin/user', { headers: { authorization } });
        assert.equal(me.status, 200, me.text);
        assert.equal(me.body.user.email, email);
        for (const k of USER_KEYS) assert.ok(k in me.body.user);
        assert.deepEqual(me.body.permissions, [{ permission: 'ADMIN' }]);
        assert.equal((await http(s.url, '/api/admin/user-admin', { headers: { authorization } })).status, 200, "an Admin's token has ADMIN");
      }
      // The token follows its owner's role: demoted, it loses ADMIN at once.
      await ua(s.url, `/api/admin/user-admin/${owner.id}`, { method: 'PUT', body: { rootRole: 'Viewer' } });
      const demoted = await http(s.url, '/api/admin/user-admin', { headers: { authorization: secret } });
      assertError(demoted, 403, 'NoAccessError');
      assert.match(demoted.body.message, /"ADMIN"/);

      const other = await http(s.url, '/api/admin/user/tokens', { headers: { authorization: secret }, body: { description: 'second', expiresAt: tomorrow() } });
      assert.equal(other.status, 201);
      const del = await http(s.url, `/api/admin/user/tokens/${created.body.id}`, { method: 'DELETE', headers: { authorization: other.body.secret } });
      assert.equal(del.status, 200);
      assert.equal(del.text, '');
      assertError(await http(s.url, '/api/admin/user', { headers: { authorization: secret } }), 401, 'AuthenticationRequired');
      assertError(await http(s.url, `/api/admin/user/tokens/${created.body.id}`, { method: 'DELETE', headers: { authorization: other.body.secret } }), 404, 'NotFoundError');
    });

    it('personal access tokens: validation, uniqueness per user, privacy between users', async () => {
      const a = await createUa(s.url, { email: uniqueEmail('pa'), password: STRONG, rootRole: 'Editor' });
      const b = await createUa(s.url, { email: uniqueEmail('pb'), password: STRONG, rootRole: 'Editor' });
      const ca = await login(s.url, a.email, STRONG);
      const cb = await login(s.url, b.email, STRONG);
      const yesterday = new Date(Date.now() - 86400e3).toISOString();
      assertError(await http(s.url, '/api/admin/user/tokens', { cookie: ca, body: { description: 'expired', expiresAt: yesterday } }), 400, 'ValidationError');
      assertError(await http(s.url, '/api/admin/user/tokens', { cookie: ca, body: { expiresAt: tomorrow() } }), 400, 'ValidationError');
      assertError(await http(s.url, '/api/admin/user/tokens', { cookie: ca, body: { description: 'x' } }), 400, 'ValidationError');
      assertError(await http(s.url, '/api/admin/user/tokens', { cookie: ca, body: { description: '   ', expiresAt: tomorrow() } }), 400, 'ValidationError');
      assertError(await http(s.url, '/api/admin/user/tokens', { cookie: ca, body: { description: 'd', expiresAt: 'soon' } }), 400, 'ValidationError');
      assertError(await http(s.url, '/api/admin/user/tokens', { cookie: ca, body: { description: 'd'.repeat(256), expiresAt: tomorrow() } }), 400, 'ValidationError');

      const first = await http(s.url, '/api/admin/user/tokens', { cookie: ca, body: { description: 'duplicate description', expiresAt: tomorrow() } });
      assert.equal(first.status, 201);
      assertError(await http(s.url, '/api/admin/user/tokens', { cookie: ca, body: { description: 'duplicate description', expiresAt: tomorrow() } }), 409, 'NameExistsError');
      assert.equal((await http(s.url, '/api/admin/user/tokens', { cookie: cb, body: { description: 'duplicate description', expiresAt: tomorrow() } })).status, 201, 'another user may reuse it');

      assertError(await http(s.url, `/api/admin/user/tokens/${first.body.id}`, { method: 'DELETE', cookie: cb }), 404, 'NotFoundError');
      assert.equal((await http(s.url, '/api/admin/user/tokens', { cookie: ca })).body.pats.length, 1, "b cannot delete a's token");
      assert.equal((await http(s.url, '/api/admin/user/tokens', { cookie: cb })).body.pats.length, 1, 'each sees only their own');

      // An admin API token is no user: it has no personal tokens.
      assertError(await http(s.url, '/api/admin/user/tokens', { token: ADMIN_TOKEN }), 403, 'NoAccessError');
      assertError(await http(s.url, '/api/admin/user/tokens'), 401, 'AuthenticationRequired');
      // Token deletion by the owner's removal: deleting the user kills their tokens.
      await ua(s.url, `/api/admin/user-admin/${a.id}`, { method: 'DELETE' });
      assertError(await http(s.url, '/api/admin/user', { headers: { authorization: first.body.secret } }), 401, 'AuthenticationRequired');
    });

    it("puts each error's id on the request's log line", async () => {
      const lines: any[] = [];
      const stream = new Writable({
        write(chunk, _enc, done) {
          for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
          done();
        },
      });
      const app = await buildApp(s.core, { logger: { level: 'info', stream } });
      try {
        const res = await app.inject({ method: 'GET', url: '/api/admin/user-admin/999999', headers: { authorization: ADMIN_TOKEN } });
        assert.equal(res.statusCode, 404);
        const id = res.json().id;
        const bad = await app.inject({ method: 'PUT', url: '/api/admin/user-admin/1', headers: { authorization: ADMIN_TOKEN, 'content-type': 'application/json' }, payload: '{"name":' });
        assert.equal(bad.statusCode, 400);
        const unknown = await app.inject({ method: 'GET', url: '/api/admin/user-admin/1/nope', headers: { authorization: ADMIN_TOKEN } });
        assert.equal(unknown.statusCode, 404);
        for (const errorId of [id, bad.json().id, unknown.json().id]) {
          const line = lines.find((l) => l.error_id === errorId && l.msg === 'request completed');
          assert.ok(line, `completion line with error_id ${errorId}: ${JSON.stringify(lines.slice(-4))}`);
        }
        assert.ok(!JSON.stringify(lines).includes(ADMIN_TOKEN), 'the token never reaches the log');
      } finally {
        await app.close();
      }
    });
  });
}
