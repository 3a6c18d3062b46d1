// Bans (email, domain, ip, name) with a change counter for node caches, and aliases (the resource bans act on).
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../sql.js';
import { columnTypes, idColumn, idType, type VersionedMigration } from './types.js';

async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const t = columnTypes(engine);

  await db.schema
    .createTable('bans')
    .addColumn('id', idType(engine), idColumn(engine))
    .addColumn('ban_type', 'text', (c) => c.notNull())
    // Normalised value (lower-case mailbox/domain/name key, canonical ip or CIDR); byte-wise for prefix search.
    .addColumn('ban_value', t.key, (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp)
    .addColumn('revoked_at', t.timestamp)
    .addColumn('revoked_reason', 'text')
    .addColumn('created_by', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addCheckConstraint('bans_type_known', sql`ban_type in ('email', 'domain', 'ip', 'name')`)
    .execute();
  // One unrevoked ban per type and value: a second one would only hide which of them applies.
  await db.schema.createIndex('bans_unrevoked_uq').on('bans').columns(['ban_type', 'ban_value']).unique()
    .where(sql.ref('revoked_at'), 'is', null).execute();
  await db.schema.createIndex('bans_type_value_idx').on('bans').columns(['ban_type', 'ban_value', 'id']).execute();

  // Bumped in the same transaction as every ban change: nodes compare it to know their cache is stale.
  await db.schema
    .createTable('bans_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', idType(engine, 'bigint'), (c) => c.notNull())
    .execute();
  await db.insertInto('bans_state').values({ id: 1, version: 0 }).execute();

  await db.schema
    .createTable('aliases')
    .addColumn('id', idType(engine), idColumn(engine))
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('address_key', t.key, (c) => c.notNull())
    // The local part of the address, case-folded (name bans match it).
    .addColumn('address_local', t.key, (c) => c.notNull())
    .addColumn('goto', 'text', (c) => c.notNull())
    .addColumn('goto_key', t.key, (c) => c.notNull())
    // The domain of goto (domain bans match it and its parents).
    .addColumn('goto_domain', t.key, (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created', t.timestamp, (c) => c.notNull())
    .addColumn('modified', t.timestamp, (c) => c.notNull())
    .addCheckConstraint('aliases_active_bool', sql`active in (0, 1)`)
    .execute();
  await db.schema.createIndex('aliases_address_key_uq').on('aliases').column('address_key').unique().execute();
  await db.schema.createIndex('aliases_goto_key_idx').on('aliases').columns(['goto_key', 'active']).execute();
  await db.schema.createIndex('aliases_goto_domain_idx').on('aliases').columns(['goto_domain', 'active']).execute();
  await db.schema.createIndex('aliases_address_local_idx').on('aliases').columns(['address_local', 'active']).execute();
  await db.schema.createIndex('aliases_user_idx').on('aliases').column('user_id').execute();
}

export const migration0002: VersionedMigration = { name: '0002_bans_aliases', up };
