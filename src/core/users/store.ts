// SQL and row mapping for users. No rules here.
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { AuditEventsTable, UsersTable } from '../../store/schema.js';
import { parseJson, prefixUpperBound, toBool, toIso, type Engine, type Executor } from '../../store/sql.js';
import type { User, UserListQuery } from './types.js';

export type UserRow = Selectable<UsersTable>;

export function toUser(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    name: r.name,
    email: r.email,
    emailVerifiedAt: toIso(r.email_verified_at),
    isActive: toBool(r.is_active),
    rootRoleId: r.root_role_id,
    accountType: r.account_type,
    avatarUrl: r.avatar_url,
    phone: r.phone,
    title: r.title,
    emergencyContactName: r.emergency_contact_name,
    emergencyContactSurname: r.emergency_contact_surname,
    emergencyContactPhoneNumber: r.emergency_contact_phone_number,
    bloodGroup: r.blood_group,
    bio: r.bio,
    languages: parseJson<string[] | null>(r.languages, null),
    loginAttempts: r.login_attempts,
    lastLoginAt: toIso(r.last_login_at),
    lastLoginIp: r.last_login_ip,
    seenAt: toIso(r.seen_at),
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
    deletedAt: toIso(r.deleted_at),
    version: r.version,
    hasPassword: r.password_hash !== null,
  };
}

export async function findUserRow(ex: Executor, engine: Engine, id: number, opts: { forUpdate?: boolean } = {}): Promise<UserRow | undefined> {
  let q = ex.selectFrom('users').selectAll().where('id', '=', id);
  if (opts.forUpdate && engine === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}

/** The user whose email key or username key equals `key` (sign-in identifiers). */
export async function findUserRowByLogin(ex: Executor, key: string): Promise<UserRow | undefined> {
  const byEmail = await ex.selectFrom('users').selectAll().where('email_key', '=', key).executeTakeFirst();
  if (byEmail) return byEmail;
  return ex.selectFrom('users').selectAll().where('username_key', '=', key).executeTakeFirst();
}

/** Locks (PostgreSQL) and returns the ids of active, non-deleted admins (root role Admin or Owner). */
export async function lockActiveAdminIds(ex: Executor, engine: Engine): Promise<number[]> {
  let q = ex
    .selectFrom('users')
    .select('id')
    .where('root_role_id', 'in', [1, 4])
    .where('is_active', '=', 1)
    .where('deleted_at', 'is', null)
    .orderBy('id');
  if (engine === 'postgres') q = q.forUpdate();
  return (await q.execute()).map((r) => r.id);
}

export async function listUserRows(ex: Executor, q: UserListQuery): Promise<UserRow[]> {
  if (q.q && !q.includeDeleted && q.isActive === undefined && q.isAdmin === undefined) return searchUserRows(ex, q);
  let query = ex.selectFrom('users').selectAll();
  if (!q.includeDeleted) query = query.where('deleted_at', 'is', null);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  if (q.isActive !== undefined) query = query.where('is_active', '=', q.isActive ? 1 : 0);
  if (q.isAdmin !== undefined) {
    query = q.isAdmin ? query.where('root_role_id', 'in', [1, 4]) : query.where('root_role_id', 'not in', [1, 4]);
  }
  if (q.q) {
    const lo = q.q;
    const hi = prefixUpperBound(lo);
    query = query.where((eb) =>
      eb.or([
        eb.and([eb('email_key', '>=', lo), eb('email_key', '<', hi)]),
        eb.and([eb('username_key', '>=', lo), eb('username_key', '<', hi)]),
        eb.and([eb('name_key', '>=', lo), eb('name_key', '<', hi)]),
      ]),
    );
  }
  return query.orderBy('id').limit(q.limit).execute();
}

export async function countSql(ex: Executor): Promise<number> {
  const r = await ex.selectFrom('users').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * PostgreSQL only (data-modifying CTE): updates the user if it still has `version` and is not deleted and,
 * only when it did, inserts `audit` into audit_events, in one statement (one round trip, atomic on its own).
 * Returns the updated row, or undefined when the version moved on (the caller re-reads and decides again).
 */
export async function updateUserRowWithAudit(
  ex: Executor,
  id: number,
  version: number,
  set: Updateable<UsersTable>,
  audit: Insertable<AuditEventsTable>,
): Promise<UserRow | undefined> {
  const columns = Object.keys(audit) as Array<keyof AuditEventsTable & string>;
  const row = await ex
    .with('u', (db) => db.updateTable('users').set(set).where('id', '=', id).where('version', '=', version).where('deleted_at', 'is', null).returningAll())
    .with('a', (db) =>
      db.insertInto('audit_events').columns(columns).expression((eb) =>
        eb.selectFrom('u').select(columns.map((c) => sql.val((audit as Record<string, unknown>)[c]).as(c))) as never,
      ),
    )
    .selectFrom('u')
    .selectAll()
    .executeTakeFirst();
  return row as UserRow | undefined;
}

/** How many live users after the cursor a prefix search reads in id order before switching to the indexes. */
const SEARCH_SCAN_WINDOW = 5000;

/**
 * A prefix search page (email, username or name key; live users; id order after the cursor), in at most two
 * indexed reads whatever the prefix: a common prefix ("mary") finds its page among the next few thousand users
 * in id order; a rarer one ("mary.s") reads the matching ids from the (key, id) indexes of live users
 * (migration 0005, index-only), keeps the first page of them and fetches only those rows. A single OR query
 * left the choice to the planner, which read 36,000–107,000 rows or 1,400 scattered heap rows (8–43 ms) at
 * 1,000,000 users for prefixes in between.
 */
async function searchUserRows(ex: Executor, q: UserListQuery): Promise<UserRow[]> {
  const lo = q.q!;
  const hi = prefixUpperBound(lo);
  let window = ex.selectFrom('users').selectAll().where('deleted_at', 'is', null);
  if (q.afterId !== undefined) window = window.where('id', '>', q.afterId);
  const dense = await ex
    .selectFrom(window.orderBy('id').limit(SEARCH_SCAN_WINDOW).as('w'))
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([eb('email_key', '>=', lo), eb('email_key', '<', hi)]),
        eb.and([eb('username_key', '>=', lo), eb('username_key', '<', hi)]),
        eb.and([eb('name_key', '>=', lo), eb('name_key', '<', hi)]),
      ]),
    )
    .orderBy('id')
    .limit(q.limit)
    .execute();
  if (dense.length >= q.limit) return dense as UserRow[];
  const ids = (key: 'email_key' | 'username_key' | 'name_key') => {
    let b = ex.selectFrom('users').select('id').where('deleted_at', 'is', null).where(key, '>=', lo).where(key, '<', hi);
    if (q.afterId !== undefined) b = b.where('id', '>', q.afterId);
    return b;
  };
  const page = ex
    .selectFrom(ids('email_key').union(ids('username_key')).union(ids('name_key')).as('m'))
    .select('m.id')
    .orderBy('m.id')
    .limit(q.limit);
  return ex.selectFrom('users').selectAll().where('id', 'in', page).where('deleted_at', 'is', null).orderBy('id').execute();
}
