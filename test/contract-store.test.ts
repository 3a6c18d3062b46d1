// Contract coverage for the decisions in docs/architecture.md that live below the surfaces: case-insensitive uniqueness kept
// by the database itself (normalised key columns with plain unique indexes, on both engines); SQLite durable
// by default (WAL, synchronous=FULL); opaque tokens are 32 random bytes stored only as SHA-256; password
// hashing never on the event loop; one session store under per-surface cookie names (a cookie of one
// surface is not a session on another).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, signIn, uniqueEmail } from './helpers/admin.js';
import { addMember, createClient, createTenant, passwordToken } from './helpers/directory.js';
import { parseConfig } from '../src/platform/config.js';
import { openStore } from '../src/store/db.js';
import { migrateToLatest } from '../src/store/migrate.js';

const sha256 = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');

describe('contract: SQLite is durable by default', () => {
  it('opens in WAL mode with synchronous=FULL unless told otherwise', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-contract-'));
    try {
      const config = parseConfig({ DATA_DIR: dir });
      assert.equal(config.sqliteSynchronous, 'FULL');
      const store = await openStore({ dataDir: config.dataDir, sqliteSynchronous: config.sqliteSynchronous });
      try {
        await migrateToLatest(store);
        const { sql } = await import('kysely');
        const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db);
        const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
        assert.equal(sync.rows[0].synchronous, 2, 'synchronous=FULL (2)');
        assert.equal(journal.rows[0].journal_mode, 'wal');
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const { engine, skip } of engines()) {
  describe(`contract: store-level decisions [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('the database itself refuses a second user with the same case-folded email or username key', async () => {
      const u = await createUser(s.url, { username: `KeyUser${Date.now()}`, password: 'key-pass-1' });
      const row = await s.store.db.selectFrom('users').selectAll().where('id', '=', u.id).executeTakeFirstOrThrow();
      const { id: _id, ...copy } = row;
      const now = new Date().toISOString();
      const base = { ...copy, created_at: now, updated_at: now, email_verified_at: null, last_login_at: null, seen_at: null, deleted_at: null };
      await assert.rejects(
        s.store.db.insertInto('users').values({ ...base, email: row.email!.toUpperCase(), username: null, username_key: null }).execute(),
        'a duplicate email_key is refused by a unique index',
      );
      await assert.rejects(
        s.store.db.insertInto('users').values({ ...base, email: 'other-' + row.email, email_key: 'other-' + row.email_key, username: row.username!.toUpperCase() }).execute(),
        'a duplicate username_key is refused by a unique index',
      );
      assert.equal(row.email_key, row.email!.toLowerCase());
      assert.equal(row.username_key, row.username!.toLowerCase());
    });

    it('opaque tokens (sessions, refresh, API, OAuth refresh) are 32 random bytes stored only as SHA-256', async () => {
      const tenant = await createTenant(s.url);
      const client = await createClient(s.url, ['password', 'refresh_token']);
      const u = await createUser(s.url, { email: uniqueEmail('opaque'), password: 'opaque-pass-1', is_admin: true });
      await addMember(s.url, tenant.id, u.id);
      const admin = await signIn(s.url, u.email, 'opaque-pass-1');
      const acc = await http(s.url, '/api/auth/login', { body: { email: u.email, password: 'opaque-pass-1' } });
      const ul = await http(s.url, '/auth/simple/login', { body: { username: u.email, password: 'opaque-pass-1' } });
      const oauth = await passwordToken(s.url, client, u.email, 'opaque-pass-1');
      const tok = await http(s.url, '/api/admin/api-tokens', { token: ADMIN_TOKEN, body: { name: 'opaque' } });
      assert.equal(tok.status, 201, tok.text);
      const apiSecret: string = tok.body.token ?? tok.body.secret;
      const raw = {
        'admin refresh': admin.refresh,
        'account session': acc.cookies['neptun-session'],
        'user-admin session': ul.cookies['unleash-session'],
        'OAuth refresh': oauth.refresh_token,
        'API token': apiSecret,
      };
      const dump = JSON.stringify({
        sessions: await s.store.db.selectFrom('sessions').selectAll().execute(),
        refresh: await s.store.db.selectFrom('refresh_tokens').selectAll().execute(),
        api: await s.store.db.selectFrom('api_tokens').selectAll().execute(),
      });
      const hashes = new Set([
        ...(await s.store.db.selectFrom('sessions').select('token_hash').execute()).map((r) => r.token_hash),
        ...(await s.store.db.selectFrom('refresh_tokens').select('token_hash').execute()).map((r) => r.token_hash),
        ...(await s.store.db.selectFrom('api_tokens').select('token_hash').execute()).map((r) => r.token_hash),
      ]);
      for (const [what, value] of Object.entries(raw)) {
        assert.ok(value, `${what} issued`);
        const decoded = decodeURIComponent(value);
        // An optional short prefix (e.g. "gha_"), then 43 base64url characters: 32 bytes.
        const body = decoded.slice(-43);
        assert.match(decoded.slice(0, -43), /^([a-z]+_)?$/i, `${what}: only a prefix before the random part`);
        assert.match(body, /^[A-Za-z0-9_-]{43}$/, `${what}: base64url`);
        assert.equal(Buffer.from(body, 'base64url').length, 32, `${what}: 32 random bytes`);
        assert.ok(!dump.includes(body), `${what}: the raw token is not stored`);
        assert.ok(hashes.has(sha256(decoded)), `${what}: stored as its SHA-256`);
      }
    });

    it('a session cookie of one surface is no session on another (one store, per-surface kinds)', async () => {
      const u = await createUser(s.url, { email: uniqueEmail('kinds'), password: 'kinds-pass-1', is_admin: true });
      const acc = await http(s.url, '/api/auth/login', { body: { email: u.email, password: 'kinds-pass-1' } });
      const ul = await http(s.url, '/auth/simple/login', { body: { username: u.email, password: 'kinds-pass-1' } });
      const admin = await signIn(s.url, u.email, 'kinds-pass-1');
      const accountToken = acc.cookies['neptun-session'];
      const uaToken = ul.cookies['unleash-session'];
      // Each works under its own name...
      assert.equal((await http(s.url, `/api/users/${u.id}`, { cookie: `neptun-session=${accountToken}` })).status, 200);
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie: `unleash-session=${uaToken}` })).status, 200);
      // ...and not under another surface's name.
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie: `unleash-session=${accountToken}` })).status, 401);
      assert.equal((await http(s.url, `/api/users/${u.id}`, { cookie: `neptun-session=${uaToken}` })).status, 401);
      assert.equal((await http(s.url, `/api/users/${u.id}`, { cookie: `neptun-session=${admin.refresh}` })).status, 401);
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie: `unleash-session=${admin.refresh}` })).status, 401);
      assert.equal((await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: `__Host-refresh=${accountToken}` })).status, 401);
      assert.equal((await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: `__Host-refresh=${uaToken}` })).status, 401);
    });

    it('password hashing runs off the event loop: the loop keeps turning while a hash or a verify is computed', async () => {
      // Counts event-loop turns while `work` runs: a hash computed on the loop would let none happen.
      const turnsDuring = async (work: () => Promise<unknown>) => {
        let turns = 0;
        let running = true;
        const spin = () => {
          if (!running) return;
          turns++;
          setImmediate(spin);
        };
        setImmediate(spin);
        await work();
        running = false;
        return turns;
      };
      const hash = await s.core.hasher.hash('loop-pass-1');
      assert.ok((await turnsDuring(() => s.core.hasher.hash('loop-pass-2'))) >= 3, 'the loop turns during a hash');
      assert.ok((await turnsDuring(() => s.core.hasher.verify(hash, 'loop-pass-1'))) >= 3, 'the loop turns during a verify');
      assert.ok((await turnsDuring(() => s.core.hasher.verify(null, 'loop-pass-1'))) >= 3, 'the loop turns during an unknown-user verify');
      // And over HTTP: health checks answer while a burst of sign-ins is being hashed.
      const u = await createUser(s.url, { email: uniqueEmail('loop'), password: 'loop-pass-1' });
      let loginsDone = 0;
      const logins = Array.from({ length: 8 }, () =>
        http(s.url, '/api/auth/login', { body: { email: u.email, password: 'loop-pass-1' } }).then((r) => { loginsDone++; return r; }));
      assert.equal((await http(s.url, '/healthz')).status, 200);
      const doneWhenHealthAnswered = loginsDone;
      for (const r of await Promise.all(logins)) assert.equal(r.status, 200);
      assert.ok(doneWhenHealthAnswered < 8, 'a health check answered before the burst of sign-ins was through');
    });
  });
}
