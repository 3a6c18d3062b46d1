// SQL and row mapping for tenants, memberships and tenant roles. No rules here.
import { sql, type Generated, type Selectable } from 'kysely';
import type { NullableTimestamp, Timestamp } from '../../store/schema.js';
import type { Store } from '../../store/db.js';
import { nowIso, parseJson, toIso, type Executor } from '../../store/sql.js';
import { findUserRow, type UserRow } from '../users/store.js';

export interface TenantsTable {
  id: Generated<number>;
  name: string;
  name_key: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TenantMembersTable {
  tenant_id: number;
  user_id: number;
  created_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface TenantUserRolesTable {
  tenant_id: number;
  user_id: number;
  role_id: number;
  created_at: Timestamp;
}

declare module '../../store/schema.js' {
  interface Database {
    tenants: TenantsTable;
    tenant_members: TenantMembersTable;
    tenant_user_roles: TenantUserRolesTable;
  }
}

export interface Tenant {
  id: number;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface TenantRole {
  id: number;
  tenantId: number;
  name: string;
  description: string | null;
  permissions: string[];
  createdAt: string;
  updatedAt: string;
}

export interface Membership {
  tenantId: number;
  userId: number;
  createdAt: string;
  deletedAt: string | null;
}

export function toTenant(r: Selectable<TenantsTable>): Tenant {
  return { id: r.id, name: r.name, createdAt: toIso(r.created_at)!, updatedAt: toIso(r.updated_at)! };
}

type RoleRow = { id: number; tenant_id: number | null; name: string; description: string | null; permissions: string; created_at: Date | string; updated_at: Date | string };

export function toRole(r: RoleRow): TenantRole {
  return {
    id: r.id,
    tenantId: r.tenant_id ?? 0,
    name: r.name,
    description: r.description,
    permissions: parseJson<string[]>(r.permissions, []),
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
  };
}

function toMembership(r: Selectable<TenantMembersTable>): Membership {
  return { tenantId: r.tenant_id, userId: r.user_id, createdAt: toIso(r.created_at)!, deletedAt: toIso(r.deleted_at) };
}

// ---- tenants ----

export async function findTenantRow(ex: Executor, id: number, opts: { forUpdate?: boolean } = {}): Promise<Tenant | undefined> {
  let q = ex.selectFrom('tenants').selectAll().where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r ? toTenant(r) : undefined;
}

/** A keyset page of a list: the rows after key `after` (from the start when undefined), at most `limit`. */
export interface KeysetSlice {
  after: number | undefined;
  limit: number;
}

/** Tenants in id order (with `page`, one batch of a streamed list: src/store/batches.ts). */
export async function listTenantRows(ex: Executor, page?: KeysetSlice): Promise<Array<Tenant & { memberCount: number }>> {
  let q = ex.selectFrom('tenants as t');
  if (page?.after !== undefined) q = q.where('t.id', '>', page.after);
  const rows = await q
    .selectAll('t')
    .select((eb) =>
      eb.selectFrom('tenant_members as m').select(sql<number>`count(*)`.as('n')).whereRef('m.tenant_id', '=', 't.id').where('m.deleted_at', 'is', null).as('member_count'),
    )
    .orderBy('t.id')
    .$if(page !== undefined, (b) => b.limit(page!.limit))
    .execute();
  return rows.map((r) => ({ ...toTenant(r), memberCount: Number(r.member_count ?? 0) }));
}

export async function insertTenant(ex: Executor, name: string, nameKey: string): Promise<Tenant> {
  const now = nowIso();
  const r = await ex.insertInto('tenants').values({ name, name_key: nameKey, created_at: now, updated_at: now }).returningAll().executeTakeFirstOrThrow();
  return toTenant(r);
}

export async function updateTenantRow(ex: Executor, id: number, name: string, nameKey: string): Promise<Tenant | undefined> {
  const r = await ex.updateTable('tenants').set({ name, name_key: nameKey, updated_at: nowIso() }).where('id', '=', id).returningAll().executeTakeFirst();
  return r ? toTenant(r) : undefined;
}

export async function deleteTenantRow(ex: Executor, id: number): Promise<void> {
  // Memberships (and with them the users' tenant roles) go by cascade; the roles table has no foreign key
  // to tenants (it predates them), so its rows go explicitly.
  await ex.deleteFrom('tenant_user_roles').where('tenant_id', '=', id).execute();
  await ex.deleteFrom('tenant_members').where('tenant_id', '=', id).execute();
  await ex.deleteFrom('roles').where('type', '=', 'tenant').where('tenant_id', '=', id).execute();
  await ex.deleteFrom('tenants').where('id', '=', id).execute();
}

// ---- tenant roles ----

export async function listTenantRoleRows(ex: Executor, tenantId: number, page?: KeysetSlice): Promise<TenantRole[]> {
  let q = ex.selectFrom('roles').selectAll().where('type', '=', 'tenant').where('tenant_id', '=', tenantId);
  if (page?.after !== undefined) q = q.where('id', '>', page.after);
  const rows = await q.orderBy('id').$if(page !== undefined, (b) => b.limit(page!.limit)).execute();
  return rows.map(toRole);
}

export async function findTenantRoleRow(ex: Executor, tenantId: number, roleId: number): Promise<TenantRole | undefined> {
  const r = await ex.selectFrom('roles').selectAll().where('id', '=', roleId).where('type', '=', 'tenant').where('tenant_id', '=', tenantId).executeTakeFirst();
  return r ? toRole(r) : undefined;
}

/** The roles among `ids` that belong to `tenantId`. */
export async function findTenantRolesByIds(ex: Executor, tenantId: number, ids: number[]): Promise<TenantRole[]> {
  if (ids.length === 0) return [];
  const rows = await ex.selectFrom('roles').selectAll().where('type', '=', 'tenant').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
  return rows.map(toRole);
}

/** A tenant role by id or by name (case-insensitive). */
export async function findTenantRoleByRef(ex: Executor, tenantId: number, ref: { id?: number; nameKey?: string }): Promise<TenantRole | undefined> {
  let q = ex.selectFrom('roles').selectAll().where('type', '=', 'tenant').where('tenant_id', '=', tenantId);
  if (ref.id !== undefined) q = q.where('id', '=', ref.id);
  else if (ref.nameKey !== undefined) q = q.where('name_key', '=', ref.nameKey);
  else return undefined;
  const r = await q.executeTakeFirst();
  return r ? toRole(r) : undefined;
}

export async function insertTenantRole(ex: Executor, tenantId: number, v: { name: string; nameKey: string; description: string | null; permissions: string[] }): Promise<TenantRole> {
  const now = nowIso();
  const r = await ex
    .insertInto('roles')
    .values({ name: v.name, name_key: v.nameKey, type: 'tenant', tenant_id: tenantId, description: v.description, permissions: JSON.stringify(v.permissions), created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRole(r);
}

export async function updateTenantRoleRow(
  ex: Executor,
  tenantId: number,
  roleId: number,
  v: { name?: string; nameKey?: string; description?: string | null; permissions?: string[] },
): Promise<TenantRole | undefined> {
  const set: Record<string, unknown> = { updated_at: nowIso() };
  if (v.name !== undefined) {
    set.name = v.name;
    set.name_key = v.nameKey;
  }
  if (v.description !== undefined) set.description = v.description;
  if (v.permissions !== undefined) set.permissions = JSON.stringify(v.permissions);
  const r = await ex.updateTable('roles').set(set).where('id', '=', roleId).where('type', '=', 'tenant').where('tenant_id', '=', tenantId).returningAll().executeTakeFirst();
  return r ? toRole(r) : undefined;
}

export async function deleteTenantRoleRow(ex: Executor, tenantId: number, roleId: number): Promise<void> {
  await ex.deleteFrom('tenant_user_roles').where('tenant_id', '=', tenantId).where('role_id', '=', roleId).execute();
  await ex.deleteFrom('roles').where('id', '=', roleId).where('type', '=', 'tenant').where('tenant_id', '=', tenantId).execute();
}

// ---- memberships ----

export async function findMembershipRow(ex: Executor, tenantId: number, userId: number, opts: { forUpdate?: boolean } = {}): Promise<Membership | undefined> {
  let q = ex.selectFrom('tenant_members').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId);
  if (opts.forUpdate) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r ? toMembership(r) : undefined;
}

export async function insertMembership(ex: Executor, tenantId: number, userId: number): Promise<Membership> {
  const r = await ex.insertInto('tenant_members').values({ tenant_id: tenantId, user_id: userId, created_at: nowIso(), deleted_at: null }).returningAll().executeTakeFirstOrThrow();
  return toMembership(r);
}

export async function deleteMembershipRow(ex: Executor, tenantId: number, userId: number): Promise<boolean> {
  await ex.deleteFrom('tenant_user_roles').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
  const r = await ex.deleteFrom('tenant_members').where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** One query: a member of a tenant with their user row (no locks). */
export async function findMemberUserRow(ex: Executor, tenantId: number, userId: number): Promise<DirectoryRow | undefined> {
  const r = await ex
    .selectFrom('tenant_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .selectAll('u')
    .select('m.deleted_at as member_deleted_at')
    .where('m.tenant_id', '=', tenantId)
    .where('m.user_id', '=', userId)
    .executeTakeFirst();
  return r as DirectoryRow | undefined;
}

/** Sets or clears a membership's soft-delete mark; true when a row changed state. */
export async function setMembershipDeleted(ex: Executor, tenantId: number, userId: number, deleted: boolean): Promise<boolean> {
  const r = await ex
    .updateTable('tenant_members')
    .set({ deleted_at: deleted ? nowIso() : null })
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('deleted_at', deleted ? 'is' : 'is not', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function listMemberRows(ex: Executor, tenantId: number, page?: KeysetSlice): Promise<Array<Membership & { email: string | null; name: string | null; username: string | null }>> {
  const rows = await ex
    .selectFrom('tenant_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.tenant_id', 'm.user_id', 'm.created_at', 'm.deleted_at', 'u.email', 'u.name', 'u.username'])
    .where('m.tenant_id', '=', tenantId)
    // The same bound on u.id too: PostgreSQL's merge join otherwise walks users from the first id for every
    // batch (each batch of a 200,000-member list read the users before it: 120 ms at the end).
    .$if(page?.after !== undefined, (b) => b.where('m.user_id', '>', page!.after!).where('u.id', '>', page!.after!))
    .orderBy('m.user_id')
    .$if(page !== undefined, (b) => b.limit(page!.limit))
    .execute();
  return rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id, createdAt: toIso(r.created_at)!, deletedAt: toIso(r.deleted_at), email: r.email, name: r.name, username: r.username }));
}

/** The live tenants of a user, in the order they joined (the first is their default tenant). */
export async function tenantIdsOfUser(ex: Executor, userId: number): Promise<number[]> {
  const rows = await ex
    .selectFrom('tenant_members')
    .select('tenant_id')
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .orderBy('tenant_id')
    .execute();
  return rows.map((r) => r.tenant_id);
}

/** One query: the live membership of a user in a tenant and the permissions of their roles there. */
export async function memberAccessRows(ex: Executor, tenantId: number, userId: number): Promise<{ member: boolean; permissions: string[] }> {
  const rows = await ex
    .selectFrom('tenant_members as m')
    .leftJoin('tenant_user_roles as ur', (j) => j.onRef('ur.tenant_id', '=', 'm.tenant_id').onRef('ur.user_id', '=', 'm.user_id'))
    .leftJoin('roles as r', 'r.id', 'ur.role_id')
    .select(['m.deleted_at', 'r.permissions'])
    .where('m.tenant_id', '=', tenantId)
    .where('m.user_id', '=', userId)
    .execute();
  if (rows.length === 0 || rows[0].deleted_at !== null) return { member: false, permissions: [] };
  const permissions = new Set<string>();
  for (const r of rows) for (const p of parseJson<string[]>(r.permissions, [])) permissions.add(p);
  return { member: true, permissions: [...permissions] };
}

/**
 * Every permission a user holds through tenant roles, in every tenant (soft-deleted memberships too: a
 * restore brings their roles back).
 */
export async function permissionsInAllTenants(ex: Executor, userId: number): Promise<string[]> {
  const rows = await ex
    .selectFrom('tenant_user_roles as ur')
    .innerJoin('roles as r', 'r.id', 'ur.role_id')
    .select('r.permissions')
    .where('ur.user_id', '=', userId)
    .execute();
  const out = new Set<string>();
  for (const r of rows) for (const p of parseJson<string[]>(r.permissions, [])) out.add(p);
  return [...out].sort();
}

/** The tenant roles each of `userIds` holds in `tenantId`. */
export async function memberRoleRows(ex: Executor, tenantId: number, userIds: number[]): Promise<Map<number, TenantRole[]>> {
  const out = new Map<number, TenantRole[]>();
  if (userIds.length === 0) return out;
  const rows = await ex
    .selectFrom('tenant_user_roles as ur')
    .innerJoin('roles as r', 'r.id', 'ur.role_id')
    .select(['ur.user_id', 'r.id', 'r.tenant_id', 'r.name', 'r.description', 'r.permissions', 'r.created_at', 'r.updated_at'])
    .where('ur.tenant_id', '=', tenantId)
    .where('ur.user_id', 'in', userIds)
    .orderBy('r.id')
    .execute();
  for (const r of rows) {
    const list = out.get(r.user_id) ?? [];
    list.push(toRole(r));
    out.set(r.user_id, list);
  }
  return out;
}

/** Replaces a member's roles in a tenant with `roleIds`; returns what was added and removed. */
export async function syncMemberRoles(ex: Executor, tenantId: number, userId: number, roleIds: number[]): Promise<{ added: number[]; removed: number[] }> {
  const current = (await ex.selectFrom('tenant_user_roles').select('role_id').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute()).map((r) => r.role_id);
  const want = new Set(roleIds);
  const removed = current.filter((id) => !want.has(id));
  const added = [...want].filter((id) => !current.includes(id));
  if (removed.length) {
    await ex.deleteFrom('tenant_user_roles').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('role_id', 'in', removed).execute();
  }
  if (added.length) {
    const now = nowIso();
    await ex.insertInto('tenant_user_roles').values(added.map((role_id) => ({ tenant_id: tenantId, user_id: userId, role_id, created_at: now }))).execute();
  }
  return { added, removed };
}

// ---- the directory's user list ----

export const SORT_COLUMNS = {
  id: 'u.id',
  name: 'u.name_key',
  email: 'u.email_key',
  created_at: 'u.created_at',
  updated_at: 'u.updated_at',
  last_login_at: 'u.last_login_at',
} as const;
export type SortBy = keyof typeof SORT_COLUMNS;

export interface DirectoryListQuery {
  tenantId: number;
  /** Case-folded substring of name or email. */
  search?: string;
  isActive?: boolean;
  roleId?: number;
  trashed: 'without' | 'with' | 'only';
  sortBy: SortBy;
  sortOrder: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export type DirectoryRow = UserRow & { member_deleted_at: Date | string | null };

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function listDirectoryRows(ex: Executor, q: DirectoryListQuery): Promise<{ rows: DirectoryRow[]; total: number }> {
  let base = ex
    .selectFrom('tenant_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .where('m.tenant_id', '=', q.tenantId)
    .where('u.deleted_at', 'is', null);
  if (q.trashed === 'without') base = base.where('m.deleted_at', 'is', null);
  if (q.trashed === 'only') base = base.where('m.deleted_at', 'is not', null);
  if (q.isActive !== undefined) base = base.where('u.is_active', '=', q.isActive ? 1 : 0);
  if (q.roleId !== undefined) {
    const roleId = q.roleId;
    base = base.where((eb) =>
      eb.exists(
        eb.selectFrom('tenant_user_roles as ur').select('ur.role_id')
          .whereRef('ur.tenant_id', '=', 'm.tenant_id').whereRef('ur.user_id', '=', 'm.user_id').where('ur.role_id', '=', roleId),
      ),
    );
  }
  if (q.search) {
    const pattern = `%${escapeLike(q.search)}%`;
    base = base.where(sql<boolean>`(${sql.ref('u.name_key')} like ${pattern} escape '\\' or ${sql.ref('u.email_key')} like ${pattern} escape '\\' or ${sql.ref('u.username_key')} like ${pattern} escape '\\')`);
  }
  const countRow = await base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  const col = SORT_COLUMNS[q.sortBy];
  // Nulls last in either direction, on both engines (they disagree by default).
  const rows = await base
    .selectAll('u')
    .select('m.deleted_at as member_deleted_at')
    .orderBy(sql`case when ${sql.ref(col)} is null then 1 else 0 end`)
    .orderBy(sql.ref(col), q.sortOrder)
    .orderBy('u.id', q.sortOrder)
    .limit(q.limit)
    .offset(q.offset)
    .execute();
  return { rows: rows as DirectoryRow[], total: Number(countRow.n) };
}

/**
 * The tenant statements bound to a store (its database and engine). Where the engines differ (row locks:
 * PostgreSQL takes them, SQLite serialises writers itself) the difference is decided here, so the service
 * asks for "lock" and never sees the engine.
 */
export function createTenantStore(store: Store) {
  const { db, engine } = store;
  const locks = engine === 'postgres';
  return {
    transaction: <T>(work: (trx: Executor) => Promise<T>): Promise<T> => db.transaction().execute(work),

    /**
     * The tenant, locked (PostgreSQL) while roles or members are added to it or it is deleted, so a
     * concurrent delete cannot leave orphans.
     */
    lockTenant: (trx: Executor, id: number): Promise<Tenant | undefined> => findTenantRow(trx, id, { forUpdate: locks }),

    /** A user row (no lock), as the users store reads it. */
    readUser: (ex: Executor, id: number): Promise<UserRow | undefined> => findUserRow(ex, engine, id),

    /** A membership row, live or soft-deleted (no lock). */
    findMembership: (ex: Executor, tenantId: number, userId: number): Promise<Membership | undefined> => findMembershipRow(ex, tenantId, userId),

    /** A membership row, locked (PostgreSQL) for a change to that member. */
    lockMembership: (trx: Executor, tenantId: number, userId: number): Promise<Membership | undefined> =>
      findMembershipRow(trx, tenantId, userId, { forUpdate: locks }),

    /**
     * Locks (PostgreSQL) every membership row of a user, live or soft-deleted, in tenant order: a change to
     * the user's account serialises with role and membership changes of that user in any tenant. One order
     * for every caller that takes more than one of them, so two such transactions cannot deadlock.
     */
    async lockMembershipsOfUser(trx: Executor, userId: number): Promise<void> {
      if (!locks) return; // SQLite serialises writers itself.
      await trx.selectFrom('tenant_members').select('tenant_id').where('user_id', '=', userId).orderBy('tenant_id').forUpdate().execute();
    },
  };
}

export type TenantStore = ReturnType<typeof createTenantStore>;
