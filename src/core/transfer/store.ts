// SQL for moving users in and out in bulk (export, import: ./service.ts). No rules here.
import { sql, type Insertable } from 'kysely';
import type { AuditEventsTable, UsersTable } from '../../store/schema.js';
import type { Executor } from '../../store/sql.js';
import type { Store } from '../../store/db.js';
import { nowIso } from '../../store/sql.js';
import type { UserRow } from '../users/store.js';
// The tenant tables' types (declared with their SQL in core/tenants/store.ts).
import type {} from '../tenants/store.js';

/** Live users after `after` in id order, at most `limit` (one keyset page of the export). */
export function exportUserRows(ex: Executor, after: number | undefined, limit: number): Promise<UserRow[]> {
  let q = ex.selectFrom('users').selectAll().where('deleted_at', 'is', null);
  if (after !== undefined) q = q.where('id', '>', after);
  return q.orderBy('id').limit(limit).execute();
}

/** The live memberships of `userIds`, with the names of the tenant and of each tenant role held there. */
export async function membershipsOf(ex: Executor, userIds: number[]): Promise<Array<{ user_id: number; tenant: string; role: string | null }>> {
  if (userIds.length === 0) return [];
  return ex
    .selectFrom('tenant_members as m')
    .innerJoin('tenants as t', 't.id', 'm.tenant_id')
    .leftJoin('tenant_user_roles as ur', (j) => j.onRef('ur.tenant_id', '=', 'm.tenant_id').onRef('ur.user_id', '=', 'm.user_id'))
    .leftJoin('roles as r', 'r.id', 'ur.role_id')
    .select(['m.user_id', 't.name as tenant', 'r.name as role'])
    .where('m.user_id', 'in', userIds)
    .where('m.deleted_at', 'is', null)
    .orderBy('m.user_id')
    .orderBy('t.id')
    .orderBy('r.id')
    .execute();
}

/** The users (deleted ones too: their keys stay taken) holding any of these identity keys. */
export async function usersHoldingKeys(ex: Executor, keys: { email: string[]; username: string[]; skeleton: string[] }): Promise<Array<Pick<UserRow, 'id' | 'email_key' | 'username_key' | 'username_skeleton'>>> {
  if (keys.email.length + keys.username.length + keys.skeleton.length === 0) return [];
  return ex
    .selectFrom('users')
    .select(['id', 'email_key', 'username_key', 'username_skeleton'])
    .where((eb) =>
      eb.or([
        ...(keys.email.length ? [eb('email_key', 'in', keys.email)] : []),
        ...(keys.username.length ? [eb('username_key', 'in', keys.username)] : []),
        ...(keys.skeleton.length ? [eb('username_skeleton', 'in', keys.skeleton)] : []),
      ]),
    )
    .execute();
}

/**
 * Inserts the rows in one statement, leaving out each row whose email, username or skeleton is already held
 * (any unique index: ON CONFLICT DO NOTHING); the ids of those inserted come back with their keys.
 */
export async function insertUserRowsSkippingTaken(ex: Executor, rows: Insertable<UsersTable>[]): Promise<Array<Pick<UserRow, 'id' | 'email_key' | 'username_key'>>> {
  if (rows.length === 0) return [];
  return ex.insertInto('users').values(rows).onConflict((oc) => oc.doNothing()).returning(['id', 'email_key', 'username_key']).execute();
}

export async function insertAuditRows(ex: Executor, rows: Insertable<AuditEventsTable>[]): Promise<void> {
  if (rows.length > 0) await ex.insertInto('audit_events').values(rows).execute();
}

export async function findTenantIdByKey(ex: Executor, nameKey: string): Promise<number | undefined> {
  const r = await ex.selectFrom('tenants').select('id').where('name_key', '=', nameKey).executeTakeFirst();
  return r?.id;
}

export async function findTenantRoleIdByKey(ex: Executor, tenantId: number, nameKey: string): Promise<number | undefined> {
  const r = await ex.selectFrom('roles').select('id').where('type', '=', 'tenant').where('tenant_id', '=', tenantId).where('name_key', '=', nameKey).executeTakeFirst();
  return r?.id;
}

export async function insertMemberships(ex: Executor, rows: Array<{ tenant_id: number; user_id: number }>, roles: Array<{ tenant_id: number; user_id: number; role_id: number }>): Promise<void> {
  const now = nowIso();
  if (rows.length) await ex.insertInto('tenant_members').values(rows.map((r) => ({ ...r, created_at: now, deleted_at: null }))).execute();
  if (roles.length) await ex.insertInto('tenant_user_roles').values(roles.map((r) => ({ ...r, created_at: now }))).execute();
}

/** PostgreSQL: fresh statistics for the tables an import fills (users, their audit events, memberships); SQLite plans without them. */
export async function analyzeImported(store: Store): Promise<void> {
  if (store.engine === 'postgres') await sql`analyze users, audit_events, tenant_members, tenant_user_roles`.execute(store.db);
}
