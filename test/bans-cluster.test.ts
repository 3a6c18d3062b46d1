// Two Gatehouse nodes on one database: a ban made on one node applies on the other, and its revocation
// stops on both, without a database read per request (each node caches the ip bans in memory).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser } from './helpers/admin.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const { engine, skip } of engines()) {
  describe(`bans across nodes [${engine}]`, { skip }, () => {
    let a: TestServer;
    let b: TestServer;
    // PostgreSQL nodes are told by NOTIFY (the version poll there is only a 10 s fallback); SQLite nodes
    // read the version row about once a second.
    const within = engine === 'postgres' ? 1500 : 3000;
    const from = (node: TestServer, ip: string) => http(node.url, '/api/admin/users?limit=1', { token: ADMIN_TOKEN, headers: { 'x-forwarded-for': ip } });
    const waitFor = async (node: TestServer, ip: string, status: number, limitMs = within): Promise<number> => {
      const t0 = Date.now();
      for (;;) {
        const res = await from(node, ip);
        if (res.status === status) return Date.now() - t0;
        if (Date.now() - t0 > limitMs) assert.fail(`${ip} on the other node: still ${res.status} after ${limitMs} ms (wanted ${status})`);
        await sleep(25);
      }
    };

    before(async () => {
      const env = { GATEHOUSE_TRUST_PROXY: '1' };
      a = await startServer(engine, { env });
      b = await startServer(engine, { env, db: a.db });
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    it('an ip ban created on node A applies on node B, and revoking it on B lifts it on A', async () => {
      // Both caches are loaded and warm before the change.
      assert.equal((await from(a, '198.51.100.60')).status, 200);
      assert.equal((await from(b, '198.51.100.60')).status, 200);
      const res = await http(a.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'ip', ban_value: '198.51.100.0/24' } });
      assert.equal(res.status, 201, res.text);
      assert.equal((await from(a, '198.51.100.60')).status, 403, 'the writing node applies it at once');
      await waitFor(b, '198.51.100.60', 403);
      const rev = await http(b.url, `/api/admin/bans/${res.body.item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { revoked: true } });
      assert.equal(rev.status, 200);
      assert.equal((await from(b, '198.51.100.60')).status, 200);
      await waitFor(a, '198.51.100.60', 200);
    });

    it('deleting and moving expiry on one node are seen by the other', async () => {
      const res = await http(a.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'ip', ban_value: '2001:db8:60::/48' } });
      await waitFor(b, '2001:db8:60::1', 403);
      await http(b.url, `/api/admin/bans/${res.body.item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { expires_at: '2020-01-01T00:00:00Z' } });
      await waitFor(a, '2001:db8:60::1', 200);
      await http(a.url, `/api/admin/bans/${res.body.item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { expires_at: null } });
      await waitFor(b, '2001:db8:60::1', 403);
      await http(b.url, `/api/admin/bans/${res.body.item.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      await waitFor(a, '2001:db8:60::1', 200);
    });

    it('email bans made on one node refuse sign-in on the other at once (they are read in the transaction)', async () => {
      const user = await createUser(a.url);
      const ban = await http(a.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'email', ban_value: user.email } });
      assert.equal(ban.status, 201);
      const res = await http(b.url, '/api/auth/sign-in', { body: { identifier: user.email, password: 'password-123' } });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.error, 'banned');
    });

    it('steady state costs no database read per request: the cache serves repeated checks', async () => {
      // Let the change of the previous test reach this node first.
      await sleep(engine === 'sqlite' ? 1300 : 300);
      const before = { ...b.core.bans.ipCache.stats };
      for (let i = 0; i < 20; i++) await from(b, `192.0.2.${i + 1}`);
      const afterStats = b.core.bans.ipCache.stats;
      assert.equal(afterStats.reloads, before.reloads, 'no reload without a change');
      // At most the periodic version checks of the elapsed time (a few per second), never one per request.
      assert.ok(afterStats.versionChecks - before.versionChecks < 20);
    });

    it('PostgreSQL: a lost LISTEN connection is re-opened and changes made meanwhile are picked up', { skip: engine !== 'postgres' }, async () => {
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and query ilike 'listen gatehouse_bans%' and pid <> pg_backend_pid()`.execute(a.store.db);
      const res = await http(a.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'ip', ban_value: '198.18.0.7' } });
      assert.equal(res.status, 201);
      // Re-connect after about a second, then reload.
      await waitFor(b, '198.18.0.7', 403, 4000);
      await http(a.url, `/api/admin/bans/${res.body.item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { revoked: true } });
      await waitFor(b, '198.18.0.7', 200, 4000);
      // And notifications flow again afterwards.
      const again = await http(a.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'ip', ban_value: '198.18.0.8' } });
      assert.equal(again.status, 201);
      await waitFor(b, '198.18.0.8', 403, 1500);
    });
  });
}
