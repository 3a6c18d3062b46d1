// Migration 0011 on a database written by an older release (docs/credentials.md, "Upgrading"): admin API
// tokens learn the user they act for from created_by (following tokens made by tokens), a token whose maker
// is gone is deleted, and users matched by bans active at upgrade time are banned until those bans end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Migrator, type Migration } from 'kysely';
import { ADMIN_TOKEN, engines, freshDatabase, startServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { openStore } from '../src/store/db.js';
import { parseConfig } from '../src/platform/config.js';
import { migrations } from '../src/store/migrations/index.js';
import { sha256Hex } from '../src/platform/crypto.js';

for (const { engine, skip } of engines()) {
  describe(`credential policy: upgrading to migration 0011 [${engine}]`, { skip }, () => {
    it('fills api_tokens.creator_user_id and users.banned_until from what an older release wrote', async () => {
      const db = await freshDatabase(engine);
      const config = parseConfig({ ...db.env });
      const old = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteSynchronous: 'NORMAL', pgPoolSize: 2, pgReadLanes: 0 });
      const list: Record<string, Migration> = {};
      for (const m of migrations.filter((m) => m.name < '0011')) list[m.name] = { up: (k) => m.up(k, engine) };
      const migrated = await new Migrator({
        db: old.db, provider: { getMigrations: async () => list },
        migrationTableName: 'gatehouse_migrations', migrationLockTableName: 'gatehouse_migrations_lock',
      }).migrateToLatest();
      assert.equal(migrated.error, undefined);

      const now = new Date().toISOString();
      const user = async (email: string, root: number) => (await old.db.insertInto('users').values({
        email, email_key: email, username: null, username_key: null, name: null, name_key: null, email_verified_at: now,
        password_hash: null, is_active: 1, root_role_id: root, account_type: 'User', avatar_url: null, phone: null, title: null,
        emergency_contact_name: null, emergency_contact_surname: null, emergency_contact_phone_number: null, blood_group: null,
        bio: null, languages: null, login_attempts: 0, last_login_at: null, last_login_ip: null, seen_at: null,
        created_at: now, updated_at: now, deleted_at: null, version: 1,
      } as never).returning('id').executeTakeFirstOrThrow()).id as number;
      const maker = await user('maker@example.com', 5);
      const banned = await user('banned@sub.banned.example', 5);
      const free = await user('free@example.com', 5);
      const token = async (secret: string, createdBy: string) => Number((await old.db.insertInto('api_tokens').values({
        name: secret, token_hash: sha256Hex(secret), kind: 'admin', user_id: null, created_by: createdBy,
        created_at: now, expires_at: null, last_used_at: null,
      } as never).returning('id').executeTakeFirstOrThrow()).id);
      const byMaker = await token('gha_made_by_the_maker_000000000', `user:${maker}`);
      await token('gha_made_by_a_token_00000000000', `api_token:${byMaker}`);
      await token('gha_made_by_someone_gone_000000', 'user:999999');
      await token('gha_made_by_the_system_00000000', 'system');
      const ban = (type: string, value: string, expires: string | null) => old.db.insertInto('bans').values({
        ban_type: type, ban_value: value, reason: null, created_at: now, updated_at: now, expires_at: expires,
        revoked_at: null, revoked_reason: null, created_by: 'test', version: 1,
      } as never).execute();
      await ban('domain', 'banned.example', null);
      await ban('email', 'free@example.com', '2020-01-01T00:00:00.000Z');
      await old.close();

      const s = await startServer(engine, { db });
      try {
        const rows = await s.store.db.selectFrom('api_tokens').select(['name', 'creator_user_id']).orderBy('id').execute();
        const creators = Object.fromEntries(rows.map((r) => [r.name, r.creator_user_id]));
        assert.equal(creators.gha_made_by_the_maker_000000000, maker);
        assert.equal(creators.gha_made_by_a_token_00000000000, maker, 'a token made by a token acts for the same user');
        assert.ok(!('gha_made_by_someone_gone_000000' in creators), 'the token whose maker is gone was deleted');
        assert.equal(creators.gha_made_by_the_system_00000000, null, 'a system token has no user');
        const standing = await s.store.db.selectFrom('users').select(['id', 'banned_until']).where('id', 'in', [banned, free]).execute();
        const until = Object.fromEntries(standing.map((r) => [r.id, r.banned_until === null ? null : new Date(r.banned_until).toISOString()]));
        assert.equal(until[banned], '9999-12-31T23:59:59.999Z', 'matched by an active domain ban without an end');
        assert.equal(until[free], null, 'an expired ban bans nobody');
        // Over HTTP: the maker is a Member, so the tokens acting for them have no admin power; the system's has.
        assert.equal((await http(s.url, '/api/admin/users?limit=1', { token: 'gha_made_by_the_maker_000000000' })).status, 403);
        assert.equal((await http(s.url, '/api/admin/users?limit=1', { token: 'gha_made_by_a_token_00000000000' })).status, 403);
        assert.equal((await http(s.url, '/api/admin/users?limit=1', { token: 'gha_made_by_someone_gone_000000' })).status, 401);
        assert.equal((await http(s.url, '/api/admin/users?limit=1', { token: 'gha_made_by_the_system_00000000' })).status, 200);
        assert.equal((await http(s.url, '/api/admin/users?limit=1', { token: ADMIN_TOKEN })).status, 200);
      } finally {
        await s.close();
      }
    });
  });
}
