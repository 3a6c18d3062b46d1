// Contract coverage (docs/contracts.md admin auth "checked against the store on every request", "Sessions: one
// store"; docs/architecture.md "Revocation is visible to every node on the next request"): two Gatehouse nodes on one
// database. Sessions of every kind made on node A work on node B, and a revocation made on one node is
// refused by the other on the very next request, with no wait for a cache or a token expiry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { asSession, createUser, signIn, uniqueEmail } from './helpers/admin.js';
import { addMember, createClient, createTenant, passwordToken, v1, type Client } from './helpers/directory.js';

for (const { engine, skip } of engines()) {
  describe(`contract: session revocation across nodes [${engine}]`, { skip }, () => {
    let a: TestServer;
    let b: TestServer;
    let client: Client;
    let tenant: { id: number };

    before(async () => {
      a = await startServer(engine);
      b = await startServer(engine, { db: a.db });
      client = await createClient(a.url, ['password', 'refresh_token']);
      tenant = await createTenant(a.url);
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    /** One session of each kind, made on node A, with probes against any node. */
    async function sessionsOnA(password: string) {
      const u = await createUser(a.url, { email: uniqueEmail('node'), password, is_admin: true });
      await addMember(a.url, tenant.id, u.id);
      const admin = await signIn(a.url, u.email, password);
      const acc = await http(a.url, '/api/auth/login', { body: { email: u.email, password } });
      const accountCookie = `neptun-session=${acc.cookies['neptun-session']}`;
      const ul = await http(a.url, '/auth/simple/login', { body: { username: u.email, password } });
      const uaCookie = `unleash-session=${ul.cookies['unleash-session']}`;
      const oauth = await passwordToken(a.url, client, u.email, password);
      const probe = async (base: string) => ({
        admin: (await http(base, '/api/auth/session', { cookie: admin.cookie })).status,
        account: (await http(base, `/api/users/${u.id}`, { cookie: accountCookie })).status,
        useradmin: (await http(base, '/api/admin/user-admin', { cookie: uaCookie })).status,
        oauth: (await v1(base, '/account/roles', { token: oauth.access_token, tenant: tenant.id })).status,
      });
      return { u, admin, accountCookie, uaCookie, oauth, probe };
    }
    const ALIVE = { admin: 200, account: 200, useradmin: 200, oauth: 200 };
    const DEAD = { admin: 401, account: 401, useradmin: 401, oauth: 401 };

    it('sessions of every kind made on one node work on the other', async () => {
      const x = await sessionsOnA('node-pass-1');
      assert.deepEqual(await x.probe(a.url), ALIVE);
      assert.deepEqual(await x.probe(b.url), ALIVE);
    });

    it('sign-out-all on node B ends every session on node A at once (after A has just served them)', async () => {
      const x = await sessionsOnA('node-pass-2');
      assert.deepEqual(await x.probe(a.url), ALIVE, 'warm on A');
      const out = await http(b.url, '/api/auth/sign-out-all', { method: 'POST', ...asSession(x.admin) });
      assert.equal(out.status, 200, out.text);
      assert.deepEqual(await x.probe(a.url), DEAD, 'refused on A on the next request');
      assert.deepEqual(await x.probe(b.url), DEAD);
    });

    it('a password change or deactivation on node B is refused on node A at once; so is a sign-out', async () => {
      const x = await sessionsOnA('node-pass-3');
      assert.deepEqual(await x.probe(a.url), ALIVE);
      const pw = await http(b.url, `/api/admin/users/${x.u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { password: 'node-pass-3b' } });
      assert.equal(pw.status, 200, pw.text);
      assert.deepEqual(await x.probe(a.url), DEAD, 'password change on B');

      const y = await sessionsOnA('node-pass-4');
      assert.deepEqual(await y.probe(a.url), ALIVE);
      const off = await http(b.url, `/api/admin/user-admin/${y.u.id}`, { method: 'DELETE', headers: { authorization: ADMIN_TOKEN } });
      assert.equal(off.status, 200, off.text);
      assert.deepEqual(await y.probe(a.url), DEAD, 'deletion on B');

      const z = await sessionsOnA('node-pass-5');
      assert.deepEqual(await z.probe(a.url), ALIVE);
      const deact = await v1(b.url, `/users/${z.u.id}`, { method: 'PUT', token: ADMIN_TOKEN, tenant: tenant.id, body: { is_active: false } });
      assert.equal(deact.status, 200, deact.text);
      assert.deepEqual(await z.probe(a.url), DEAD, 'deactivation on B');

      // Signing out one session on B (account logout, user-admin logout, admin sign-out) is seen on A.
      const w = await sessionsOnA('node-pass-6');
      assert.deepEqual(await w.probe(a.url), ALIVE);
      assert.equal((await http(b.url, '/api/auth/logout', { method: 'POST', cookie: w.accountCookie })).status, 200);
      assert.equal((await fetch(`${b.url}/logout`, { method: 'POST', headers: { cookie: w.uaCookie }, redirect: 'manual' })).status, 302);
      assert.equal((await http(b.url, '/api/auth/sign-out', { method: 'POST', cookie: w.admin.cookie, headers: { 'x-csrf-token': w.admin.csrf } })).status, 200);
      assert.deepEqual(await w.probe(a.url), { ...DEAD, oauth: 200 }, 'each sign-out on B ends that session on A; the OAuth one lives on');
    });

    it('a rotated admin refresh token replayed on the other node revokes the family on both', async () => {
      const x = await sessionsOnA('node-pass-7');
      const r1 = await http(a.url, '/api/auth/refresh', { method: 'POST', cookie: x.admin.cookie, headers: { 'x-csrf-token': x.admin.csrf } });
      assert.equal(r1.status, 200, r1.text);
      const replay = await http(b.url, '/api/auth/refresh', { method: 'POST', cookie: x.admin.cookie, headers: { 'x-csrf-token': x.admin.csrf } });
      assert.equal(replay.status, 401, 'the spent token is refused on B');
      const newCookie = `__Host-access=${r1.cookies['__Host-access']}; __Host-refresh=${r1.cookies['__Host-refresh']}`;
      assert.equal((await http(a.url, '/api/auth/session', { cookie: newCookie })).status, 401, 'the family is revoked, seen on A');
    });
  });
}
