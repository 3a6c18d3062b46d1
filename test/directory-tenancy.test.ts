// Directory v1: X-Tenant scoping, tenant isolation (other tenants' users are 404), permissions, the user
// list (search, pages, sort, filters), create, soft delete / trashed / restore, account roles.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, uniqueEmail } from './helpers/admin.js';
import {
  ALL_PERMISSIONS, addMember, createClient, createRole, createTenant, member, passwordToken, USER_RESOURCE_KEYS, v1,
  type Client, type Member,
} from './helpers/directory.js';

for (const { engine, skip } of engines()) {
  describe(`directory tenancy and users API [${engine}]`, { skip }, () => {
    let s: TestServer;
    let client: Client;
    let tenantA: { id: number };
    let tenantB: { id: number };
    let adminA: { id: number };
    let viewerA: { id: number };
    let adminB: { id: number };
    let alice: Member; // tenant A admin
    let bob: Member; // tenant B admin
    let bUser: { id: number; email: string };

    before(async () => {
      s = await startServer(engine);
      client = await createClient(s.url);
      tenantA = await createTenant(s.url);
      tenantB = await createTenant(s.url);
      adminA = await createRole(s.url, tenantA.id, 'Admin', ALL_PERMISSIONS);
      viewerA = await createRole(s.url, tenantA.id, 'Viewer', ['users.view']);
      adminB = await createRole(s.url, tenantB.id, 'Admin', ALL_PERMISSIONS);
      alice = await member(s.url, client, tenantA.id, [adminA.id]);
      bob = await member(s.url, client, tenantB.id, [adminB.id]);
      bUser = await createUser(s.url, { email: uniqueEmail('b-only') });
      await addMember(s.url, tenantB.id, bUser.id);
    });
    after(async () => s?.close());

    it('X-Tenant: absent uses the default tenant; unknown, malformed or not a member is 403 {message}', async () => {
      const absent = await v1(s.url, '/users', { token: alice.token });
      assert.equal(absent.status, 200, absent.text);
      assert.ok(absent.body.data.some((u: { id: number }) => u.id === alice.id));
      assert.ok(!absent.body.data.some((u: { id: number }) => u.id === bUser.id));
      for (const tenant of [tenantB.id, 999999, 'abc', '-1', '1.5', '0', '99999999999999999999', '']) {
        const res = await v1(s.url, '/users', { token: alice.token, tenant });
        if (tenant === '') {
          assert.equal(res.status, 200, 'an empty header is the default tenant');
          continue;
        }
        assert.equal(res.status, 403, `X-Tenant ${tenant}: ${res.text}`);
        assert.deepEqual(Object.keys(res.body), ['message']);
      }
      // Unknown and not-a-member read the same, so tenant ids cannot be probed.
      const unknown = await v1(s.url, '/users', { token: alice.token, tenant: 999999 });
      const notMember = await v1(s.url, '/users', { token: alice.token, tenant: tenantB.id });
      assert.deepEqual(unknown.body, notMember.body);
      // A user in no tenant at all, without the header.
      const loner = await createUser(s.url, { password: 'loner-password-1' });
      const t = await passwordToken(s.url, client, loner.email, 'loner-password-1');
      const none = await v1(s.url, '/users', { token: t.access_token });
      assert.equal(none.status, 403);
      // Admin API tokens must name the tenant; an unknown one is 403.
      assert.equal((await v1(s.url, '/users', { token: ADMIN_TOKEN })).status, 403);
      assert.equal((await v1(s.url, '/users', { token: ADMIN_TOKEN, tenant: 999999 })).status, 403);
      assert.equal((await v1(s.url, '/users', { token: ADMIN_TOKEN, tenant: tenantB.id })).status, 200);
      // The tenant check runs before the body is validated.
      const early = await v1(s.url, `/users/${alice.id}`, { method: 'PUT', token: alice.token, tenant: tenantB.id, body: { name: 'x'.repeat(300) } });
      assert.equal(early.status, 403);
    });

    it('unmatched paths of the surface answer 404 in its {message} shape', async () => {
      for (const path of ['/api/v1/nope', '/api/v1/users/1/nope', '/oauth/authorize', '/api/v1']) {
        const res = await http(s.url, path, { token: alice.token });
        assert.equal(res.status, 404, path);
        assert.deepEqual(Object.keys(res.body), ['message'], `${path}: ${res.text}`);
      }
      const wrongMethod = await http(s.url, '/api/v1/users', { method: 'DELETE', token: alice.token });
      assert.equal(wrongMethod.status, 404);
      assert.deepEqual(Object.keys(wrongMethod.body), ['message']);
    });

    it("other tenants' users answer 404 to every read and write", async () => {
      const probes: Array<[string, string, unknown]> = [
        ['GET', `/users/${bUser.id}`, undefined],
        ['PUT', `/users/${bUser.id}`, { name: 'hijacked' }],
        ['PATCH', `/users/${bUser.id}`, { name: 'hijacked' }],
        ['PUT', `/users/${bUser.id}`, { password: 'hijacked-1', password_confirmation: 'hijacked-1' }],
        ['PUT', `/users/${bUser.id}/roles`, { role_ids: [] }],
        ['DELETE', `/users/${bUser.id}`, undefined],
        ['POST', `/users/${bUser.id}/restore`, undefined],
      ];
      for (const [method, path, body] of probes) {
        const res = await v1(s.url, path, { method, token: alice.token, tenant: tenantA.id, body });
        assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
        assert.deepEqual(Object.keys(res.body), ['message']);
      }
      // An unknown id reads the same as another tenant's user.
      const unknown = await v1(s.url, '/users/2147483000', { token: alice.token, tenant: tenantA.id });
      const other = await v1(s.url, `/users/${bUser.id}`, { token: alice.token, tenant: tenantA.id });
      assert.deepEqual(unknown.body, other.body);
      // Nothing changed in tenant B.
      const seen = await v1(s.url, `/users/${bUser.id}`, { token: bob.token, tenant: tenantB.id });
      assert.equal(seen.status, 200);
      assert.notEqual(seen.body.data.name, 'hijacked');
      assert.equal(seen.body.data.deleted_at, null);
      // Even a root admin's admin token reads a tenant's users only through that tenant.
      assert.equal((await v1(s.url, `/users/${bUser.id}`, { token: ADMIN_TOKEN, tenant: tenantA.id })).status, 404);
      assert.equal((await v1(s.url, `/users/${bUser.id}`, { token: ADMIN_TOKEN, tenant: tenantB.id })).status, 200);
    });

    it('root Owners/Admins act in any tenant with an OAuth token; admin API tokens are accepted as Bearer', async () => {
      const t = await passwordToken(s.url, client, ADMIN_EMAIL, ADMIN_PASSWORD);
      const inB = await v1(s.url, '/users', { token: t.access_token, tenant: tenantB.id });
      assert.equal(inB.status, 200);
      assert.ok(inB.body.data.some((u: { id: number }) => u.id === bUser.id));
      const put = await v1(s.url, `/users/${bUser.id}`, { method: 'PUT', token: t.access_token, tenant: tenantB.id, body: { title: 'Set by root' } });
      assert.equal(put.status, 200, put.text);
      const byToken = await v1(s.url, `/users/${bUser.id}`, { method: 'PUT', token: ADMIN_TOKEN, tenant: tenantB.id, body: { title: 'Set by token' } });
      assert.equal(byToken.status, 200);
      assert.equal(byToken.body.data.title, 'Set by token');
    });

    it('permissions: users.view, users.create, users.delete, roles.assign each gate their route (403 {message})', async () => {
      const viewer = await member(s.url, client, tenantA.id, [viewerA.id]);
      const nobody = await member(s.url, client, tenantA.id, []);
      assert.equal((await v1(s.url, '/users', { token: nobody.token, tenant: tenantA.id })).status, 403);
      assert.equal((await v1(s.url, `/users/${alice.id}`, { token: nobody.token, tenant: tenantA.id })).status, 403);
      assert.equal((await v1(s.url, '/users', { token: viewer.token, tenant: tenantA.id })).status, 200);
      assert.equal((await v1(s.url, `/users/${alice.id}`, { token: viewer.token, tenant: tenantA.id })).status, 200);
      const create = await v1(s.url, '/users', { method: 'POST', token: viewer.token, tenant: tenantA.id, body: { name: 'N', email: uniqueEmail(), password: 'password-123', password_confirmation: 'password-123' } });
      assert.equal(create.status, 403);
      assert.equal(typeof create.body.message, 'string');
      assert.equal((await v1(s.url, `/users/${nobody.id}`, { method: 'DELETE', token: viewer.token, tenant: tenantA.id })).status, 403);
      assert.equal((await v1(s.url, `/users/${nobody.id}/roles`, { method: 'PUT', token: viewer.token, tenant: tenantA.id, body: { role_ids: [] } })).status, 403);
      // Roles changed by an admin take effect on the next request (no new token needed).
      await v1(s.url, `/users/${nobody.id}/roles`, { method: 'PUT', token: alice.token, tenant: tenantA.id, body: { role_ids: [viewerA.id] } });
      assert.equal((await v1(s.url, '/users', { token: nobody.token, tenant: tenantA.id })).status, 200);
      // Removed from the tenant: out at once.
      await http(s.url, `/api/admin/tenants/${tenantA.id}/members/${nobody.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal((await v1(s.url, '/users', { token: nobody.token, tenant: tenantA.id })).status, 403);
    });

    it('GET /account/roles lists the caller\'s roles in the tenant', async () => {
      const res = await v1(s.url, '/account/roles', { token: alice.token, tenant: tenantA.id });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data, [{ id: adminA.id, name: 'Admin', permissions: [...ALL_PERMISSIONS].sort() }]);
      assert.equal(res.body.meta.tenant_id, tenantA.id);
      const dflt = await v1(s.url, '/account/roles', { token: bob.token });
      assert.deepEqual(dflt.body.data.map((r: { id: number }) => r.id), [adminB.id]);
      assert.equal((await v1(s.url, '/account/roles', { token: bob.token, tenant: tenantA.id })).status, 403);
      assert.equal((await v1(s.url, '/account/roles')).status, 401);
    });

    it('POST /users creates a member of the tenant with roles; validation in Laravel words', async () => {
      const email = uniqueEmail('created');
      const res = await v1(s.url, '/users', {
        method: 'POST', token: alice.token, tenant: tenantA.id,
        body: { name: 'Created One', email, password: 'password-123', password_confirmation: 'password-123', title: 'New', language: ['English'], role_ids: [viewerA.id] },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(typeof res.body.success, 'string');
      for (const k of USER_RESOURCE_KEYS) assert.ok(k in res.body.data, k);
      assert.equal(res.body.data.email, email);
      assert.deepEqual(res.body.data.roles, [{ id: viewerA.id, name: 'Viewer' }]);
      const t = await passwordToken(s.url, client, email, 'password-123');
      assert.equal((await v1(s.url, '/users', { token: t.access_token })).status, 200, 'the new member acts in the tenant');
      assert.equal((await v1(s.url, `/users/${res.body.data.id}`, { token: bob.token, tenant: tenantB.id })).status, 404);
      const missing = await v1(s.url, '/users', { method: 'POST', token: alice.token, tenant: tenantA.id, body: {} });
      assert.equal(missing.status, 422);
      assert.deepEqual(missing.body.errors.name, ['The name field is required.']);
      assert.deepEqual(missing.body.errors.email, ['The email field is required.']);
      assert.deepEqual(missing.body.errors.password, ['The password field is required.']);
      const taken = await v1(s.url, '/users', { method: 'POST', token: alice.token, tenant: tenantA.id, body: { name: 'Dup', email: email.toUpperCase(), password: 'password-123', password_confirmation: 'password-123' } });
      assert.equal(taken.status, 422);
      assert.deepEqual(taken.body.errors, { email: ['The email has already been taken.'] });
      const mismatch = await v1(s.url, '/users', { method: 'POST', token: alice.token, tenant: tenantA.id, body: { name: 'M', email: uniqueEmail(), password: 'password-123', password_confirmation: 'password-124' } });
      assert.equal(mismatch.status, 422);
      assert.deepEqual(mismatch.body.errors, { password: ['The password field confirmation does not match.'] });
      const crossEmail = uniqueEmail('cross');
      const cross = await v1(s.url, '/users', { method: 'POST', token: alice.token, tenant: tenantA.id, body: { name: 'X', email: crossEmail, password: 'password-123', password_confirmation: 'password-123', role_ids: [adminB.id] } });
      assert.equal(cross.status, 422);
      assert.deepEqual(cross.body.errors, { 'role_ids.0': ['The selected role ids.0 is invalid.'] });
      // Nothing was created by the refused request.
      const after = await v1(s.url, '/users', { method: 'POST', token: alice.token, tenant: tenantA.id, body: { name: 'X', email: crossEmail, password: 'password-123', password_confirmation: 'password-123' } });
      assert.equal(after.status, 201, after.text);
    });

    it('DELETE is a soft delete in the tenant; trashed lists it; restore brings it back with its roles', async () => {
      const u = await createUser(s.url, { email: uniqueEmail('trash'), name: 'Trash Me', password: 'trash-password-1' });
      await addMember(s.url, tenantA.id, u.id, [viewerA.id]);
      await addMember(s.url, tenantB.id, u.id);
      const del = await v1(s.url, `/users/${u.id}`, { method: 'DELETE', token: alice.token, tenant: tenantA.id });
      assert.equal(del.status, 200, del.text);
      assert.equal(typeof del.body.success, 'string');
      assert.ok(del.body.data.deleted_at);
      assert.equal((await v1(s.url, `/users/${u.id}`, { token: alice.token, tenant: tenantA.id })).status, 404);
      assert.equal((await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: alice.token, tenant: tenantA.id, body: { title: 'x' } })).status, 404);
      assert.equal((await v1(s.url, `/users/${u.id}`, { method: 'DELETE', token: alice.token, tenant: tenantA.id })).status, 404);
      const list = await v1(s.url, '/users?per_page=100', { token: alice.token, tenant: tenantA.id });
      assert.ok(!list.body.data.some((x: { id: number }) => x.id === u.id));
      const only = await v1(s.url, '/users?trashed=only&per_page=100', { token: alice.token, tenant: tenantA.id });
      assert.deepEqual(only.body.data.map((x: { id: number }) => x.id), [u.id]);
      assert.ok(only.body.data[0].deleted_at);
      const withTrashed = await v1(s.url, '/users?trashed=with&per_page=100', { token: alice.token, tenant: tenantA.id });
      assert.ok(withTrashed.body.data.some((x: { id: number }) => x.id === u.id));
      assert.ok(withTrashed.body.data.some((x: { id: number }) => x.id === alice.id));
      // Still a live member of tenant B, and still able to sign in.
      assert.equal((await v1(s.url, `/users/${u.id}`, { token: bob.token, tenant: tenantB.id })).body.data.deleted_at, null);
      const t = await passwordToken(s.url, client, u.email, 'trash-password-1');
      assert.equal((await v1(s.url, '/account/roles', { token: t.access_token, tenant: tenantA.id })).status, 403, 'no access to the tenant that deleted them');
      const restored = await v1(s.url, `/users/${u.id}/restore`, { method: 'POST', token: alice.token, tenant: tenantA.id });
      assert.equal(restored.status, 200, restored.text);
      assert.equal(restored.body.data.deleted_at, null);
      assert.deepEqual(restored.body.data.roles, [{ id: viewerA.id, name: 'Viewer' }]);
      assert.equal((await v1(s.url, `/users/${u.id}`, { token: alice.token, tenant: tenantA.id })).status, 200);
      assert.equal((await v1(s.url, '/account/roles', { token: t.access_token, tenant: tenantA.id })).status, 200);
      // Nobody deletes themselves; the delete needs users.delete.
      assert.equal((await v1(s.url, `/users/${alice.id}`, { method: 'DELETE', token: alice.token, tenant: tenantA.id })).status, 403);
      // Audit: one event per change.
      const ev = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${u.id}&action=tenant.member_deleted,tenant.member_restored`, { token: ADMIN_TOKEN });
      assert.deepEqual(ev.body.items.map((e: { action: string }) => e.action), ['tenant.member_restored', 'tenant.member_deleted']);
    });

    it('lists with search, per_page 1..100, page, sort_by, sort_order, is_active and role', async () => {
      const t = await createTenant(s.url);
      const role = await createRole(s.url, t.id, 'Sales', ['users.view']);
      const names = ['Zeynep Kaya', 'ahmet yilmaz', 'Ayşe Demir', 'Mehmet Öz', 'Can 100%_off'];
      const ids: number[] = [];
      for (const [i, name] of names.entries()) {
        const u = await createUser(s.url, { email: uniqueEmail(`list${i}`), name, is_active: i !== 3 });
        await addMember(s.url, t.id, u.id, i < 2 ? [role.id] : []);
        ids.push(u.id);
      }
      const get = (q: string) => v1(s.url, `/users${q}`, { token: ADMIN_TOKEN, tenant: t.id });
      const all = await get('');
      assert.equal(all.status, 200);
      assert.equal(all.body.meta.total, 5);
      assert.equal(all.body.meta.per_page, 15);
      assert.deepEqual(all.body.data.map((u: { id: number }) => u.id), ids);
      const p1 = await get('?per_page=2&page=1');
      const p3 = await get('?per_page=2&page=3');
      assert.deepEqual(p1.body.data.map((u: { id: number }) => u.id), ids.slice(0, 2));
      assert.deepEqual(p3.body.data.map((u: { id: number }) => u.id), ids.slice(4));
      assert.equal(p1.body.meta.last_page, 3);
      assert.equal(p1.body.meta.from, 1);
      assert.equal(p1.body.meta.to, 2);
      assert.ok(p1.body.links.next.includes('page=2'));
      assert.equal(p1.body.links.prev, null);
      assert.equal(p3.body.links.next, null);
      assert.equal((await get('?page=9')).body.data.length, 0);
      assert.equal((await get('?per_page=100')).status, 200);
      assert.equal((await get('?per_page=1')).body.data.length, 1);
      for (const bad of ['?per_page=0', '?per_page=101', '?per_page=abc', '?page=0', '?sort_by=password_hash', '?sort_order=up', '?is_active=maybe', '?trashed=all']) {
        const res = await get(bad);
        assert.equal(res.status, 422, bad);
        assert.equal(res.body.error, 'validation_error');
      }
      assert.deepEqual((await get('?per_page=101')).body.errors, { per_page: ['The per page field must not be greater than 100.'] });
      const byName = await get('?sort_by=name&sort_order=asc');
      assert.deepEqual(byName.body.data.map((u: { name: string }) => u.name), ['ahmet yilmaz', 'Ayşe Demir', 'Can 100%_off', 'Mehmet Öz', 'Zeynep Kaya']);
      const desc = await get('?sort_by=name&sort_order=desc');
      assert.deepEqual(desc.body.data.map((u: { name: string }) => u.name), ['Zeynep Kaya', 'Mehmet Öz', 'Can 100%_off', 'Ayşe Demir', 'ahmet yilmaz']);
      const byId = await get('?sort_by=id&sort_order=desc');
      assert.deepEqual(byId.body.data.map((u: { id: number }) => u.id), [...ids].reverse());
      assert.deepEqual((await get('?search=AYŞE')).body.data.map((u: { name: string }) => u.name), ['Ayşe Demir']);
      assert.deepEqual((await get('?search=yil')).body.data.map((u: { name: string }) => u.name), ['ahmet yilmaz']);
      assert.deepEqual((await get('?search=100%25_')).body.data.map((u: { name: string }) => u.name), ['Can 100%_off'], 'LIKE wildcards are literal');
      assert.equal((await get('?search=%25')).body.data.length, 1);
      assert.equal((await get('?search=list2')).body.data.length, 1, 'email matches too');
      assert.equal((await get('?is_active=false')).body.data.length, 1);
      assert.equal((await get('?is_active=1')).body.data.length, 4);
      assert.deepEqual((await get(`?role=${role.id}`)).body.data.map((u: { id: number }) => u.id), ids.slice(0, 2));
      assert.deepEqual((await get('?role=sales')).body.data.map((u: { id: number }) => u.id), ids.slice(0, 2));
      assert.equal((await get(`?role=${adminA.id}`)).body.data.length, 0, "another tenant's role matches nobody");
      assert.equal((await get('?role=nope&search=x&is_active=true&sort_by=email&sort_order=desc&trashed=with&per_page=3&page=2')).status, 200);
    });
  });
}
