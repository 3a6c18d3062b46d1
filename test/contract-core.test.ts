// Contract coverage for "One core under four surfaces" and the "Shared core rules" that every surface must
// keep: one user seen alike through all four, is_admin ⇔ root role Admin/Owner, unknown fields and
// `__proto__` never stored, every update one transaction (a failing part rolls back the rest, in a 500
// without internals in each surface's shape), ETags shared across surfaces, no secret in any response or
// audit event after a scripted session across surfaces.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http, type Req, type Res } from './helpers/http.js';
import { createUser, signIn, uniqueEmail } from './helpers/admin.js';
import { addMember, createClient, createTenant, passwordToken, v1, type Client } from './helpers/directory.js';

const ROOT = { Admin: 1, Editor: 2, Viewer: 3, Owner: 4, Member: 5 } as const;

for (const { engine, skip } of engines()) {
  describe(`contract: one core under four surfaces [${engine}]`, { skip }, () => {
    let s: TestServer;
    let client: Client;
    let tenant: { id: number };
    // Every response body seen in this file, scanned for secrets at the end.
    const seen: string[] = [];
    const track = async (p: Promise<Res>) => {
      const r = await p;
      seen.push(r.text, JSON.stringify([...r.headers.entries()].filter(([k]) => k !== 'set-cookie')));
      return r;
    };

    before(async () => {
      s = await startServer(engine);
      client = await createClient(s.url, ['password', 'refresh_token']);
      tenant = await createTenant(s.url);
    });
    after(async () => s?.close());

    const admin = (path: string, r: Req = {}) => track(http(s.url, path, { token: ADMIN_TOKEN, ...r }));
    const ua = (path: string, r: Req = {}) => track(http(s.url, path, { ...r, headers: { authorization: ADMIN_TOKEN, ...(r.headers ?? {}) } }));
    const dir = (path: string, r: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) =>
      track(v1(s.url, path, { token: ADMIN_TOKEN, tenant: tenant.id, ...r }));
    const row = (id: number) => s.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const auditCount = async () => Number((await s.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    /** The user as each surface shows it. */
    async function views(id: number, accountCookie?: string) {
      const a = await admin(`/api/admin/users/${id}`);
      assert.equal(a.status, 200, a.text);
      const u = await ua(`/api/admin/user-admin/${id}`);
      assert.equal(u.status, 200, u.text);
      const d = await dir(`/users/${id}`);
      assert.equal(d.status, 200, d.text);
      const acc = accountCookie ? await track(http(s.url, `/api/users/${id}`, { cookie: accountCookie })) : undefined;
      if (acc) assert.equal(acc.status, 200, acc.text);
      return { admin: a.body.item, useradmin: u.body, directory: d.body.data, account: acc?.body.user, etags: [a, u, d, acc].filter(Boolean).map((r) => r!.headers.get('etag')) };
    }

    function assertConsistent(v: Awaited<ReturnType<typeof views>>, expect: { email: string; username?: string | null; name?: string | null; avatar?: string | null }) {
      assert.equal(v.admin.email, expect.email, 'admin email');
      assert.equal(v.useradmin.email, expect.email, 'user-admin email');
      assert.equal(v.directory.email, expect.email, 'directory email');
      if (v.account) assert.equal(v.account.primary_email, expect.email, 'account primary_email');
      if (expect.username !== undefined) {
        assert.equal(v.admin.username, expect.username, 'admin username');
        assert.equal(v.useradmin.username ?? null, expect.username, 'user-admin username');
      }
      if (expect.name !== undefined) {
        assert.equal(v.directory.name ?? null, expect.name, 'directory name');
        assert.equal(v.useradmin.name ?? null, expect.name, 'user-admin name');
      }
      if (expect.avatar !== undefined) {
        assert.equal(v.directory.avatar_url ?? null, expect.avatar, 'directory avatar_url');
        // imageUrl = avatar_url; with no avatar the user-admin surface falls back to a gravatar, as Unleash does.
        if (expect.avatar === null) assert.ok(v.useradmin.imageUrl === null || String(v.useradmin.imageUrl).startsWith('https://gravatar.com/avatar/'), `user-admin imageUrl with no avatar: ${v.useradmin.imageUrl}`);
        else assert.equal(v.useradmin.imageUrl, expect.avatar, 'user-admin imageUrl = avatar_url');
      }
      assert.equal(new Set([v.admin.id, v.useradmin.id, v.directory.id, ...(v.account ? [v.account.id] : [])]).size, 1, 'one id');
      assert.equal(new Set(v.etags).size, 1, `one ETag (one version) across surfaces: ${v.etags.join(' ')}`);
    }

    it('a user created through any surface is visible through all four with the same fields', async () => {
      // admin POST
      const e1 = uniqueEmail('via-admin');
      const a = await admin('/api/admin/users', { body: { email: e1, username: `via-admin-${process.pid}`, password: 'via-admin-pass-1' } });
      assert.equal(a.status, 201, a.text);
      // account sign-up
      const e2 = uniqueEmail('via-account');
      const b = await track(http(s.url, '/api/auth/sign-up', { body: { email: e2, password: 'via-account-pass-1' } }));
      assert.equal(b.status, 200, b.text);
      // directory POST (member of the tenant by construction)
      const e3 = uniqueEmail('via-directory');
      const c = await dir('/users', { body: { name: 'Via Directory', email: e3, password: 'via-dir-pass-1', password_confirmation: 'via-dir-pass-1', avatar_url: 'https://img.example.com/d.png' } });
      assert.equal(c.status, 201, c.text);
      // user-admin POST
      const e4 = uniqueEmail('via-ua');
      const d = await ua('/api/admin/user-admin', { body: { email: e4, name: 'Via Useradmin', username: `via-ua-${process.pid}`, password: 'Via-ua-pass-42!', rootRole: 'Viewer' } });
      assert.equal(d.status, 201, d.text);

      const created: Array<{ id: number; email: string; password: string; username?: string | null; name?: string | null; avatar?: string | null }> = [
        { id: a.body.item.id, email: e1, password: 'via-admin-pass-1', username: `via-admin-${process.pid}` },
        { id: b.body.user.id, email: e2, password: 'via-account-pass-1' },
        { id: c.body.data.id, email: e3, password: 'via-dir-pass-1', name: 'Via Directory', avatar: 'https://img.example.com/d.png' },
        { id: d.body.id, email: e4, password: 'Via-ua-pass-42!', username: `via-ua-${process.pid}`, name: 'Via Useradmin' },
      ];
      for (const u of created) {
        if (u.id !== c.body.data.id) await addMember(s.url, tenant.id, u.id);
        const login = await track(http(s.url, '/api/auth/login', { body: { email: u.email, password: u.password } }));
        assert.equal(login.status, 200, login.text);
        assertConsistent(await views(u.id, `neptun-session=${login.cookies['neptun-session']}`), u);
      }

      // An edit on each surface shows on the others, field for field.
      const id = created[0].id;
      const e5 = uniqueEmail('edited');
      assert.equal((await dir(`/users/${id}`, { method: 'PUT', body: { name: 'Edited Name', avatar_url: 'https://img.example.com/x.png' } })).status, 200);
      assert.equal((await ua(`/api/admin/user-admin/${id}`, { method: 'PUT', body: { email: e5.toUpperCase() } })).status, 200);
      assert.equal((await admin(`/api/admin/users/${id}`, { method: 'PATCH', body: { username: 'edited-username' } })).status, 200);
      assertConsistent(await views(id), { email: e5, username: 'edited-username', name: 'Edited Name', avatar: 'https://img.example.com/x.png' });
      const r = await row(id);
      assert.equal(r.avatar_url, 'https://img.example.com/x.png', 'imageUrl and avatar_url are one column');
      // Clearing on one surface clears on the others.
      assert.equal((await dir(`/users/${id}`, { method: 'PUT', body: { avatar_url: null } })).status, 200);
      assert.equal((await admin(`/api/admin/users/${id}`, { method: 'PATCH', body: { name: null } })).status, 200);
      assertConsistent(await views(id), { email: e5, name: null, avatar: null });
    });

    it('is_admin ⇔ root role Admin or Owner, in both directions across surfaces', async () => {
      const u = await createUser(s.url, { password: 'role-pass-1' });
      await addMember(s.url, tenant.id, u.id);
      const isAdmin = async () => (await admin(`/api/admin/users/${u.id}`)).body.item.is_admin;
      const rootRole = async () => (await ua(`/api/admin/user-admin/${u.id}`)).body.rootRole;
      assert.equal(await isAdmin(), false);
      assert.equal(await rootRole(), ROOT.Member, 'a plain user is a Member');
      for (const [role, admin_] of [['Owner', true], ['Editor', false], ['Admin', true], ['Viewer', false], [ROOT.Owner, true], ['Member', false]] as const) {
        const put = await ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { rootRole: role } });
        assert.equal(put.status, 200, put.text);
        assert.equal(await isAdmin(), admin_, `rootRole ${role} → is_admin ${admin_}`);
      }
      // is_admin:true gives Admin; false takes it away (Member), whatever admin role it was.
      assert.equal((await admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { is_admin: true } })).body.item.is_admin, true);
      assert.equal(await rootRole(), ROOT.Admin);
      assert.equal((await admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { is_admin: false } })).status, 200);
      assert.equal(await rootRole(), ROOT.Member);
      await ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { rootRole: 'Owner' } });
      assert.equal((await admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { is_admin: false } })).status, 200);
      assert.equal(await rootRole(), ROOT.Member, 'an Owner demoted through is_admin:false is a Member');
      // An Owner sent is_admin:true stays an Owner (already an admin: nothing to change).
      await ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { rootRole: 'Owner' } });
      assert.equal((await admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { is_admin: true } })).status, 200);
      assert.equal(await rootRole(), ROOT.Owner, 'is_admin:true keeps an Owner an Owner');
      // An Editor with is_admin:true becomes Admin; the user list agrees with the single read.
      await ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { rootRole: 'Editor' } });
      await admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { is_admin: true } });
      assert.equal(await rootRole(), ROOT.Admin);
      const list = await ua('/api/admin/user-admin');
      assert.equal(list.body.users.find((x: any) => x.id === u.id).rootRole, ROOT.Admin);
      // And the rights follow: the user-admin surface (ADMIN permission) lets them in after is_admin:true.
      const login = await track(http(s.url, '/auth/simple/login', { body: { username: u.email, password: 'role-pass-1' } }));
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie: `unleash-session=${login.cookies['unleash-session']}` })).status, 200);
      await admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { is_admin: false } });
      const login2 = await track(http(s.url, '/auth/simple/login', { body: { username: u.email, password: 'role-pass-1' } }));
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie: `unleash-session=${login2.cookies['unleash-session']}` })).status, 403);
    });

    it('unknown fields and __proto__ keys are ignored or refused on every surface, and never stored', async () => {
      const u = await createUser(s.url, { password: 'unknown-pass-1' });
      await addMember(s.url, tenant.id, u.id);
      const acc = await track(http(s.url, '/api/auth/login', { body: { email: u.email, password: 'unknown-pass-1' } }));
      const accountCookie = `neptun-session=${acc.cookies['neptun-session']}`;
      const before = await row(u.id);
      const smuggled = {
        password_hash: '$argon2id$v=19$m=19456,t=2,p=1$smuggled$smuggled', root_role_id: ROOT.Owner, rootRoleId: ROOT.Owner, is_admin: true,
        version: 999, id: 424242, deleted_at: '2000-01-01T00:00:00Z', created_at: '2000-01-01T00:00:00Z', email_verified_at: '2000-01-01T00:00:00Z',
        login_attempts: 77, last_login_ip: '6.6.6.6', account_type: 'Service', username_key: 'x', email_key: 'x', roles: [{ id: 1 }],
      };
      const { is_admin: _skip, ...smuggledForAdmin } = smuggled;
      const attempts: Array<[string, () => Promise<Res>, Record<string, unknown>]> = [
        ['admin PATCH', () => admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { ...smuggledForAdmin, name: 'Admin Set' } }), { name: 'Admin Set' }],
        ['account PATCH', () => track(http(s.url, `/api/users/${u.id}`, { method: 'PATCH', cookie: accountCookie, body: { ...smuggled, email: u.email } })), {}],
        ['directory PUT', () => dir(`/users/${u.id}`, { method: 'PUT', body: { ...smuggled, title: 'Dir Set' } }), { title: 'Dir Set' }],
        ['user-admin PUT', () => ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { ...smuggled, name: 'Ua Set' } }), { name: 'Ua Set' }],
      ];
      for (const [where, run, expectChange] of attempts) {
        const res = await run();
        assert.ok(res.status === 200 || (res.status >= 400 && res.status < 500), `${where}: ${res.status} ${res.text.slice(0, 200)}`);
        const now = await row(u.id);
        for (const k of ['password_hash', 'root_role_id', 'id', 'deleted_at', 'created_at', 'email_verified_at', 'login_attempts', 'last_login_ip', 'account_type', 'username_key', 'email_key'] as const) {
          assert.deepEqual(now[k], before[k], `${where}: ${k} is not the client's to set`);
        }
        if (res.status === 200) for (const [k, v] of Object.entries(expectChange)) assert.equal((now as any)[k], v, `${where}: the known field landed`);
        assert.ok(!JSON.stringify(res.body ?? {}).includes('smuggled'), `${where}: nothing smuggled comes back`);
      }
      // __proto__ on every surface: refused or ignored, never a 500, never a role change or a polluted prototype.
      const protoBodies: Array<[string, () => Promise<Res>]> = [
        ['admin', () => admin(`/api/admin/users/${u.id}`, { method: 'PATCH', raw: '{"__proto__":{"is_admin":true,"root_role_id":4},"name":"p1"}', headers: { 'content-type': 'application/json' } })],
        ['account', () => track(http(s.url, `/api/users/${u.id}`, { method: 'PATCH', cookie: accountCookie, raw: `{"__proto__":{"password":"proto-pass-1"},"constructor":{"prototype":{"x":1}},"email":"${u.email}"}`, headers: { 'content-type': 'application/json' } }))],
        ['directory', () => dir(`/users/${u.id}`, { method: 'PUT', raw: '{"__proto__":{"role_ids":[1],"is_active":false},"name":"p3"}' })],
        ['user-admin', () => ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', raw: '{"__proto__":{"rootRole":"Owner"},"name":"p4"}', headers: { 'content-type': 'application/json' } })],
        ['user-admin create', () => ua('/api/admin/user-admin', { raw: `{"__proto__":{"rootRole":"Owner"},"email":"${uniqueEmail('proto')}"}`, headers: { 'content-type': 'application/json' } })],
        ['directory create', () => dir('/users', { raw: `{"__proto__":{"is_active":false},"name":"P","email":"${uniqueEmail('proto')}","password":"proto-pass-9","password_confirmation":"proto-pass-9"}` })],
      ];
      for (const [where, run] of protoBodies) {
        const res = await run();
        assert.ok(res.status < 500, `${where}: ${res.status} ${res.text.slice(0, 200)}`);
        const now = await row(u.id);
        assert.equal(now.root_role_id, before.root_role_id, `${where}: no role change through __proto__`);
        assert.equal(now.password_hash, before.password_hash, `${where}: no password change through __proto__`);
        assert.equal(now.is_active, 1, `${where}: no deactivation through __proto__`);
        assert.equal(({} as any).is_admin, undefined, 'Object.prototype is not polluted');
        assert.equal(({} as any).rootRole, undefined, 'Object.prototype is not polluted');
      }
      const created = await s.store.db.selectFrom('users').select(['root_role_id', 'is_active']).where('email_key', 'like', 'proto.%').execute();
      for (const c of created) {
        assert.notEqual(c.root_role_id, ROOT.Owner, 'a created user does not become Owner through __proto__');
        assert.equal(c.is_active, 1);
      }
    });

    it('a request that changes nothing is answered as each page says, and writes nothing (no event, no new version)', async () => {
      const u = await createUser(s.url, { password: 'noop-pass-1', username: `noop${Date.now()}` });
      await addMember(s.url, tenant.id, u.id);
      const acc = await track(http(s.url, '/api/auth/login', { body: { email: u.email, password: 'noop-pass-1' } }));
      const accountCookie = `neptun-session=${acc.cookies['neptun-session']}`;
      const before = await row(u.id);
      const events = await auditCount();
      const empty = await admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: {} });
      assert.equal(empty.status, 400, 'admin: {} is 400');
      assert.equal(empty.body.reason, 'empty_patch');
      const accEmpty = await track(http(s.url, `/api/users/${u.id}`, { method: 'PATCH', cookie: accountCookie, body: {} }));
      assert.equal(accEmpty.status, 400, 'account: {} is 400');
      const dirEmpty = await dir(`/users/${u.id}`, { method: 'PUT', body: {} });
      assert.equal(dirEmpty.status, 200, `directory: {} is 200 (every field optional): ${dirEmpty.text}`);
      assert.equal(dirEmpty.body.data.email, u.email);
      const uaEmpty = await ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', body: {} });
      assert.equal(uaEmpty.status, 200, 'user-admin: {} is a valid no-op');
      assert.equal(uaEmpty.body.email, u.email);
      // Sending the current values is no change either.
      assert.equal((await dir(`/users/${u.id}`, { method: 'PUT', body: { email: u.email } })).status, 200);
      assert.equal((await ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { email: u.email, rootRole: 'Member' } })).status, 200);
      assert.deepEqual(await row(u.id), before, 'the row (and its version) is untouched');
      assert.equal(await auditCount(), events, 'no audit event for a change that did not happen');
    });

    it('an ETag read on one surface goes stale when another surface changes the user (412 everywhere)', async () => {
      const u = await createUser(s.url, { password: 'etag-pass-1' });
      await addMember(s.url, tenant.id, u.id);
      const acc = await track(http(s.url, '/api/auth/login', { body: { email: u.email, password: 'etag-pass-1' } }));
      let accountCookie = `neptun-session=${acc.cookies['neptun-session']}`;
      const etag = async () => (await admin(`/api/admin/users/${u.id}`)).headers.get('etag')!;
      const stale = await etag();
      assert.ok(stale);
      // A change through the admin surface makes every surface's copy stale.
      assert.equal((await admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { name: 'bump' } })).status, 200);
      const before = await row(u.id);
      const tries: Array<[string, () => Promise<Res>]> = [
        ['admin PATCH', () => admin(`/api/admin/users/${u.id}`, { method: 'PATCH', headers: { 'if-match': stale }, body: { name: 'stale-1' } })],
        ['admin DELETE', () => admin(`/api/admin/users/${u.id}`, { method: 'DELETE', headers: { 'if-match': stale } })],
        ['account PATCH', () => track(http(s.url, `/api/users/${u.id}`, { method: 'PATCH', cookie: accountCookie, headers: { 'if-match': stale }, body: { email: uniqueEmail('stale') } }))],
        ['directory PUT', () => dir(`/users/${u.id}`, { method: 'PUT', headers: { 'if-match': stale }, body: { name: 'stale-3' } })],
        ['user-admin PUT', () => ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', headers: { 'if-match': stale }, body: { name: 'stale-4' } })],
        ['user-admin DELETE', () => ua(`/api/admin/user-admin/${u.id}`, { method: 'DELETE', headers: { 'if-match': stale } })],
      ];
      for (const [where, run] of tries) {
        const res = await run();
        assert.equal(res.status, 412, `${where}: ${res.status} ${res.text.slice(0, 200)}`);
        assert.deepEqual(await row(u.id), before, `${where}: nothing changed`);
      }
      // A fresh ETag from any surface works on any other.
      const fresh = (await ua(`/api/admin/user-admin/${u.id}`)).headers.get('etag')!;
      const ok = await dir(`/users/${u.id}`, { method: 'PUT', headers: { 'if-match': fresh }, body: { name: 'fresh' } });
      assert.equal(ok.status, 200, ok.text);
      const acc2 = await track(http(s.url, '/api/auth/login', { body: { email: u.email, password: 'etag-pass-1' } }));
      accountCookie = `neptun-session=${acc2.cookies['neptun-session']}`;
      assert.equal((await track(http(s.url, `/api/users/${u.id}`, { method: 'PATCH', cookie: accountCookie, headers: { 'if-match': ok.headers.get('etag')! }, body: { email: uniqueEmail('fresh') } }))).status, 200);
    });

    it('every update is one transaction: when its audit write fails, nothing of it lands, on every surface (500 without internals)', async () => {
      const u = await createUser(s.url, { email: uniqueEmail('tx'), password: 'tx-pass-1', is_admin: true });
      await addMember(s.url, tenant.id, u.id);
      const adminSession = await signIn(s.url, u.email, 'tx-pass-1');
      const acc = await track(http(s.url, '/api/auth/login', { body: { email: u.email, password: 'tx-pass-1' } }));
      const accountCookie = `neptun-session=${acc.cookies['neptun-session']}`;
      const oauth = await passwordToken(s.url, client, u.email, 'tx-pass-1');
      const before = await row(u.id);
      const sessionsBefore = await s.store.db.selectFrom('sessions').select(['id', 'revoked_at']).where('user_id', '=', u.id).orderBy('id').execute();
      const eventsBefore = await auditCount();

      await sql`alter table audit_events rename to audit_events_off`.execute(s.store.db);
      const results: Array<[string, Res]> = [];
      try {
        results.push(['admin', await admin(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { name: 'tx-name', password: 'tx-new-pass-1', is_active: 0 } })]);
        results.push(['account', await track(http(s.url, `/api/users/${u.id}`, { method: 'PATCH', cookie: accountCookie, body: { email: uniqueEmail('tx-new'), password: 'tx-new-pass-2' } }))]);
        results.push(['directory', await dir(`/users/${u.id}`, { method: 'PUT', body: { name: 'tx-dir', title: 'T', password: 'tx-new-pass-3', password_confirmation: 'tx-new-pass-3', is_active: false } })]);
        results.push(['user-admin', await ua(`/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { name: 'tx-ua', email: uniqueEmail('tx-ua'), rootRole: 'Viewer' } })]);
        results.push(['user-admin change-password', await ua(`/api/admin/user-admin/${u.id}/change-password`, { body: { password: 'Tx-new-pass-42!' } })]);
      } finally {
        await sql`alter table audit_events_off rename to audit_events`.execute(s.store.db);
      }
      for (const [where, res] of results) {
        assert.equal(res.status, 500, `${where}: ${res.status} ${res.text.slice(0, 200)}`);
        assert.ok(!/audit_events|sqlite|postgres|relation|no such table|select|insert|update |\.ts:\d|\.js:\d|\bat [A-Za-z]/i.test(res.text), `${where}: no internals in ${res.text}`);
      }
      const [a, acct, d, uadm, uadm2] = results.map(([, r]) => r.body);
      assert.deepEqual(Object.keys(a).sort(), ['error', 'reason', 'where'], 'admin 500 shape');
      assert.equal(a.error, 'internal_error');
      assert.deepEqual(Object.keys(acct).sort(), ['message', 'statusCode', 'statusMessage'], 'account 500 is h3-shaped');
      assert.equal(acct.statusCode, 500);
      assert.equal(typeof d.message, 'string', 'directory 500 is {message}');
      for (const e of [uadm, uadm2]) {
        assert.match(e.id, /^[0-9a-f-]{36}$/, 'user-admin 500 has an error id');
        assert.equal(typeof e.name, 'string');
        assert.equal(typeof e.message, 'string');
      }
      assert.deepEqual(await row(u.id), before, 'no part of any failed update landed');
      const sessionsAfter = await s.store.db.selectFrom('sessions').select(['id', 'revoked_at']).where('user_id', '=', u.id).orderBy('id').execute();
      assert.deepEqual(sessionsAfter, sessionsBefore, 'no session was revoked by a failed update');
      assert.equal(await auditCount(), eventsBefore);
      // Every session still works and the old password still signs in.
      assert.equal((await http(s.url, '/api/auth/session', { cookie: adminSession.cookie })).status, 200);
      assert.equal((await http(s.url, `/api/users/${u.id}`, { cookie: accountCookie })).status, 200);
      assert.equal((await v1(s.url, '/account/roles', { token: oauth.access_token, tenant: tenant.id })).status, 200);
      assert.equal((await http(s.url, '/api/auth/login', { body: { email: u.email, password: 'tx-pass-1' } })).status, 200);
    });

    it('no secret reaches a response or an audit event after a scripted session across all four surfaces', async () => {
      const secrets = ['script-pass-1', 'script-pass-2', 'Script-pass-3!', 'script-pass-4', 'script-pass-5'];
      const email = uniqueEmail('script');
      const created = await admin('/api/admin/users', { body: { email, password: secrets[0], is_admin: true } });
      const id = created.body.item.id;
      await addMember(s.url, tenant.id, id);
      const tokens: string[] = [ADMIN_TOKEN];
      const signed = await track(http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: secrets[0] } }));
      tokens.push(signed.cookies['__Host-access'], signed.cookies['__Host-refresh']);
      const acc = await track(http(s.url, '/api/auth/login', { body: { email, password: secrets[0] } }));
      tokens.push(acc.cookies['neptun-session']);
      await track(http(s.url, `/api/users/${id}`, { method: 'PATCH', cookie: `neptun-session=${acc.cookies['neptun-session']}`, body: { password: secrets[1] } }));
      await ua(`/api/admin/user-admin/${id}/change-password`, { body: { password: secrets[2] } });
      await ua('/api/admin/user-admin/validate-password', { body: { password: secrets[2] } });
      const ul = await track(http(s.url, '/auth/simple/login', { body: { username: email, password: secrets[2] } }));
      tokens.push(ul.cookies['unleash-session']);
      const pat = await track(http(s.url, '/api/admin/user/tokens', { cookie: `unleash-session=${ul.cookies['unleash-session']}`, body: { description: 'script', expiresAt: new Date(Date.now() + 86400_000).toISOString() } }));
      if (pat.body?.secret) tokens.push(pat.body.secret);
      const o = await track(http(s.url, '/oauth/token', { body: { grant_type: 'password', client_id: client.client_id, client_secret: client.secret, username: email, password: secrets[2] } }));
      assert.equal(o.status, 200, o.text);
      tokens.push(o.body.refresh_token, client.secret);
      await dir(`/users/${id}`, { method: 'PUT', body: { password: secrets[3], password_confirmation: secrets[3] } });
      const self = await signIn(s.url, email, secrets[3]);
      await track(http(s.url, '/api/admin/users/me/password', { method: 'PATCH', cookie: self.cookie, headers: { 'x-csrf-token': self.csrf }, body: { current_password: secrets[3], new_password: secrets[4] } }));
      await admin(`/api/admin/users/${id}`, { method: 'PATCH', body: { password: 'script-pass-6' } });
      secrets.push('script-pass-6');
      const tok = await admin('/api/admin/api-tokens', { body: { name: 'script token' } });
      assert.equal(tok.status, 201, tok.text);
      const apiSecret: string = tok.body.token ?? tok.body.secret;
      assert.ok(apiSecret, `the new API token's secret is shown once: ${Object.keys(tok.body)}`);
      // Reads on every surface, including the two audit views.
      await admin(`/api/admin/users/${id}`);
      await admin('/api/admin/users');
      await admin('/api/admin/audit-events?limit=200');
      await ua('/api/admin/events');
      await ua(`/api/admin/user-admin/${id}`);
      await ua('/api/admin/user-admin');
      await dir(`/users/${id}`);
      await dir('/users?per_page=100');
      await admin('/api/admin/api-tokens');
      await admin('/api/admin/oauth-clients');

      const hashes = (await s.store.db.selectFrom('users').select('password_hash').execute()).map((r) => r.password_hash).filter((h): h is string => !!h);
      const everyResponse = seen.join('\n').replace(apiSecret, '').replace(tok.text, '');
      const audit = JSON.stringify(await s.store.db.selectFrom('audit_events').selectAll().execute());
      const forbidden = [...secrets, ...hashes, ...tokens.filter(Boolean), ADMIN_PASSWORD];
      for (const f of forbidden) {
        assert.ok(!audit.includes(f), `an audit event holds a secret (${f.slice(0, 12)}…)`);
      }
      assert.ok(!audit.includes(apiSecret), 'an audit event holds the API token secret');
      assert.ok(!/\$argon2|\$2[aby]\$/.test(audit), 'no hash in the audit log');
      for (const f of [...secrets, ...hashes, ADMIN_PASSWORD, ADMIN_TOKEN]) {
        assert.ok(!everyResponse.includes(f), `a response body holds a secret (${f.slice(0, 12)}…)`);
      }
      assert.ok(!/\$argon2|\$2[aby]\$|password_hash|token_hash/.test(everyResponse), 'no hash or hash column in any response');
      assert.ok(ADMIN_EMAIL);
    });
  });
}
