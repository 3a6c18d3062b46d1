// Contract coverage (docs/contracts.md "Shared core rules" on passwords, docs/architecture.md on argon2id):
// imported bcrypt hashes verify on every sign-in route and are upgraded to argon2id on that login; stored
// hashes carry OWASP's parameters or stronger; the 8-character minimum holds on every surface; a password
// change through any surface ends every other session of that user on every surface.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { asSession, createUser, signIn, uniqueEmail, type AdminSession } from './helpers/admin.js';
import { addMember, createClient, createTenant, passwordToken, tokenRequest, v1, type Client } from './helpers/directory.js';

/** m, t, p of an argon2 PHC string. */
function argon2Params(hash: string): { m: number; t: number; p: number } {
  const m = /^\$argon2id\$v=19\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/.exec(hash);
  assert.ok(m, `not an argon2id PHC string: ${hash.slice(0, 30)}`);
  const params = Object.fromEntries(m[1].split(',').map((kv) => [kv[0], Number(kv.slice(2))]));
  return { m: params.m, t: params.t, p: params.p };
}

function assertOwasp(hash: string | null | undefined, where: string): void {
  assert.ok(hash, `${where}: a hash is stored`);
  const { m, t } = argon2Params(hash);
  assert.ok(m >= 19456, `${where}: m=${m} KiB is below OWASP's 19456`);
  assert.ok(t >= 2, `${where}: t=${t} is below OWASP's 2`);
}

for (const { engine, skip } of engines()) {
  describe(`contract: passwords across surfaces [${engine}]`, { skip }, () => {
    let s: TestServer;
    let client: Client;
    let tenant: { id: number };

    before(async () => {
      s = await startServer(engine);
      client = await createClient(s.url, ['password', 'refresh_token']);
      tenant = await createTenant(s.url);
    });
    after(async () => s?.close());

    const storedHash = async (id: number) =>
      (await s.store.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash;
    const setHash = (id: number, hash: string) => s.store.db.updateTable('users').set({ password_hash: hash }).where('id', '=', id).execute();

    // Each sign-in route of the four surfaces, answering true when the credentials were accepted.
    const signIns: Array<[string, (email: string, password: string) => Promise<boolean>]> = [
      ['admin POST /api/auth/sign-in', async (e, p) => (await http(s.url, '/api/auth/sign-in', { body: { identifier: e, password: p } })).status === 200],
      ['account POST /api/auth/login', async (e, p) => (await http(s.url, '/api/auth/login', { body: { email: e, password: p } })).status === 200],
      ['user-admin POST /auth/simple/login', async (e, p) => (await http(s.url, '/auth/simple/login', { body: { username: e, password: p } })).status === 200],
      ['directory POST /oauth/token (password grant)', async (e, p) =>
        (await tokenRequest(s.url, { grant_type: 'password', client_id: client.client_id, client_secret: client.secret, username: e, password: p })).status === 200],
    ];

    it('an imported bcrypt hash ($2a$, $2b$, $2y$) verifies on every sign-in route and is upgraded to argon2id on that login', async () => {
      let i = 0;
      for (const [route, signInWith] of signIns) {
        // Every prefix on the first route; one each on the others (the check is shared, the routes are not).
        const prefixes = route === signIns[0][0] ? ['$2a$', '$2b$', '$2y$'] : [['$2a$', '$2b$', '$2y$'][i % 3]];
        for (const prefix of prefixes) {
          const password = `bcrypt-pass-${++i}`;
          const email = uniqueEmail('bcrypt');
          const u = await createUser(s.url, { email, password: 'placeholder-pass-1' });
          await addMember(s.url, tenant.id, u.id);
          const imported = prefix + bcrypt.hashSync(password, 4).slice(4);
          await setHash(u.id, imported);

          assert.equal(await signInWith(email, 'wrong-password-1'), false, `${route} ${prefix}: wrong password refused`);
          assert.equal(await storedHash(u.id), imported, `${route} ${prefix}: a failed login upgrades nothing`);
          assert.equal(await signInWith(email, password), true, `${route} ${prefix}: the bcrypt password signs in`);
          const upgraded = await storedHash(u.id);
          assert.ok(upgraded?.startsWith('$argon2id$'), `${route} ${prefix}: upgraded to argon2id, got ${upgraded?.slice(0, 10)}`);
          assertOwasp(upgraded, `${route} ${prefix} upgrade`);
          assert.ok(await argon2.verify(upgraded!, password), 'the upgraded hash is of the same password');
          assert.equal(await signInWith(email, password), true, `${route} ${prefix}: signs in again under the argon2id hash`);
          assert.equal(await signInWith(email, 'placeholder-pass-1'), false, 'the pre-import password is gone');
        }
      }
      // The upgrade is a hash change, never written to the audit log with its secret.
      const events = await s.store.db.selectFrom('audit_events').select(['before_data', 'after_data']).execute();
      assert.ok(!/\$2[aby]\$|\$argon2/.test(JSON.stringify(events)), 'no hash of either kind in an audit event');
    });

    it('an argon2id hash with weaker parameters is re-hashed on login; a current one is never rewritten', async () => {
      const email = uniqueEmail('weak');
      const u = await createUser(s.url, { email, password: 'placeholder-pass-1' });
      const weak = await argon2.hash('weak-params-pass-1', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
      await setHash(u.id, weak);
      assert.equal((await http(s.url, '/api/auth/login', { body: { email, password: 'weak-params-pass-1' } })).status, 200);
      const now = await storedHash(u.id);
      assert.notEqual(now, weak);
      assertOwasp(now, 'after re-hash');
      // A hash already at the configured parameters is left alone (no re-hash and rewrite on every login).
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'weak-params-pass-1' } })).status, 200);
      assert.equal(await storedHash(u.id), now, 'a current hash is not rewritten on login');
    });

    it('every hash stored through every surface is argon2id with m >= 19456 KiB and t >= 2', async () => {
      const stored: Array<[string, number]> = [];
      // admin: create, PATCH password
      const a = await createUser(s.url, { password: 'admin-create-1' });
      stored.push(['admin POST /api/admin/users', a.id]);
      // account: sign-up
      const up = await http(s.url, '/api/auth/sign-up', { body: { email: uniqueEmail('signup'), password: 'signup-pass-1' } });
      assert.equal(up.status, 200, up.text);
      stored.push(['account POST /api/auth/sign-up', up.body.user.id]);
      // user-admin: create with password
      const ua = await http(s.url, '/api/admin/user-admin', { headers: { authorization: ADMIN_TOKEN }, body: { email: uniqueEmail('uac'), password: 'Str0ng-pass!word', rootRole: 'Viewer' } });
      assert.equal(ua.status, 201, ua.text);
      stored.push(['user-admin POST /api/admin/user-admin', ua.body.id]);
      // directory: create with password
      const dir = await v1(s.url, '/users', { token: ADMIN_TOKEN, tenant: tenant.id, body: { name: 'Dir Create', email: uniqueEmail('dirc'), password: 'dir-create-pass-1', password_confirmation: 'dir-create-pass-1' } });
      assert.equal(dir.status, 201, dir.text);
      stored.push(['directory POST /api/v1/users', dir.body.data.id]);
      for (const [where, id] of stored) assertOwasp(await storedHash(id), where);

      // And every password-changing route.
      const b = await createUser(s.url, { password: 'before-change-1' });
      await addMember(s.url, tenant.id, b.id);
      assert.equal((await http(s.url, `/api/admin/users/${b.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { password: 'after-admin-1' } })).status, 200);
      assertOwasp(await storedHash(b.id), 'admin PATCH');
      assert.equal((await v1(s.url, `/users/${b.id}`, { method: 'PUT', token: ADMIN_TOKEN, tenant: tenant.id, body: { password: 'after-dir-1', password_confirmation: 'after-dir-1' } })).status, 200);
      assertOwasp(await storedHash(b.id), 'directory PUT');
      assert.equal((await http(s.url, `/api/admin/user-admin/${b.id}/change-password`, { headers: { authorization: ADMIN_TOKEN }, body: { password: 'After-ua-pass-42' } })).status, 200);
      assertOwasp(await storedHash(b.id), 'user-admin change-password');
    });

    it('the 8-character minimum holds on every surface that takes a password (7 refused, nothing stored)', async () => {
      const u = await createUser(s.url, { password: 'minimum-base-1' });
      await addMember(s.url, tenant.id, u.id);
      const before = await storedHash(u.id);
      const seven = 'abc1234';
      const account = await http(s.url, '/api/auth/login', { body: { email: u.email, password: 'minimum-base-1' } });
      const accountCookie = `neptun-session=${account.cookies['neptun-session']}`;
      const checks: Array<[string, () => Promise<number>]> = [
        ['admin POST', async () => (await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: uniqueEmail('min'), password: seven } })).status],
        ['admin PATCH', async () => (await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { password: seven } })).status],
        ['account sign-up', async () => (await http(s.url, '/api/auth/sign-up', { body: { email: uniqueEmail('min'), password: seven } })).status],
        ['account PATCH', async () => (await http(s.url, `/api/users/${u.id}`, { method: 'PATCH', cookie: accountCookie, body: { password: seven } })).status],
        ['directory POST', async () => (await v1(s.url, '/users', { token: ADMIN_TOKEN, tenant: tenant.id, body: { name: 'Min', email: uniqueEmail('min'), password: seven, password_confirmation: seven } })).status],
        ['directory PUT', async () => (await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: ADMIN_TOKEN, tenant: tenant.id, body: { password: seven, password_confirmation: seven } })).status],
        ['user-admin POST', async () => (await http(s.url, '/api/admin/user-admin', { headers: { authorization: ADMIN_TOKEN }, body: { email: uniqueEmail('min'), password: 'Ab1!xyz', rootRole: 'Viewer' } })).status],
        ['user-admin change-password', async () => (await http(s.url, `/api/admin/user-admin/${u.id}/change-password`, { headers: { authorization: ADMIN_TOKEN }, body: { password: 'Ab1!xyz' } })).status],
      ];
      for (const [where, run] of checks) {
        const status = await run();
        assert.ok(status === 400 || status === 422, `${where}: a 7-character password answers ${status}`);
      }
      assert.equal(await storedHash(u.id), before, 'no refused change stored a hash');
      const created = await s.store.db.selectFrom('users').select('id').where('email_key', 'like', 'min.%').execute();
      assert.equal(created.length, 0, 'no refused create made a user');
    });

    // Opens one session of each kind for `email` and answers probes for each.
    async function everySession(id: number, email: string, password: string) {
      const admin = await signIn(s.url, email, password);
      const acc = await http(s.url, '/api/auth/login', { body: { email, password } });
      assert.equal(acc.status, 200, acc.text);
      const accountCookie = `neptun-session=${acc.cookies['neptun-session']}`;
      const ul = await http(s.url, '/auth/simple/login', { body: { username: email, password } });
      assert.equal(ul.status, 200, ul.text);
      const uaCookie = `unleash-session=${ul.cookies['unleash-session']}`;
      const oauth = await passwordToken(s.url, client, email, password);
      return {
        admin, accountCookie, uaCookie, oauth,
        alive: async () => ({
          admin: (await http(s.url, '/api/auth/session', { cookie: admin.cookie })).status,
          account: (await http(s.url, `/api/users/${id}`, { cookie: accountCookie })).status,
          useradmin: (await http(s.url, '/api/admin/user-admin', { cookie: uaCookie })).status,
          oauth: (await v1(s.url, '/account/roles', { token: oauth.access_token, tenant: tenant.id })).status,
        }),
        refreshesDead: async () => {
          assert.equal((await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: admin.cookie })).status, 401, 'admin refresh token revoked');
          const r = await tokenRequest(s.url, { grant_type: 'refresh_token', client_id: client.client_id, client_secret: client.secret, refresh_token: oauth.refresh_token });
          assert.equal(r.body.error, 'invalid_grant', 'OAuth refresh token revoked');
        },
      };
    }

    it('a password change through any surface ends every session and refresh token of the user on every surface', async () => {
      const ALIVE = { admin: 200, account: 200, useradmin: 200, oauth: 200 };
      const DEAD = { admin: 401, account: 401, useradmin: 401, oauth: 401 };
      const changes: Array<[string, (u: { id: number; email: string }, pw: string, next: string) => Promise<void>]> = [
        ['admin PATCH /api/admin/users/{id}', async (u, _pw, next) => {
          const r = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { password: next } });
          assert.equal(r.status, 200, r.text);
          assert.equal(r.body.sessions_revoked, 4);
        }],
        ['directory PUT /api/v1/users/{id}', async (u, _pw, next) => {
          const r = await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: ADMIN_TOKEN, tenant: tenant.id, body: { password: next, password_confirmation: next } });
          assert.equal(r.status, 200, r.text);
        }],
        ['user-admin POST /api/admin/user-admin/{id}/change-password', async (u, _pw, next) => {
          const r = await http(s.url, `/api/admin/user-admin/${u.id}/change-password`, { headers: { authorization: ADMIN_TOKEN }, body: { password: next } });
          assert.equal(r.status, 200, r.text);
        }],
      ];
      let n = 0;
      for (const [route, change] of changes) {
        const pw = `Before-Pass-${++n}x`;
        const next = `After-Pass-${n}x!`;
        const u = await createUser(s.url, { email: uniqueEmail('rev'), password: pw, is_admin: true });
        await addMember(s.url, tenant.id, u.id);
        const all = await everySession(u.id, u.email, pw);
        assert.deepEqual(await all.alive(), ALIVE, `${route}: every session works before`);
        await change(u, pw, next);
        assert.deepEqual(await all.alive(), DEAD, `${route}: every session ends at once`);
        await all.refreshesDead();
      }
    });

    it('a self-service password change (admin self route, account PATCH, directory PUT on oneself) keeps only the caller\'s session', async () => {
      const ALIVE = { admin: 200, account: 200, useradmin: 200, oauth: 200 };
      // Admin self route: the admin cookie session is the caller.
      {
        const u = await createUser(s.url, { email: uniqueEmail('self'), password: 'Self-pass-1x', is_admin: true });
        await addMember(s.url, tenant.id, u.id);
        const all = await everySession(u.id, u.email, 'Self-pass-1x');
        const caller: AdminSession = await signIn(s.url, u.email, 'Self-pass-1x');
        assert.deepEqual(await all.alive(), ALIVE);
        const r = await http(s.url, '/api/admin/users/me/password', { method: 'PATCH', ...asSession(caller), body: { current_password: 'Self-pass-1x', new_password: 'Self-pass-2x' } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.sessions_revoked, 4);
        assert.deepEqual(await all.alive(), { admin: 401, account: 401, useradmin: 401, oauth: 401 }, 'admin self route: others end');
        await all.refreshesDead();
        assert.equal((await http(s.url, '/api/auth/session', { cookie: caller.cookie })).status, 200, 'the caller stays signed in');
      }
      // Account PATCH: this session is refreshed, every other ends.
      {
        const u = await createUser(s.url, { email: uniqueEmail('self'), password: 'Self-pass-3x', is_admin: true });
        await addMember(s.url, tenant.id, u.id);
        const all = await everySession(u.id, u.email, 'Self-pass-3x');
        const me = await http(s.url, '/api/auth/login', { body: { email: u.email, password: 'Self-pass-3x' } });
        const r = await http(s.url, `/api/users/${u.id}`, { method: 'PATCH', cookie: `neptun-session=${me.cookies['neptun-session']}`, body: { password: 'Self-pass-4x' } });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(await all.alive(), { admin: 401, account: 401, useradmin: 401, oauth: 401 }, 'account PATCH: others end');
        await all.refreshesDead();
        assert.equal((await http(s.url, `/api/users/${u.id}`, { cookie: `neptun-session=${r.cookies['neptun-session']}` })).status, 200);
      }
      // Directory PUT on oneself with an OAuth token.
      {
        const u = await createUser(s.url, { email: uniqueEmail('self'), password: 'Self-pass-5x', is_admin: true });
        await addMember(s.url, tenant.id, u.id);
        const all = await everySession(u.id, u.email, 'Self-pass-5x');
        const mine = await passwordToken(s.url, client, u.email, 'Self-pass-5x');
        const r = await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: mine.access_token, tenant: tenant.id, body: { password: 'Self-pass-6x', password_confirmation: 'Self-pass-6x' } });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(await all.alive(), { admin: 401, account: 401, useradmin: 401, oauth: 401 }, 'directory PUT: others end');
        await all.refreshesDead();
        assert.equal((await v1(s.url, '/account/roles', { token: mine.access_token, tenant: tenant.id })).status, 200);
      }
    });
  });
}
