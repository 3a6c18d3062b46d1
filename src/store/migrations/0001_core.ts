// Users, root roles, sessions, refresh tokens, API tokens, audit log, login throttling, server settings.
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../sql.js';
import { columnTypes, idColumn, idType, type VersionedMigration } from './types.js';

// Root roles keep these ids forever (they are Unleash's ids for the same names).
const ROOT_ROLES: Array<[number, string, string, string[]]> = [
  [1, 'Admin', 'Users with the root admin role have superuser access.', ['ADMIN']],
  [2, 'Editor', 'Users with the root editor role can create and change most things.', ['EDITOR', 'users.view']],
  [3, 'Viewer', 'Users with the root viewer role can only read.', ['users.view']],
  [4, 'Owner', 'Owners of the deployment: every permission, like Admin.', ['ADMIN']],
  [5, 'Member', 'Members have no administrative rights.', []],
];

async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const t = columnTypes(engine);

  await db.schema
    .createTable('roles')
    .addColumn('id', idType(engine), idColumn(engine, 'integer', 1000))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', t.key, (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'integer')
    .addColumn('description', 'text')
    .addColumn('permissions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  // Root role names are unique; tenant role names are unique within their tenant (migration of tenants).
  await db.schema.createIndex('roles_root_name_key_uq').on('roles').column('name_key').unique()
    .where(sql.ref('type'), '=', 'root').execute();

  const now = new Date().toISOString();
  await db.insertInto('roles').values(ROOT_ROLES.map(([id, name, description, permissions]) => ({
    id, name, name_key: name.toLowerCase(), type: 'root', tenant_id: null, description,
    permissions: JSON.stringify(permissions), created_at: now, updated_at: now,
  }))).execute();

  await db.schema
    .createTable('users')
    .addColumn('id', idType(engine), idColumn(engine))
    .addColumn('username', 'text')
    .addColumn('username_key', t.key)
    .addColumn('name', 'text')
    .addColumn('name_key', t.key)
    .addColumn('email', 'text')
    .addColumn('email_key', t.key)
    .addColumn('email_verified_at', t.timestamp)
    .addColumn('password_hash', 'text')
    .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('root_role_id', 'integer', (c) => c.notNull().references('roles.id'))
    .addColumn('account_type', 'text', (c) => c.notNull().defaultTo('User'))
    .addColumn('avatar_url', 'text')
    .addColumn('phone', 'text')
    .addColumn('title', 'text')
    .addColumn('emergency_contact_name', 'text')
    .addColumn('emergency_contact_surname', 'text')
    .addColumn('emergency_contact_phone_number', 'text')
    .addColumn('blood_group', 'text')
    .addColumn('bio', 'text')
    .addColumn('languages', 'text')
    .addColumn('login_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_login_at', t.timestamp)
    .addColumn('last_login_ip', 'text')
    .addColumn('seen_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('deleted_at', t.timestamp)
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addCheckConstraint('users_is_active_bool', sql`is_active in (0, 1)`)
    .addCheckConstraint('users_has_identity', sql`email_key is not null or username_key is not null`)
    .execute();
  // Case-insensitive uniqueness: the normalised key columns carry plain unique indexes on both engines.
  await db.schema.createIndex('users_email_key_uq').on('users').column('email_key').unique().execute();
  await db.schema.createIndex('users_username_key_uq').on('users').column('username_key').unique().execute();
  await db.schema.createIndex('users_name_key_idx').on('users').columns(['name_key', 'id']).execute();
  await db.schema.createIndex('users_root_role_idx').on('users').columns(['root_role_id', 'is_active']).execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('revoked_at', t.timestamp)
    .addColumn('revoke_reason', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('data', 'text')
    .execute();
  await db.schema.createIndex('sessions_token_hash_uq').on('sessions').column('token_hash').unique().execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').columns(['user_id', 'revoked_at']).execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('rotated_at', t.timestamp)
    .execute();
  await db.schema.createIndex('refresh_tokens_session_idx').on('refresh_tokens').column('session_id').execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', idType(engine), idColumn(engine))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('created_by', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp)
    .addColumn('last_used_at', t.timestamp)
    .execute();
  await db.schema.createIndex('api_tokens_token_hash_uq').on('api_tokens').column('token_hash').unique().execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', idType(engine, 'bigint'), idColumn(engine, 'bigint'))
    .addColumn('occurred_at', t.timestamp, (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_label', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('before_data', 'text')
    .addColumn('after_data', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('surface', 'text')
    .execute();
  await db.schema.createIndex('audit_target_idx').on('audit_events').columns(['target_type', 'target_id', 'id']).execute();
  await db.schema.createIndex('audit_action_idx').on('audit_events').columns(['action', 'id']).execute();
  await db.schema.createIndex('audit_actor_idx').on('audit_events').columns(['actor_type', 'actor_id', 'id']).execute();

  await db.schema
    .createTable('login_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', t.timestamp, (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('server_settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export const migration0001: VersionedMigration = { name: '0001_core', up };
