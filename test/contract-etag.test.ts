// Contract coverage (docs/architecture.md: "a request with If-Match that is stale gets 412 on every
// surface"): the directory surface's other user writes (soft delete, restore, role sync) honour If-Match as
// PUT does; a stale one answers 412 {message} and changes nothing, a current one (or none) goes through.
// The user-admin change-password route honours it as the user-admin PUT does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { asSession, createUser, signIn } from './helpers/admin.js';
import { http } from './helpers/http.js';
import { addMember, createRole, createTenant, v1 } from './helpers/directory.js';

for (const { engine, skip } of engines()) {
  describe(`contract: If-Match on every directory user write [${engine}]`, { skip }, () => {
    let s: TestServer;
    let tenant: { id: number };
    let role: { id: number };
    before(async () => {
      s = await startServer(engine);
      tenant = await createTenant(s.url);
      role = await createRole(s.url, tenant.id, 'Etag Role', ['users.view']);
    });
    after(async () => s?.close());

    const dir = (path: string, r: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
      v1(s.url, path, { token: ADMIN_TOKEN, tenant: tenant.id, ...r });
    const membership = (id: number) =>
      s.store.db.selectFrom('tenant_members').selectAll().where('user_id', '=', id).where('tenant_id', '=', tenant.id).executeTakeFirst();

    it('DELETE, restore and PUT /roles answer 412 to a stale If-Match and change nothing', async () => {
      const u = await createUser(s.url, { password: 'etag-dir-pass-1' });
      await addMember(s.url, tenant.id, u.id);
      const stale = (await dir(`/users/${u.id}`)).headers.get('etag')!;
      assert.ok(stale);
      const bumped = await dir(`/users/${u.id}`, { method: 'PUT', body: { title: 'bumped' } });
      assert.equal(bumped.status, 200, bumped.text);
      const fresh = bumped.headers.get('etag')!;
      assert.notEqual(fresh, stale);
      const before = await membership(u.id);

      const roles = await dir(`/users/${u.id}/roles`, { method: 'PUT', headers: { 'if-match': stale }, body: { role_ids: [role.id] } });
      assert.equal(roles.status, 412, roles.text);
      assert.equal(typeof roles.body.message, 'string');
      const del = await dir(`/users/${u.id}`, { method: 'DELETE', headers: { 'if-match': stale } });
      assert.equal(del.status, 412, del.text);
      assert.deepEqual(await membership(u.id), before, 'nothing changed');
      assert.deepEqual((await dir(`/users/${u.id}`)).body.data.roles, []);

      assert.equal((await dir(`/users/${u.id}/roles`, { method: 'PUT', headers: { 'if-match': fresh }, body: { role_ids: [role.id] } })).status, 200);
      assert.equal((await dir(`/users/${u.id}`, { method: 'DELETE', headers: { 'if-match': fresh } })).status, 200);
      const restoreStale = await dir(`/users/${u.id}/restore`, { method: 'POST', headers: { 'if-match': stale } });
      assert.equal(restoreStale.status, 412, restoreStale.text);
      const restored = await dir(`/users/${u.id}/restore`, { method: 'POST', headers: { 'if-match': fresh } });
      assert.equal(restored.status, 200, restored.text);
      assert.equal(restored.body.data.deleted_at, null);
      // Without If-Match the writes go through as before.
      assert.equal((await dir(`/users/${u.id}/roles`, { method: 'PUT', body: { role_ids: [] } })).status, 200);
    });

    it('user-admin change-password answers 412 PreconditionFailedError to a stale If-Match, keeping the password and sessions', async () => {
      const u = await createUser(s.url, { password: 'Etag-ua-pass-1', is_admin: true });
      const ua = (path: string, r: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
        http(s.url, path, { ...r, headers: { authorization: ADMIN_TOKEN, ...(r.headers ?? {}) } });
      const stale = (await ua(`/api/admin/user-admin/${u.id}`)).headers.get('etag')!;
      const bumped = await ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { name: 'bumped' } });
      const fresh = bumped.headers.get('etag')!;
      const login = await http(s.url, '/auth/simple/login', { body: { username: u.email, password: 'Etag-ua-pass-1' } });
      const cookie = `unleash-session=${login.cookies['unleash-session']}`;
      const hash = async () => (await s.store.db.selectFrom('users').select('password_hash').where('id', '=', u.id).executeTakeFirstOrThrow()).password_hash;
      const before = await hash();
      const res = await ua(`/api/admin/user-admin/${u.id}/change-password`, { headers: { 'if-match': stale }, body: { password: 'Etag-ua-pass-2!' } });
      assert.equal(res.status, 412, res.text);
      assert.equal(res.body.name, 'PreconditionFailedError');
      assert.equal(await hash(), before, 'the password is unchanged');
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie })).status, 200, 'no session was revoked');
      const ok = await ua(`/api/admin/user-admin/${u.id}/change-password`, { headers: { 'if-match': fresh }, body: { password: 'Etag-ua-pass-2!' } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie })).status, 401);
    });
  });
}

for (const { engine, skip } of engines()) {
  describe(`contract: If-Match on the admin's own password change [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('a stale If-Match is 412 and keeps the old password; the current ETag (or none) changes it', async () => {
      const email = `self.etag.${process.pid}@example.com`;
      await createUser(s.url, { email, password: 'self-etag-pass-1', is_admin: true });
      const me = await signIn(s.url, email, 'self-etag-pass-1');
      const current = await http(s.url, `/api/admin/users/${me.userId}`, { token: ADMIN_TOKEN });
      const etag = current.headers.get('etag')!;
      assert.match(etag, /^"\d+\.\d+"$/);
      const stale = etag.replace(/\.(\d+)"$/, (_m, v) => `.${Number(v) + 5}"`);
      const refused = await http(s.url, '/api/admin/users/me/password', {
        method: 'PATCH', ...asSession(me, { 'if-match': stale }), body: { current_password: 'self-etag-pass-1', new_password: 'self-etag-pass-2' },
      });
      assert.equal(refused.status, 412, refused.text);
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'self-etag-pass-2' } })).status, 401);
      const done = await http(s.url, '/api/admin/users/me/password', {
        method: 'PATCH', ...asSession(me, { 'if-match': etag }), body: { current_password: 'self-etag-pass-1', new_password: 'self-etag-pass-2' },
      });
      assert.equal(done.status, 200, done.text);
      assert.notEqual(done.headers.get('etag'), etag);
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'self-etag-pass-2' } })).status, 200);
      const again = await http(s.url, '/api/admin/users/me/password', {
        method: 'PATCH', ...asSession(me), body: { current_password: 'self-etag-pass-2', new_password: 'self-etag-pass-3' },
      });
      assert.equal(again.status, 200, again.text);
    });
  });
}
