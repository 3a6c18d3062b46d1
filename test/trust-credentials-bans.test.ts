// The credential policy (docs/credentials.md), columns ban, ban lifted, revoking ban, revoking ban lifted:
// every kind of credential obtained, the event caused, each credential presented again over HTTP and compared
// with its cell of the table (test/helpers/credentials.ts), on both engines. With issue 16's finding 2 as
// reported: a personal token outliving a revoking ban, and refresh under a ban that did not revoke.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { cookieHeader, http } from './helpers/http.js';
import { tokenRequest } from './helpers/directory.js';
import { cause, checkColumn, KINDS, makeWorld, obtain, probe, TABLE, uniq, type World } from './helpers/credentials.js';

for (const { engine, skip } of engines()) {
  describe(`credential policy: bans [${engine}]`, { skip }, () => {
    let s: TestServer;
    let w: World;
    const ban = async (body: Record<string, unknown>) => {
      const res = await http(s.url, '/api/admin/bans', { token: ADMIN_TOKEN, body });
      assert.equal(res.status, 201, res.text);
      return res.body.item.id as number;
    };
    before(async () => {
      s = await startServer(engine);
      w = await makeWorld(s.url);
    });
    after(async () => s?.close());

    for (const event of ['ban', 'ban_lifted', 'revoking_ban', 'revoking_ban_lifted'] as const) {
      it(`${event}: every credential kind as the table says`, async () => {
        await checkColumn(w, event);
      });
    }

    it('finding 2: after an email ban with revoke_sessions, the personal token neither reads tenant data nor mints tokens', async () => {
      const x = await obtain(w);
      const read = () => http(s.url, '/api/v1/users', { token: x.pat, headers: { 'x-tenant': String(w.tenantId) } });
      assert.equal((await read()).status, 200, 'the token reads tenant data before the ban');
      await ban({ ban_type: 'email', ban_value: x.email, revoke_sessions: true });
      assert.equal((await read()).status, 401);
      const mint = await http(s.url, '/api/admin/user/tokens', {
        headers: { authorization: x.pat }, body: { description: uniq('pat'), expiresAt: new Date(Date.now() + 86400_000).toISOString() },
      });
      assert.equal(mint.status, 401, mint.text);
      // The token was ended for good: it stays refused once the ban is lifted.
      const list = await http(s.url, '/api/admin/bans?limit=100', { token: ADMIN_TOKEN });
      for (const b of list.body.items.filter((i: any) => i.ban_value === x.email)) {
        assert.equal((await http(s.url, `/api/admin/bans/${b.id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 200);
      }
      assert.equal((await read()).status, 401);
    });

    for (const type of ['email', 'name', 'domain'] as const) {
      it(`finding 2: an active ${type} ban without revoke_sessions refuses admin refresh, OAuth refresh, new grants, token use and minting`, async () => {
        const x = await obtain(w);
        const value = type === 'email' ? x.email : type === 'name' ? x.username : x.email.split('@')[1];
        if (type === 'domain') {
          // A domain ban matches every user of the domain: give this subject a domain of its own first.
          const own = `${uniq('d')}.example`;
          const moved = await http(s.url, `/api/admin/users/${x.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { email: `${x.username}@mail.${own}` } });
          assert.equal(moved.status, 200, moved.text);
          x.email = `${x.username}@mail.${own}`;
        }
        const id = await ban({ ban_type: type, ban_value: type === 'domain' ? x.email.split('@')[1].replace(/^mail\./, '') : value });
        const refresh = await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: cookieHeader({ '__Host-refresh': x.a.refresh }), headers: { 'x-csrf-token': x.a.csrf } });
        assert.equal(refresh.status, 401, `admin refresh: ${refresh.text}`);
        const oauth = await tokenRequest(s.url, { grant_type: 'refresh_token', client_id: w.client.client_id, client_secret: w.client.secret, refresh_token: x.oauthRefresh });
        assert.equal(oauth.status, 400, `OAuth refresh: ${oauth.text}`);
        assert.equal(oauth.body.error, 'invalid_grant');
        const grant = await tokenRequest(s.url, { grant_type: 'password', client_id: w.client.client_id, client_secret: w.client.secret, username: x.username, password: 'Subject-password-1!' });
        assert.equal(grant.status, 400, `password grant: ${grant.text}`);
        assert.equal((await http(s.url, '/api/admin/user', { headers: { authorization: x.pat } })).status, 401, 'personal token');
        assert.equal((await http(s.url, '/api/admin/users?limit=1', { token: x.adminToken })).status, 401, 'admin token made by the banned user');
        const mintAdmin = await http(s.url, '/api/admin/api-tokens', {
          cookie: cookieHeader({ '__Host-access': x.a.access }), headers: { 'x-csrf-token': x.a.csrf }, body: { name: uniq('t') },
        });
        assert.equal(mintAdmin.status, 401, `minting with the access cookie: ${mintAdmin.text}`);
        // The refresh tokens were not spent: once the ban is lifted, they work.
        assert.equal((await http(s.url, `/api/admin/bans/${id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 200);
        const after = await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: cookieHeader({ '__Host-refresh': x.a.refresh }), headers: { 'x-csrf-token': x.a.csrf } });
        assert.equal(after.status, 200, after.text);
        const oauthAfter = await tokenRequest(s.url, { grant_type: 'refresh_token', client_id: w.client.client_id, client_secret: w.client.secret, refresh_token: x.oauthRefresh });
        assert.equal(oauthAfter.status, 200, oauthAfter.text);
      });
    }

    it('a ban and a concurrent email change never miss each other: the change is refused or the user is banned', async () => {
      const pairs = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
        const res = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: `${uniq('race')}@example.com`, password: 'password-123' } });
        assert.equal(res.status, 201, res.text);
        return { id: res.body.item.id as number, target: `${uniq(`target${i}`)}@example.com` };
      }));
      const outcomes = await Promise.all(pairs.map(async (p) => {
        const [change, banned] = await Promise.all([
          http(s.url, `/api/admin/users/${p.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { email: p.target } }),
          http(s.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'email', ban_value: p.target } }),
        ]);
        assert.equal(banned.status, 201, banned.text);
        assert.ok(change.status === 200 || (change.status === 403 && change.body.error === 'banned'), `${change.status} ${change.text}`);
        return { ...p, changed: change.status === 200 };
      }));
      const missed: number[] = [];
      for (const o of outcomes.filter((o) => o.changed)) {
        const row = await s.store.db.selectFrom('users').select('banned_until').where('id', '=', o.id).executeTakeFirstOrThrow();
        if (row.banned_until === null) missed.push(o.id);
      }
      assert.deepEqual(missed, [], 'users holding a banned email with no ban standing');
    });

    it('a name ban on a client_credentials service account refuses its grant while active', async () => {
      const made = await http(s.url, '/api/admin/oauth-clients', { token: ADMIN_TOKEN, body: { name: uniq('svc'), grant_types: ['client_credentials'] } });
      assert.equal(made.status, 201, made.text);
      const grant = () => tokenRequest(s.url, { grant_type: 'client_credentials', client_id: made.body.item.client_id, client_secret: made.body.client_secret });
      assert.equal((await grant()).status, 200);
      const id = await ban({ ban_type: 'name', ban_value: `oauth-client-${made.body.item.client_id}` });
      const refused = await grant();
      assert.equal(refused.status, 400, refused.text);
      assert.equal(refused.body.error, 'unauthorized_client');
      assert.equal((await http(s.url, `/api/admin/bans/${id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 200);
      assert.equal((await grant()).status, 200);
    });

    it('a ban that ends (expires_at) lets the credentials work again without any write', async () => {
      const x = await obtain(w);
      await ban({ ban_type: 'email', ban_value: x.email, expires_at: new Date(Date.now() + 1500).toISOString() });
      assert.equal((await http(s.url, '/api/admin/user', { headers: { authorization: x.pat } })).status, 401);
      await new Promise((r) => setTimeout(r, 1700));
      assert.equal((await http(s.url, '/api/admin/user', { headers: { authorization: x.pat } })).status, 200);
    });

    it('changing a banned user\'s email away from the ban gives the credentials back; a ban edited onto a user takes them', async () => {
      const x = await obtain(w);
      await ban({ ban_type: 'email', ban_value: x.email });
      assert.equal((await http(s.url, '/api/admin/user', { headers: { authorization: x.pat } })).status, 401);
      const moved = await http(s.url, `/api/admin/users/${x.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { email: `${uniq('moved')}@example.com` } });
      assert.equal(moved.status, 200, moved.text);
      assert.equal((await http(s.url, '/api/admin/user', { headers: { authorization: x.pat } })).status, 200);
      const other = await ban({ ban_type: 'name', ban_value: uniq('nobody') });
      const edit = await http(s.url, `/api/admin/bans/${other}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { ban_value: x.username } });
      assert.equal(edit.status, 200, edit.text);
      assert.equal((await http(s.url, '/api/admin/user', { headers: { authorization: x.pat } })).status, 401);
      const revoke = await http(s.url, `/api/admin/bans/${other}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { revoked: true } });
      assert.equal(revoke.status, 200, revoke.text);
      assert.equal((await http(s.url, '/api/admin/user', { headers: { authorization: x.pat } })).status, 200);
    });
  });
}

for (const { engine, skip } of engines()) {
  describe(`credential policy: a ban on one node, the next request on another [${engine}]`, { skip }, () => {
    let a: TestServer;
    let b: TestServer;
    let w: World;
    before(async () => {
      a = await startServer(engine);
      b = await startServer(engine, { db: a.db });
      w = await makeWorld(a.url);
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    it('every credential made on node A is refused on node B at once when A bans its user, and works again when A lifts it', async () => {
      const x = await obtain(w);
      const onB: World = { ...w, url: b.url };
      await cause(w, x, 'ban');
      for (const kind of KINDS) {
        const got = await probe(onB, x, kind);
        assert.equal(got.verdict, TABLE[kind].ban, `${kind} on node B: ${got.res.status} ${got.res.text.slice(0, 120)}`);
      }
      const bans = await http(a.url, '/api/admin/bans?limit=100', { token: ADMIN_TOKEN });
      for (const item of bans.body.items.filter((i: any) => i.ban_value === x.email || i.ban_value === x.invitee.email)) {
        assert.equal((await http(a.url, `/api/admin/bans/${item.id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 200);
      }
      for (const kind of KINDS) {
        const got = await probe(onB, x, kind);
        assert.equal(got.verdict, 'ok', `${kind} on node B after the ban is lifted: ${got.res.status} ${got.res.text.slice(0, 120)}`);
      }
    });
  });
}
