// Tenants, memberships, tenant roles, OAuth clients and signing keys (directory v1, seed 003).
// Tenant isolation is kept by the database where it can be: a user's tenant role must be a role OF that
// tenant (composite foreign key on (role_id, tenant_id)) held by a member OF that tenant (composite
// foreign key on (tenant_id, user_id)).
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../sql.js';
import { columnTypes, idColumn, idType, type VersionedMigration } from './types.js';

async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const t = columnTypes(engine);

  await db.schema
    .createTable('tenants')
    .addColumn('id', idType(engine), idColumn(engine))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', t.key, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tenants_name_key_uq').on('tenants').column('name_key').unique().execute();

  // Tenant role names are unique within their tenant (root role names are unique among root roles: 0001).
  await db.schema.createIndex('roles_tenant_name_key_uq').on('roles').columns(['tenant_id', 'name_key']).unique()
    .where(sql.ref('type'), '=', 'tenant').execute();
  // The target of the composite foreign key below (a non-partial unique index, as PostgreSQL requires).
  await db.schema.createIndex('roles_id_tenant_uq').on('roles').columns(['id', 'tenant_id']).unique().execute();

  await db.schema
    .createTable('tenant_members')
    .addColumn('tenant_id', 'integer', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    // Soft delete within the tenant (DELETE /api/v1/users/{id}); restore clears it.
    .addColumn('deleted_at', t.timestamp)
    .addPrimaryKeyConstraint('tenant_members_pk', ['tenant_id', 'user_id'])
    .execute();
  await db.schema.createIndex('tenant_members_user_idx').on('tenant_members').columns(['user_id', 'tenant_id']).execute();

  await db.schema
    .createTable('tenant_user_roles')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('role_id', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('tenant_user_roles_pk', ['tenant_id', 'user_id', 'role_id'])
    .addForeignKeyConstraint('tenant_user_roles_member_fk', ['tenant_id', 'user_id'], 'tenant_members', ['tenant_id', 'user_id'], (c) => c.onDelete('cascade'))
    .addForeignKeyConstraint('tenant_user_roles_role_fk', ['role_id', 'tenant_id'], 'roles', ['id', 'tenant_id'], (c) => c.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('tenant_user_roles_role_idx').on('tenant_user_roles').column('role_id').execute();

  await db.schema
    .createTable('oauth_clients')
    .addColumn('id', idType(engine), idColumn(engine))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('grant_types', 'text', (c) => c.notNull()) // JSON array
    // The service account a client_credentials token acts as.
    .addColumn('service_user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_by', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .execute();
  await db.schema.createIndex('oauth_clients_client_id_uq').on('oauth_clients').column('client_id').unique().execute();

  // Which client a session (kind 'oauth') was granted to: deleting the client ends its sessions.
  await db.schema
    .createTable('oauth_sessions')
    .addColumn('session_id', 'text', (c) => c.primaryKey().references('sessions.id').onDelete('cascade'))
    .addColumn('client_id', 'integer', (c) => c.notNull().references('oauth_clients.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('oauth_sessions_client_idx').on('oauth_sessions').column('client_id').execute();

  await db.schema
    .createTable('oauth_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull()) // JSON
    .addColumn('private_key', 'text', (c) => c.notNull()) // AES-256-GCM sealed PKCS#8, under a key derived from the server secret
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    // Set on rotation: the key stops signing but stays published until every token it signed has expired.
    .addColumn('retired_at', t.timestamp)
    .execute();
}

export const migration0003: VersionedMigration = { name: '0003_tenants_oauth', up };
