// The admin surface's access matrix (401/403 with their exact bodies on every route) and its audit trail:
// each change leaves exactly one event with before/after, the actor, ip and user agent, and no secret.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { asSession, createUser, signIn, uniqueEmail, type AdminSession } from './helpers/admin.js';

const UNAUTHORIZED = { error: 'Unauthorized', message: 'Authentication required. Please provide a valid API token', code: 401 };

for (const { engine, skip } of engines()) {
  describe(`admin surface: access and audit [${engine}]`, { skip }, () => {
    let s: TestServer;
    let admin: AdminSession;
    before(async () => {
      s = await startServer(engine);
      admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
    after(async () => s?.close());

    const events = async (query: string) => {
      const r = await http(s.url, `/api/admin/audit-events?${query}`, { token: ADMIN_TOKEN });
      assert.equal(r.status, 200, r.text);
      return r.body.items as any[];
    };

    it('every admin route: 401 with the documented body without credentials, 403 for a non-admin', async () => {
      const target = await createUser(s.url);
      const member = await createUser(s.url, { password: 'member-pass-1' });
      const ms = await signIn(s.url, member.email, 'member-pass-1');
      const routes: Array<[string, string, unknown]> = [
        ['GET', '/api/admin/users', undefined],
        ['POST', '/api/admin/users', { email: uniqueEmail(), password: 'password-123' }],
        ['GET', `/api/admin/users/${target.id}`, undefined],
        ['PATCH', `/api/admin/users/${target.id}`, { username: 'should-not-land' }],
        ['DELETE', `/api/admin/users/${target.id}`, undefined],
        ['PATCH', '/api/admin/users/me/password', { current_password: 'member-pass-1', new_password: 'member-pass-2' }],
        ['GET', '/api/admin/api-tokens', undefined],
        ['POST', '/api/admin/api-tokens', { name: 'nope' }],
        ['DELETE', '/api/admin/api-tokens/1', undefined],
        ['GET', '/api/admin/audit-events', undefined],
      ];
      for (const [method, path, body] of routes) {
        const none = await http(s.url, path, { method, body });
        assert.equal(none.status, 401, `${method} ${path}`);
        assert.deepEqual({ error: none.body.error, message: none.body.message, code: none.body.code }, UNAUTHORIZED, `${method} ${path}`);
        const forbidden = await http(s.url, path, { method, body, ...asSession(ms) });
        assert.equal(forbidden.status, 403, `${method} ${path} as a member: ${forbidden.text}`);
        assert.equal(forbidden.body.error, 'Forbidden');
        assert.equal(forbidden.body.code, 403);
        assert.equal(typeof forbidden.body.message, 'string');
      }
      // Nothing any of those refused requests tried has landed.
      const t = await http(s.url, `/api/admin/users/${target.id}`, { token: ADMIN_TOKEN });
      assert.equal(t.status, 200);
      assert.notEqual(t.body.item.username, 'should-not-land');
      assert.equal((await signIn(s.url, member.email, 'member-pass-1')).userId, member.id);
      // /api/auth/session works for any signed-in user; the admin routes do not.
      assert.equal((await http(s.url, '/api/auth/session', { cookie: ms.cookie })).status, 200);
    });

    it('create, update, delete: one event each, with before/after, actor, ip, user agent, and no secret', async () => {
      const ua = { 'user-agent': 'audit-test/1.0' };
      const email = uniqueEmail('audited');
      const made = await http(s.url, '/api/admin/users', { ...asSession(admin, ua), body: { email, password: 'Create-Secret-1', username: 'audit-me' } });
      assert.equal(made.status, 201);
      const id = made.body.item.id;
      const created = await events(`target_type=user&target_id=${id}&action=user.created`);
      assert.equal(created.length, 1);
      assert.equal(created[0].before, null);
      assert.equal(created[0].after.email, email);
      assert.equal(created[0].after.username, 'audit-me');
      assert.equal(created[0].actor.type, 'user');
      assert.equal(String(created[0].actor.id), String(admin.userId));
      assert.equal(created[0].ip, '127.0.0.1');
      assert.equal(created[0].user_agent, 'audit-test/1.0');
      assert.equal(created[0].surface, 'admin');
      assert.ok(created[0].request_id);

      const patched = await http(s.url, `/api/admin/users/${id}`, { method: 'PATCH', ...asSession(admin, ua), body: { username: 'audit-me-2', is_active: false } });
      assert.equal(patched.status, 200);
      // A patch that changes nothing writes nothing.
      const same = await http(s.url, `/api/admin/users/${id}`, { method: 'PATCH', ...asSession(admin), body: { username: 'audit-me-2' } });
      assert.equal(same.status, 200);
      const updated = await events(`target_type=user&target_id=${id}&action=user.updated`);
      assert.equal(updated.length, 1);
      assert.equal(updated[0].before.username, 'audit-me');
      assert.equal(updated[0].after.username, 'audit-me-2');
      assert.equal(updated[0].before.is_active, true);
      assert.equal(updated[0].after.is_active, false);
      assert.deepEqual([...updated[0].after.changed].sort(), ['is_active', 'username']);

      const deleted = await http(s.url, `/api/admin/users/${id}`, { method: 'DELETE', ...asSession(admin, ua) });
      assert.equal(deleted.status, 200);
      assert.equal(deleted.body.deleted, true);
      const gone = await events(`target_type=user&target_id=${id}&action=user.deleted`);
      assert.equal(gone.length, 1);
      assert.equal(gone[0].before.email, email);
      assert.equal(gone[0].after, null);

      const all = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${id}`, { token: ADMIN_TOKEN });
      assert.ok(!/Create-Secret-1|\$argon2|password_hash/.test(all.text), 'no password or hash in any event');
    });

    it('password changes, sign-in/out and API tokens are audited without their secrets', async () => {
      const u = await createUser(s.url, { password: 'Old-Secret-Pass-1', is_admin: true });
      const us = await signIn(s.url, u.email, 'Old-Secret-Pass-1');
      assert.equal((await events(`target_type=user&target_id=${u.id}&action=session.created`)).length, 1);
      const mine = await http(s.url, '/api/admin/users/me/password', { method: 'PATCH', ...asSession(us), body: { current_password: 'Old-Secret-Pass-1', new_password: 'New-Secret-Pass-2' } });
      assert.equal(mine.status, 200, mine.text);
      const byAdmin = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { password: 'Admin-Set-Pass-3' } });
      assert.equal(byAdmin.status, 200);
      const pw = await events(`target_type=user&target_id=${u.id}&action=user.updated`);
      assert.equal(pw.length, 2);
      for (const e of pw) assert.deepEqual(e.after.changed, ['password']);
      assert.equal(pw[0].actor.type, 'api_token', 'newest first: the admin token changed it last');
      assert.equal(pw[1].actor.type, 'user');

      const again = await signIn(s.url, u.email, 'Admin-Set-Pass-3');
      const out = await http(s.url, '/api/auth/sign-out', { method: 'POST', cookie: again.cookie, headers: { 'x-csrf-token': again.csrf } });
      assert.equal(out.status, 200);
      const revoked = await events(`target_type=session&target_id=${encodeURIComponent(again.familyId)}&action=session.revoked`);
      assert.equal(revoked.length, 1);

      const tok = await http(s.url, '/api/admin/api-tokens', { token: ADMIN_TOKEN, body: { name: 'audited-token' } });
      assert.equal(tok.status, 201);
      const del = await http(s.url, `/api/admin/api-tokens/${tok.body.item.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal(del.status, 200);
      const tokenEvents = await events(`target_type=api_token&target_id=${tok.body.item.id}`);
      assert.deepEqual(tokenEvents.map((e) => e.action).sort(), ['api_token.created', 'api_token.deleted']);

      const everything = await http(s.url, '/api/admin/audit-events?limit=500', { token: ADMIN_TOKEN });
      for (const secret of ['Old-Secret-Pass-1', 'New-Secret-Pass-2', 'Admin-Set-Pass-3', tok.body.token, ADMIN_TOKEN, us.refresh, us.access]) {
        assert.ok(!everything.text.includes(secret), `the audit log holds a secret (${secret.slice(0, 6)}…)`);
      }
      assert.ok(!/\$argon2/.test(everything.text));
    });

    it('deleting a user ends their sessions at once and frees their email; a stale If-Match keeps them', async () => {
      const u = await createUser(s.url, { password: 'delete-me-pass' });
      const us = await signIn(s.url, u.email, 'delete-me-pass');
      const stale = await http(s.url, `/api/admin/users/${u.id}`, { method: 'DELETE', token: ADMIN_TOKEN, headers: { 'if-match': `"${u.id}.999"` } });
      assert.equal(stale.status, 412);
      assert.equal((await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN })).status, 200);
      const got = await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN });
      const del = await http(s.url, `/api/admin/users/${u.id}`, { method: 'DELETE', token: ADMIN_TOKEN, headers: { 'if-match': got.headers.get('etag')! } });
      assert.equal(del.status, 200, del.text);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: us.cookie })).status, 401);
      assert.equal((await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: us.cookie })).status, 401);
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: u.email, password: 'delete-me-pass' } })).status, 401);
      assert.equal((await http(s.url, `/api/admin/users/${u.id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 404);
      const again = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: u.email, password: 'password-123' } });
      assert.equal(again.status, 201, 'the email is free again');
      assert.notEqual(again.body.item.id, u.id);
    });
  });
}
