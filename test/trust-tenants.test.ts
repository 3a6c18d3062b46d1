// Directory v1: a tenant caller's power stops at the tenant (issue 16, finding 1). The users row (password,
// email, name, is_active, profile) is shared by every tenant of a user, so a tenant caller may change it
// only when their permissions in the current tenant cover every permission the target holds in any tenant
// and the target has no root role above Member; otherwise 403 and nothing is written. Roles and membership
// in the current tenant keep the tenant's own rule. Root callers and admin API tokens are not limited.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, uniqueEmail } from './helpers/admin.js';
import {
  ALL_PERMISSIONS, addMember, createClient, createRole, createTenant, member, passwordToken, tokenRequest, v1,
  type Client, type Member,
} from './helpers/directory.js';

const OUT_OF_REACH = 'This action is unauthorized: the user holds access that yours does not cover.';

for (const { engine, skip } of engines()) {
  describe(`directory: account changes across tenants [${engine}]`, { skip }, () => {
    let s: TestServer;
    let client: Client;
    let tenantA: { id: number };
    let tenantB: { id: number };
    let editorA: { id: number }; // users.view + users.update
    let assignerA: { id: number }; // users.view + users.update + roles.assign
    let deleterA: { id: number }; // users.view + users.delete
    let staffA: { id: number }; // users.view
    let managerB: { id: number }; // every permission
    let viewerB: { id: number }; // users.view
    let dave: Member;

    /** carol: a role-less member of A and a Manager in B, signed in. */
    async function carol(): Promise<Member> {
      const c = await member(s.url, client, tenantA.id, []);
      await addMember(s.url, tenantB.id, c.id, [managerB.id]);
      return c;
    }

    /** The target as a root caller sees it in tenant A: the resource and its ETag (the row's version). */
    async function snapshot(id: number): Promise<{ data: unknown; etag: string | null }> {
      const res = await v1(s.url, `/users/${id}`, { token: ADMIN_TOKEN, tenant: tenantA.id });
      assert.equal(res.status, 200, res.text);
      return { data: res.body.data, etag: res.headers.get('etag') };
    }

    const put = (id: number, body: unknown, token: string, method = 'PUT') => v1(s.url, `/users/${id}`, { method, token, tenant: tenantA.id, body });

    function assertOutOfReach(res: { status: number; body: any; text: string }, label: string): void {
      assert.equal(res.status, 403, `${label}: ${res.text}`);
      assert.deepEqual(res.body, { message: OUT_OF_REACH }, label);
    }

    before(async () => {
      s = await startServer(engine);
      client = await createClient(s.url);
      tenantA = await createTenant(s.url);
      tenantB = await createTenant(s.url);
      editorA = await createRole(s.url, tenantA.id, 'Editor', ['users.view', 'users.update']);
      assignerA = await createRole(s.url, tenantA.id, 'Assigner', ['users.view', 'users.update', 'roles.assign']);
      deleterA = await createRole(s.url, tenantA.id, 'Deleter', ['users.view', 'users.delete']);
      staffA = await createRole(s.url, tenantA.id, 'Staff', ['users.view']);
      managerB = await createRole(s.url, tenantB.id, 'Manager', ALL_PERMISSIONS);
      viewerB = await createRole(s.url, tenantB.id, 'Viewer', ['users.view']);
      dave = await member(s.url, client, tenantA.id, [editorA.id]);
    });
    after(async () => s?.close());

    it('the reproduction: a password set from tenant A for a Manager of tenant B is 403 and nothing changes', async () => {
      const c = await carol();
      const before = await snapshot(c.id);
      const res = await put(c.id, { password: 'taken-over-1', password_confirmation: 'taken-over-1' }, dave.token);
      assertOutOfReach(res, 'password');
      assert.deepEqual(await snapshot(c.id), before, 'the row is unchanged');
      // dave cannot sign in as carol; carol still signs in with her own password, and her token still works.
      const stolen = await tokenRequest(s.url, { grant_type: 'password', client_id: client.client_id, client_secret: client.secret, username: c.email, password: 'taken-over-1' });
      assert.equal(stolen.status, 400, stolen.text);
      await passwordToken(s.url, client, c.email, c.password);
      assert.equal((await v1(s.url, '/account/roles', { token: c.token, tenant: tenantB.id })).status, 200);
    });

    it('email, name, is_active, profile fields, PATCH and a mixed body with role_ids are refused the same way', async () => {
      const c = await carol();
      const before = await snapshot(c.id);
      const bodies: Array<[string, unknown, string?]> = [
        ['email', { email: uniqueEmail('hijack') }],
        ['name', { name: 'Not Carol' }],
        ['is_active false', { is_active: false }],
        ['is_active 0', { is_active: 0 }],
        ['title', { title: 'Intern' }],
        ['avatar_url', { avatar_url: 'https://example.com/a.png' }],
        ['password by PATCH', { password: 'taken-over-2', password_confirmation: 'taken-over-2' }, 'PATCH'],
        ['email by PATCH', { email: uniqueEmail('hijack') }, 'PATCH'],
      ];
      for (const [label, body, method] of bodies) assertOutOfReach(await put(c.id, body, dave.token, method), label);
      // With roles.assign too, a body that changes the account and the roles here is refused as a whole.
      const assigner = await member(s.url, client, tenantA.id, [assignerA.id]);
      assertOutOfReach(await put(c.id, { email: uniqueEmail('mixed'), role_ids: [staffA.id] }, assigner.token), 'mixed');
      assert.deepEqual(await snapshot(c.id), before, 'nothing was written (roles in A included)');
      await passwordToken(s.url, client, c.email, c.password);
      // Still active: carol's token still reads tenant B.
      assert.equal((await v1(s.url, '/users', { token: c.token, tenant: tenantB.id })).status, 200);
    });

    it('a role held only in a soft-deleted membership still counts (a restore brings it back)', async () => {
      const c = await carol();
      const bAdmin = await member(s.url, client, tenantB.id, [managerB.id]);
      const del = await v1(s.url, `/users/${c.id}`, { method: 'DELETE', token: bAdmin.token, tenant: tenantB.id });
      assert.equal(del.status, 200, del.text);
      assertOutOfReach(await put(c.id, { password: 'taken-over-3', password_confirmation: 'taken-over-3' }, dave.token), 'password');
      assertOutOfReach(await put(c.id, { is_active: false }, dave.token), 'is_active');
    });

    it('the rule is decided inside the write on fresh data: a role granted in B while the change waits is seen', async () => {
      // A role-less member of A and B: within dave's reach, until B makes them a Manager.
      const c = await member(s.url, client, tenantA.id, []);
      await addMember(s.url, tenantB.id, c.id);
      const before = await snapshot(c.id);
      let pending: ReturnType<typeof put> | undefined;
      await s.store.db.transaction().execute(async (trx) => {
        // What a role change in B holds while it runs: the membership row in B (on SQLite, the one writer).
        if (engine === 'postgres') await sql`select 1 from tenant_members where tenant_id = ${tenantB.id} and user_id = ${c.id} for update`.execute(trx);
        await trx.insertInto('tenant_user_roles').values({ tenant_id: tenantB.id, user_id: c.id, role_id: managerB.id, created_at: new Date().toISOString() }).execute();
        pending = put(c.id, { email: uniqueEmail('raced'), is_active: false }, dave.token);
        // dave's request has been checked against the old roles outside any transaction by now; its write
        // must wait for this grant and decide again.
        await sleep(500);
      });
      assertOutOfReach(await pending!, 'raced change');
      assert.deepEqual(await snapshot(c.id), before, 'nothing was written');
      await passwordToken(s.url, client, c.email, c.password);
    });

    it('a target whose permissions in every tenant the caller covers can be changed (200)', async () => {
      // Only in A, no roles.
      const plain = await member(s.url, client, tenantA.id, []);
      const res = await put(plain.id, { password: 'new-password-1', password_confirmation: 'new-password-1', title: 'Clerk' }, dave.token);
      assert.equal(res.status, 200, res.text);
      await passwordToken(s.url, client, plain.email, 'new-password-1');
      // In A and B, with only users.view in B (dave holds users.view in A), and a role-less member of A.
      const erin = await member(s.url, client, tenantA.id, []);
      await addMember(s.url, tenantB.id, erin.id, [viewerB.id]);
      const email = uniqueEmail('erin-new');
      const ok = await put(erin.id, { email, is_active: false }, dave.token);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.data.email, email);
      assert.equal(ok.body.data.is_active, false);
      // A Manager of A (every permission) covers carol's Manager role in B.
      const c = await carol();
      const mgrA = await createRole(s.url, tenantA.id, `Manager ${Date.now()}`, ALL_PERMISSIONS);
      const manager = await member(s.url, client, tenantA.id, [mgrA.id]);
      const byManager = await put(c.id, { password: 'managed-pass-1', password_confirmation: 'managed-pass-1' }, manager.token);
      assert.equal(byManager.status, 200, byManager.text);
      await passwordToken(s.url, client, c.email, 'managed-pass-1');
    });

    it('tenant-local changes (roles here, soft delete and restore here) keep the tenant rule', async () => {
      const c = await carol();
      const assigner = await member(s.url, client, tenantA.id, [assignerA.id]);
      const sync = await v1(s.url, `/users/${c.id}/roles`, { method: 'PUT', token: assigner.token, tenant: tenantA.id, body: { role_ids: [staffA.id] } });
      assert.equal(sync.status, 200, sync.text);
      assert.deepEqual(sync.body.data.roles.map((r: { id: number }) => r.id), [staffA.id]);
      const viaPut = await put(c.id, { role_ids: [] }, assigner.token);
      assert.equal(viaPut.status, 200, viaPut.text);
      assert.deepEqual(viaPut.body.data.roles, []);
      // A whole-form PUT that sends the account fields unchanged changes only the roles here: allowed.
      const current = (await snapshot(c.id)).data as { name: string | null; email: string };
      const form = await put(c.id, { email: current.email, ...(current.name ? { name: current.name } : {}), role_ids: [staffA.id] }, assigner.token);
      assert.equal(form.status, 200, form.text);
      assert.deepEqual(form.body.data.roles.map((r: { id: number }) => r.id), [staffA.id]);
      // Soft delete in A is the membership only: carol keeps her account and tenant B.
      const deleter = await member(s.url, client, tenantA.id, [deleterA.id]);
      const del = await v1(s.url, `/users/${c.id}`, { method: 'DELETE', token: deleter.token, tenant: tenantA.id });
      assert.equal(del.status, 200, del.text);
      const t = await passwordToken(s.url, client, c.email, c.password);
      assert.equal((await v1(s.url, '/users', { token: t.access_token, tenant: tenantB.id })).status, 200);
      const restore = await v1(s.url, `/users/${c.id}/restore`, { method: 'POST', token: deleter.token, tenant: tenantA.id });
      assert.equal(restore.status, 200, restore.text);
      // Callers still change their own account.
      const self = await put(dave.id, { title: 'Editor of A' }, dave.token);
      assert.equal(self.status, 200, self.text);
    });

    it('a target with a root role above Member is refused, even with no tenant roles anywhere', async () => {
      for (const rootRole of ['Editor', 'Viewer', 'Admin']) {
        const u = await createUser(s.url, { email: uniqueEmail(`root-${rootRole.toLowerCase()}`) });
        const set = await http(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', headers: { authorization: ADMIN_TOKEN }, body: { rootRole } });
        assert.equal(set.status, 200, set.text);
        await addMember(s.url, tenantA.id, u.id);
        const before = await snapshot(u.id);
        assertOutOfReach(await put(u.id, { password: 'taken-over-4', password_confirmation: 'taken-over-4' }, dave.token), `${rootRole}: password`);
        assertOutOfReach(await put(u.id, { title: 'x' }, dave.token), `${rootRole}: title`);
        assert.deepEqual(await snapshot(u.id), before, `${rootRole}: unchanged`);
      }
    });

    it('root callers (admin API token, root admin user) are not limited', async () => {
      const c = await carol();
      const byToken = await put(c.id, { password: 'reset-by-root-1', password_confirmation: 'reset-by-root-1' }, ADMIN_TOKEN);
      assert.equal(byToken.status, 200, byToken.text);
      await passwordToken(s.url, client, c.email, 'reset-by-root-1');
      const root = await passwordToken(s.url, client, ADMIN_EMAIL, ADMIN_PASSWORD);
      const email = uniqueEmail('by-root');
      const byRoot = await put(c.id, { email, is_active: false }, root.access_token);
      assert.equal(byRoot.status, 200, byRoot.text);
      assert.equal(byRoot.body.data.email, email);
      assert.equal(byRoot.body.data.is_active, false);
    });
  });
}
