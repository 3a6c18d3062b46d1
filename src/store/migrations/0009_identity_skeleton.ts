// One identity key (core/identity): usernames get a confusable skeleton with a unique index, so two
// usernames that look alike ("alice" and Cyrillic "аlice") cannot both exist, whichever node writes them and
// however the writes race; name bans get the skeleton of their value to match by; aliases keep the skeleton
// of their local part in address_local (name bans match it), instead of its case-folded form.
//
// Existing rows are backfilled here, in id order. Where existing usernames already look alike, the oldest
// account keeps the skeleton and the later ones are left without one (NULL, which the unique index allows):
// they keep their names and can still sign in, a ban still finds them (bans compute their skeleton from the
// username), and a rename gives them one. The username and name keys are recomputed with the current fold
// (it now also folds the Greek final sigma ς to σ); a recomputed username key that another account already
// holds is left as it was; tenant and role name keys, made by the same fold, likewise.
//
// The backfill computes skeletons with today's core/identity. A later change to that function (a newer
// confusables table) needs a migration of its own that recomputes them.
import { sql, type Kysely } from 'kysely';
import { identityKey, identitySkeleton } from '../../core/identity/index.js';
import type { Engine } from '../sql.js';
import { columnTypes, type VersionedMigration } from './types.js';

const BATCH = 500;

/** Sets `column` of each (id, value) pair in `table`, BATCH rows per statement (one round trip each). */
async function setColumn(db: Kysely<any>, table: string, column: string, pairs: Array<[number, string | null]>): Promise<void> {
  for (let i = 0; i < pairs.length; i += BATCH) {
    const rows = pairs.slice(i, i + BATCH).map(([id, value]) => sql`(cast(${id} as integer), cast(${value} as text))`);
    // UPDATE … FROM (PostgreSQL; SQLite since 3.33): a join, where a correlated sub-select per row made
    // PostgreSQL scan the whole batch for each row (15.5 s for 100,000 users, against 6 s on SQLite).
    await sql`with v(id, val) as (values ${sql.join(rows)})
      update ${sql.table(table)} set ${sql.ref(column)} = v.val from v where ${sql.ref(`${table}.id`)} = v.id`.execute(db);
  }
}

async function backfillUsers(db: Kysely<any>): Promise<void> {
  const claimed = new Set<string>();
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('users')
      .select(['id', 'username', 'username_key', 'name', 'name_key'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute() as Array<{ id: number; username: string | null; username_key: string | null; name: string | null; name_key: string | null }>;
    if (rows.length === 0) return;
    after = rows[rows.length - 1].id;
    const skeletons: Array<[number, string | null]> = [];
    const nameKeys: Array<[number, string | null]> = [];
    for (const row of rows) {
      if (row.username !== null) {
        const skeleton = identitySkeleton(row.username);
        skeletons.push([row.id, claimed.has(skeleton) ? null : skeleton]);
        claimed.add(skeleton);
        const key = identityKey(row.username.trim());
        if (key !== row.username_key) {
          const holder = await db.selectFrom('users').select('id').where('username_key', '=', key).executeTakeFirst();
          if (!holder) await db.updateTable('users').set({ username_key: key }).where('id', '=', row.id).execute();
        }
      }
      if (row.name !== null) {
        const nameKey = identityKey(row.name);
        if (nameKey !== row.name_key) nameKeys.push([row.id, nameKey]);
      }
    }
    await setColumn(db, 'users', 'username_skeleton', skeletons);
    await setColumn(db, 'users', 'name_key', nameKeys);
  }
}

async function backfillBans(db: Kysely<any>): Promise<void> {
  const rows = await db.selectFrom('bans').select(['id', 'ban_value']).where('ban_type', '=', 'name').orderBy('id').execute() as Array<{ id: number; ban_value: string }>;
  await setColumn(db, 'bans', 'value_skeleton', rows.map((r) => [r.id, identitySkeleton(r.ban_value)]));
}

async function backfillAliases(db: Kysely<any>): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('aliases').select(['id', 'address']).where('id', '>', after).orderBy('id').limit(BATCH).execute() as Array<{ id: number; address: string }>;
    if (rows.length === 0) return;
    after = rows[rows.length - 1].id;
    await setColumn(db, 'aliases', 'address_local', rows.map((r) => [r.id, identitySkeleton(r.address.slice(0, r.address.lastIndexOf('@')))]));
  }
}

/**
 * Tenant and role name keys are made by the same fold: recomputed where it changed (a name with a final
 * sigma), unless another tenant (or role of the same tenant) already holds the new key.
 */
async function refoldNameKeys(db: Kysely<any>): Promise<void> {
  const tenants = await db.selectFrom('tenants').select(['id', 'name', 'name_key']).execute() as Array<{ id: number; name: string; name_key: string }>;
  for (const row of tenants) {
    const key = identityKey(row.name);
    if (key === row.name_key) continue;
    const holder = await db.selectFrom('tenants').select('id').where('name_key', '=', key).executeTakeFirst();
    if (!holder) await db.updateTable('tenants').set({ name_key: key }).where('id', '=', row.id).execute();
  }
  const roles = await db.selectFrom('roles').select(['id', 'name', 'name_key', 'type', 'tenant_id']).execute() as Array<{ id: number; name: string; name_key: string; type: string; tenant_id: number | null }>;
  for (const row of roles) {
    const key = identityKey(row.name);
    if (key === row.name_key) continue;
    let q = db.selectFrom('roles').select('id').where('name_key', '=', key).where('type', '=', row.type);
    q = row.tenant_id === null ? q.where('tenant_id', 'is', null) : q.where('tenant_id', '=', row.tenant_id);
    if (!(await q.executeTakeFirst())) await db.updateTable('roles').set({ name_key: key }).where('id', '=', row.id).execute();
  }
}

async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const t = columnTypes(engine);
  await db.schema.alterTable('users').addColumn('username_skeleton', t.key).execute();
  await db.schema.alterTable('bans').addColumn('value_skeleton', t.key).execute();
  await backfillUsers(db);
  await backfillBans(db);
  await backfillAliases(db);
  await refoldNameKeys(db);
  // Uniqueness in the database: two writers racing with lookalikes get one row and one 409.
  await db.schema.createIndex('users_username_skeleton_uq').on('users').column('username_skeleton').unique().execute();
  await db.schema.createIndex('bans_type_skeleton_idx').on('bans').columns(['ban_type', 'value_skeleton']).execute();
}

export const migration0009: VersionedMigration = { name: '0009_identity_skeleton', up };
