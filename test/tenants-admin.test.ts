// Admin API for directory v1: /api/admin/tenants (+ roles, members) and /api/admin/oauth-clients, in the
// admin surface's envelope and error shapes, with audit events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { asSession, createUser, signIn, type AdminSession } from './helpers/admin.js';
import { ALL_PERMISSIONS, createClient, createRole, createTenant, member, v1 } from './helpers/directory.js';

for (const { engine, skip } of engines()) {
  describe(`admin tenants and oauth-clients API [${engine}]`, { skip }, () => {
    let s: TestServer;
    let admin: AdminSession;
    before(async () => {
      s = await startServer(engine);
      admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
    after(async () => s?.close());

    it('tenants: create, list, get, rename, delete; names unique case-insensitively (409)', async () => {
      const created = await http(s.url, '/api/admin/tenants', { method: 'POST', ...asSession(admin), body: { name: '  Acme Corp  ' } });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual([created.body.ok, created.body.created, created.body.updated, created.body.deleted], [true, true, false, false]);
      const t = created.body.item;
      assert.equal(t.name, 'Acme Corp');
      assert.equal(typeof t.id, 'number');
      const dup = await http(s.url, '/api/admin/tenants', { token: ADMIN_TOKEN, body: { name: 'ACME CORP' } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error, 'Conflict');
      const list = await http(s.url, '/api/admin/tenants', { token: ADMIN_TOKEN });
      assert.ok(list.body.items.some((x: { id: number; member_count: number }) => x.id === t.id && x.member_count === 0));
      assert.equal((await http(s.url, `/api/admin/tenants/${t.id}`, { token: ADMIN_TOKEN })).body.item.name, 'Acme Corp');
      const renamed = await http(s.url, `/api/admin/tenants/${t.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { name: 'Acme Inc' } });
      assert.equal(renamed.status, 200);
      assert.equal(renamed.body.updated, true);
      assert.equal(renamed.body.item.name, 'Acme Inc');
      for (const body of [{ name: '' }, { name: 'x'.repeat(256) }, { name: 5 }, {}]) {
        const r = await http(s.url, '/api/admin/tenants', { token: ADMIN_TOKEN, body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.error, 'invalid_params');
      }
      assert.equal((await http(s.url, `/api/admin/tenants/${t.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: {} })).status, 400);
      assert.equal((await http(s.url, '/api/admin/tenants/999999', { token: ADMIN_TOKEN })).status, 404);
      assert.equal((await http(s.url, '/api/admin/tenants/abc', { token: ADMIN_TOKEN })).status, 400);
      const del = await http(s.url, `/api/admin/tenants/${t.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal(del.status, 200);
      assert.equal(del.body.deleted, true);
      assert.equal((await http(s.url, `/api/admin/tenants/${t.id}`, { token: ADMIN_TOKEN })).status, 404);
      const ev = await http(s.url, `/api/admin/audit-events?target_type=tenant&target_id=${t.id}`, { token: ADMIN_TOKEN });
      assert.deepEqual(ev.body.items.map((e: { action: string }) => e.action), ['tenant.deleted', 'tenant.updated', 'tenant.created']);
    });

    it('roles: per-tenant names, known permissions only, update and delete (members lose the role)', async () => {
      const t = await createTenant(s.url);
      const t2 = await createTenant(s.url);
      const r = await http(s.url, `/api/admin/tenants/${t.id}/roles`, { token: ADMIN_TOKEN, body: { name: 'Editors', permissions: ['users.view', 'users.update', 'users.view'] } });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(r.body.item.permissions, ['users.update', 'users.view']);
      assert.equal(r.body.item.tenant_id, t.id);
      assert.equal((await http(s.url, `/api/admin/tenants/${t.id}/roles`, { token: ADMIN_TOKEN, body: { name: 'editors' } })).status, 409);
      assert.equal((await http(s.url, `/api/admin/tenants/${t2.id}/roles`, { token: ADMIN_TOKEN, body: { name: 'Editors' } })).status, 201, 'the same name in another tenant is fine');
      const bad = await http(s.url, `/api/admin/tenants/${t.id}/roles`, { token: ADMIN_TOKEN, body: { name: 'Bad', permissions: ['users.view', 'ADMIN'] } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error, 'invalid_params');
      assert.equal((await http(s.url, '/api/admin/tenants/999999/roles', { token: ADMIN_TOKEN, body: { name: 'X' } })).status, 404);
      const list = await http(s.url, `/api/admin/tenants/${t.id}/roles`, { token: ADMIN_TOKEN });
      assert.deepEqual(list.body.items.map((x: { name: string }) => x.name), ['Editors']);
      const upd = await http(s.url, `/api/admin/tenants/${t.id}/roles/${r.body.item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { permissions: ALL_PERMISSIONS } });
      assert.equal(upd.status, 200);
      assert.deepEqual(upd.body.item.permissions, [...ALL_PERMISSIONS].sort());
      assert.equal((await http(s.url, `/api/admin/tenants/${t2.id}/roles/${r.body.item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { name: 'Y' } })).status, 404, "a role is reached only through its own tenant");
      // A member holding the role gets its new permissions at once and loses them when it is deleted.
      const client = await createClient(s.url);
      const m = await member(s.url, client, t.id, [r.body.item.id]);
      assert.equal((await v1(s.url, '/users', { token: m.token })).status, 200);
      const del = await http(s.url, `/api/admin/tenants/${t.id}/roles/${r.body.item.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal(del.status, 200);
      assert.equal(del.body.deleted, true);
      assert.equal((await v1(s.url, '/users', { token: m.token })).status, 403);
      const members = await http(s.url, `/api/admin/tenants/${t.id}/members`, { token: ADMIN_TOKEN });
      assert.deepEqual(members.body.items[0].role_ids, []);
    });

    it('members: add with roles (of that tenant only), list, remove; duplicates 409, unknown users 400', async () => {
      const t = await createTenant(s.url);
      const other = await createTenant(s.url);
      const role = await createRole(s.url, t.id, 'R', ['users.view']);
      const foreign = await createRole(s.url, other.id, 'F', ['users.view']);
      const u = await createUser(s.url);
      const add = await http(s.url, `/api/admin/tenants/${t.id}/members`, { token: ADMIN_TOKEN, body: { user_id: u.id, role_ids: [role.id] } });
      assert.equal(add.status, 201, add.text);
      assert.deepEqual(add.body.item.role_ids, [role.id]);
      assert.equal(add.body.item.email, u.email);
      assert.equal((await http(s.url, `/api/admin/tenants/${t.id}/members`, { token: ADMIN_TOKEN, body: { user_id: u.id } })).status, 409);
      assert.equal((await http(s.url, `/api/admin/tenants/${t.id}/members`, { token: ADMIN_TOKEN, body: { user_id: 999999 } })).status, 400);
      const u2 = await createUser(s.url);
      const cross = await http(s.url, `/api/admin/tenants/${t.id}/members`, { token: ADMIN_TOKEN, body: { user_id: u2.id, role_ids: [foreign.id] } });
      assert.equal(cross.status, 400);
      assert.equal(cross.body.field, 'role_ids.0');
      const list = await http(s.url, `/api/admin/tenants/${t.id}/members`, { token: ADMIN_TOKEN });
      assert.deepEqual(list.body.items.map((m: { user_id: number }) => m.user_id), [u.id], 'the refused add wrote nothing');
      const rm = await http(s.url, `/api/admin/tenants/${t.id}/members/${u.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal(rm.status, 200);
      assert.equal(rm.body.deleted, true);
      assert.equal((await http(s.url, `/api/admin/tenants/${t.id}/members/${u.id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 404);
      // Re-adding starts with no roles.
      const again = await http(s.url, `/api/admin/tenants/${t.id}/members`, { token: ADMIN_TOKEN, body: { user_id: u.id } });
      assert.deepEqual(again.body.item.role_ids, []);
      // Deleting the tenant leaves the users.
      await http(s.url, `/api/admin/tenants/${t.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal((await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN })).status, 200);
    });

    it('oauth-clients: the secret is shown once, never listed; delete', async () => {
      const created = await http(s.url, '/api/admin/oauth-clients', { method: 'POST', ...asSession(admin), body: { name: 'Mobile app' } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.headers.get('cache-control'), 'no-store');
      const secret = created.body.client_secret;
      assert.equal(typeof secret, 'string');
      assert.ok(secret.length >= 32);
      assert.deepEqual(created.body.item.grant_types, ['password', 'refresh_token']);
      assert.equal(created.body.item.service_user_id, null);
      const list = await http(s.url, '/api/admin/oauth-clients', { token: ADMIN_TOKEN });
      assert.equal(list.status, 200);
      assert.ok(list.body.items.some((c: { id: number }) => c.id === created.body.item.id));
      assert.ok(!list.text.includes(secret), 'the secret is never listed');
      assert.ok(!/secret_hash|secretHash/.test(list.text));
      const bad = await http(s.url, '/api/admin/oauth-clients', { token: ADMIN_TOKEN, body: { name: 'x', grant_types: ['implicit'] } });
      assert.equal(bad.status, 400);
      assert.equal((await http(s.url, '/api/admin/oauth-clients', { token: ADMIN_TOKEN, body: { name: 'x', grant_types: [] } })).status, 400);
      const ev = await http(s.url, `/api/admin/audit-events?target_type=oauth_client&target_id=${created.body.item.id}`, { token: ADMIN_TOKEN });
      assert.equal(ev.body.items.length, 1);
      assert.ok(!ev.text.includes(secret));
      const del = await http(s.url, `/api/admin/oauth-clients/${created.body.item.id}`, { method: 'DELETE', ...asSession(admin) });
      assert.equal(del.status, 200);
      assert.equal(del.body.deleted, true);
      assert.equal((await http(s.url, `/api/admin/oauth-clients/${created.body.item.id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 404);
    });

    it('needs an administrator (401 without credentials, 403 for members, CSRF for cookies)', async () => {
      const none = await http(s.url, '/api/admin/tenants');
      assert.equal(none.status, 401);
      assert.equal(none.body.error, 'Unauthorized');
      const u = await createUser(s.url, { password: 'plain-member-1' });
      const ms = await signIn(s.url, u.email, 'plain-member-1');
      for (const [method, path] of [['GET', '/api/admin/tenants'], ['POST', '/api/admin/tenants'], ['GET', '/api/admin/oauth-clients'], ['POST', '/api/admin/oauth-keys/rotate']]) {
        const r = await http(s.url, path, { method, ...asSession(ms), body: method === 'POST' ? { name: 'x' } : undefined });
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.equal(r.body.error, 'Forbidden');
      }
      const noCsrf = await http(s.url, '/api/admin/tenants', { cookie: admin.cookie, body: { name: 'csrf-less' } });
      assert.equal(noCsrf.status, 403);
      assert.deepEqual(noCsrf.body, { error: 'csrf_required' }, 'the product answers {"error":"csrf_required"}');
    });
  });
}
