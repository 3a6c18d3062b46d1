// SQL and row mapping for users. No rules here.
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { AuditEventsTable, UsersTable } from '../../store/schema.js';
import { parseJson, prefixUpperBound, toBool, toIso, type Engine, type Executor } from '../../store/sql.js';
import type { User, UserListQuery, UserSummary } from './types.js';
import { CUSTOM_PLAN, fixedQuery, type FixedQuery } from '../../store/statements.js';

export type UserRow = Selectable<UsersTable>;

export function toUser(r: UserRow): User {
  return {
    ...toUserSummary(r),
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
    lastLoginIp: r.last_login_ip,
    seenAt: toIso(r.seen_at),
    hasPassword: r.password_hash !== null,
  };
}

/** Every column of users, in table order (the joined reads below name them one by one). */
export const USER_COLUMNS = [
  'id', 'username', 'username_key', 'name', 'name_key', 'email', 'email_key', 'email_verified_at', 'password_hash',
  'is_active', 'root_role_id', 'account_type', 'avatar_url', 'phone', 'title', 'emergency_contact_name',
  'emergency_contact_surname', 'emergency_contact_phone_number', 'blood_group', 'bio', 'languages',
  'login_attempts', 'last_login_at', 'last_login_ip', 'seen_at', 'created_at', 'updated_at', 'deleted_at', 'version',
] as const satisfies ReadonlyArray<keyof UsersTable>;
// A column added to UsersTable and not to the list above fails to compile here.
const everyUserColumn: Exclude<keyof UsersTable, (typeof USER_COLUMNS)[number]> extends never ? true : never = true;
void everyUserColumn;

/** The columns of a user in a list (UserSummary): no password hash, no profile fields, no search keys. */
export const SUMMARY_COLUMNS = [
  'id', 'username', 'name', 'email', 'email_verified_at', 'is_active', 'root_role_id', 'created_at', 'updated_at',
  'last_login_at', 'deleted_at', 'version',
] as const satisfies ReadonlyArray<(typeof USER_COLUMNS)[number]>;

export type SummaryRow = Pick<UserRow, (typeof SUMMARY_COLUMNS)[number]>;

export function toUserSummary(r: SummaryRow): UserSummary {
  return {
    id: r.id,
    username: r.username,
    name: r.name,
    email: r.email,
    emailVerifiedAt: toIso(r.email_verified_at),
    isActive: toBool(r.is_active),
    rootRoleId: r.root_role_id,
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
    lastLoginAt: toIso(r.last_login_at),
    deletedAt: toIso(r.deleted_at),
    version: r.version,
  };
}

/** Which columns a list reads: every one (User) or the list's own (UserSummary). */
export type ListShape = 'full' | 'summary';
const columnsOf = (shape: ListShape) => (shape === 'full' ? USER_COLUMNS : SUMMARY_COLUMNS);

const TARGET_PREFIX = 'target_';

/**
 * The select list of a user row read alongside another one (the caller's credentials): every column of
 * the users table joined as `alias`, named `target_<column>` so it cannot collide with the other row's.
 */
export function targetUserSelection(alias: string) {
  return USER_COLUMNS.map((c) => sql.ref(`${alias}.${c}`).as(`${TARGET_PREFIX}${c}`));
}

/** The user row back out of a row selected with targetUserSelection; undefined when the join found none. */
export function targetUserRow(row: Record<string, unknown>): UserRow | undefined {
  if (row[`${TARGET_PREFIX}id`] === null || row[`${TARGET_PREFIX}id`] === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const c of USER_COLUMNS) out[c] = row[`${TARGET_PREFIX}${c}`];
  return out as unknown as UserRow;
}

const USER_BY_ID = fixedQuery<[number], UserRow>(1, (ex, id) => ex.selectFrom('users').selectAll().where('id', '=', id));
const USER_BY_ID_FOR_UPDATE = fixedQuery<[number], UserRow>(1, (ex, id) => ex.selectFrom('users').selectAll().where('id', '=', id).forUpdate());

export async function findUserRow(ex: Executor, engine: Engine, id: number, opts: { forUpdate?: boolean } = {}): Promise<UserRow | undefined> {
  // SQLite has no row locks: its writers are serialised by the database itself.
  const [row] = await (opts.forUpdate && engine === 'postgres' ? USER_BY_ID_FOR_UPDATE : USER_BY_ID).execute(ex, engine, id);
  return row;
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

const livePage = (shape: ListShape) =>
  fixedQuery<[number], UserRow>(1, (ex, limit) => ex.selectFrom('users').select(columnsOf(shape)).where('deleted_at', 'is', null).orderBy('id').limit(limit));
const livePageAfter = (shape: ListShape) =>
  fixedQuery<[number, number], UserRow>(2, (ex, afterId, limit) =>
    ex.selectFrom('users').select(columnsOf(shape)).where('deleted_at', 'is', null).where('id', '>', afterId).orderBy('id').limit(limit));
const LIVE_PAGE = { full: livePage('full'), summary: livePage('summary') };
const LIVE_PAGE_AFTER = { full: livePageAfter('full'), summary: livePageAfter('summary') };

/**
 * A page of users in id order. `shape` 'summary' reads only the SUMMARY_COLUMNS (the rows are then
 * SummaryRow, read them with toUserSummary): a list page read, parsed and threw away the password hash,
 * keys and profile fields of 50 users it never showed.
 */
export async function listUserRows(ex: Executor, engine: Engine, q: UserListQuery, shape: ListShape = 'full'): Promise<UserRow[]> {
  if (q.q && !q.includeDeleted && q.isActive === undefined && q.isAdmin === undefined) return searchUserRows(ex, engine, q, shape);
  if (!q.q && !q.includeDeleted && q.isActive === undefined && q.isAdmin === undefined) {
    // The plain page (the console's, a sync job's): a fixed query.
    return q.afterId === undefined ? LIVE_PAGE[shape].execute(ex, engine, q.limit) : LIVE_PAGE_AFTER[shape].execute(ex, engine, q.afterId, q.limit);
  }
  let query = ex.selectFrom('users').select(columnsOf(shape) as unknown as typeof USER_COLUMNS);
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
  query = query.orderBy('id').limit(q.limit);
  // A prefix's best plan depends on how common it is: planned for its value each time (see store/statements.ts).
  if (q.q) query = query.modifyEnd(sql.raw(CUSTOM_PLAN));
  return query.execute() as Promise<UserRow[]>;
}

export async function countSql(ex: Executor): Promise<number> {
  const r = await ex.selectFrom('users').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * PostgreSQL only (data-modifying CTE): updates the user if it still has `version` and is not deleted and,
 * only when it did, inserts `audit` into audit_events, in one statement (one round trip, atomic on its own).
 * True when the row was updated; false when the version moved on (the caller re-reads and decides again).
 * Only the id comes back: the caller knows the row it wrote, and RETURNING * cost PostgreSQL a third of the
 * statement's time (pgbench, 16 clients: 3,500–3,900 statements/s with the whole row, 5,200–5,400 with the id).
 */
export async function updateUserRowWithAudit(
  ex: Executor,
  id: number,
  version: number,
  set: Updateable<UsersTable>,
  audit: Insertable<AuditEventsTable>,
): Promise<boolean> {
  const setColumns = Object.keys(set) as Array<keyof UsersTable & string>;
  const auditColumns = Object.keys(audit) as Array<keyof AuditEventsTable & string>;
  const shape = `${setColumns.join(',')}|${auditColumns.join(',')}`;
  let query = updateWithAuditQueries.get(shape);
  if (query === undefined) {
    query = updateWithAuditQuery(setColumns, auditColumns);
    // The shapes are the combinations of profile fields a client sends together: few in practice, bounded here.
    if (updateWithAuditQueries.size < 256) updateWithAuditQueries.set(shape, query);
  }
  const values = [
    id, version,
    ...setColumns.map((c) => (set as Record<string, unknown>)[c]),
    ...auditColumns.map((c) => (audit as Record<string, unknown>)[c]),
  ];
  const rows = await query.execute(ex, 'postgres', ...values);
  return rows.length > 0;
}

const updateWithAuditQueries = new Map<string, FixedQuery<unknown[], { id: number }>>();

/** The statement of updateUserRowWithAudit for one set of changed columns and audit columns. */
function updateWithAuditQuery(setColumns: string[], auditColumns: string[]): FixedQuery<unknown[], { id: number }> {
  return fixedQuery<unknown[], { id: number }>(2 + setColumns.length + auditColumns.length, (ex, id, version, ...rest) => {
    const set = Object.fromEntries(setColumns.map((c, i) => [c, rest[i]])) as Updateable<UsersTable>;
    const auditValues = auditColumns.map((c, i) => sql.val(rest[setColumns.length + i]).as(c));
    return ex
      .with('u', (db) => db.updateTable('users').set(set).where('id', '=', id).where('version', '=', version).where('deleted_at', 'is', null).returning('id'))
      .with('a', (db) =>
        db.insertInto('audit_events').columns(auditColumns as Array<keyof AuditEventsTable & string>).expression((eb) => eb.selectFrom('u').select(auditValues) as never),
      )
      .selectFrom('u')
      .select('u.id');
  });
}

/** How many live users after the cursor a prefix search reads in id order before switching to the indexes. */
const SEARCH_SCAN_WINDOW = 5000;

/**
 * A prefix search page (email, username or name key; live users; id order after the cursor) in ONE
 * statement, whatever the prefix:
 * - dense: a common prefix ("mary") finds its page among the next SEARCH_SCAN_WINDOW live users in id order,
 *   read from the (id) INCLUDE (keys) index of live users (migration 0006, index-only);
 * - sparse: when that window holds less than a page, a rarer prefix ("mary.s") reads the matching ids from
 *   the (key, id) indexes of live users (migration 0005, index-only) and keeps the first page of them. The
 *   sparse branch sits behind a condition on the dense result that PostgreSQL evaluates once, first: a
 *   common prefix never runs it;
 * then only the page's rows are fetched (SQLite: the same two reads as two statements). A single OR query over the table left the choice to the planner,
 * which read 36,000-107,000 rows or 1,400 scattered heap rows (8-43 ms) at 1,000,000 users for prefixes in
 * between; two statements (dense, then sparse) cost a round trip and a wasted window for every rare prefix.
 */
async function searchUserRows(ex: Executor, engine: Engine, q: UserListQuery, shape: ListShape): Promise<UserRow[]> {
  const lo = q.q!;
  const hi = prefixUpperBound(lo);
  const from = q.afterId === undefined ? 'first' : 'after';
  if (engine === 'postgres') return SEARCH[shape][from].execute(ex, engine, lo, hi, q.limit, q.afterId ?? 0);
  // SQLite runs in-process (a second statement costs no round trip) and has no one-time filter: in one
  // statement it ran the sparse branch for every prefix (17-23 ms per search at 1,000,000 users).
  const dense = await SQLITE_DENSE[shape][from].execute(ex, engine, lo, hi, q.limit, q.afterId ?? 0);
  if (dense.length >= q.limit) return dense;
  return SQLITE_SPARSE[shape][from].execute(ex, engine, lo, hi, q.limit, q.afterId ?? 0);
}

type SearchQuery = FixedQuery<[string, string, number, number], UserRow>;
// The stand-ins fixedQuery passes for values: typed `any`, each takes whatever type its position wants.
type Stand = any;

/** The window of live users in id order a common prefix finds its page in (an index-only scan, migration 0006). */
const windowIds = (ex: Executor, lo: Stand, hi: Stand, limit: Stand, afterId: Stand, afterCursor: boolean) => {
  let window = ex.selectFrom('users').select(['id', 'email_key', 'username_key', 'name_key']).where('deleted_at', 'is', null);
  if (afterCursor) window = window.where('id', '>', afterId);
  return ex
    .selectFrom(window.orderBy('id').limit(SEARCH_SCAN_WINDOW).as('w'))
    .select('w.id')
    .where((eb) =>
      eb.or([
        eb.and([eb('w.email_key', '>=', lo), eb('w.email_key', '<', hi)]),
        eb.and([eb('w.username_key', '>=', lo), eb('w.username_key', '<', hi)]),
        eb.and([eb('w.name_key', '>=', lo), eb('w.name_key', '<', hi)]),
      ]),
    )
    .orderBy('w.id')
    .limit(limit);
};

/** Every live user matching the prefix on one of the keys, from the (key, id) indexes (migration 0005). */
const matchingIds = (ex: Executor, lo: Stand, hi: Stand, afterId: Stand, afterCursor: boolean) => {
  const ids = (key: 'email_key' | 'username_key' | 'name_key') => {
    let b = ex.selectFrom('users').select('id').where('deleted_at', 'is', null).where(key, '>=', lo).where(key, '<', hi);
    if (afterCursor) b = b.where('id', '>', afterId);
    return b;
  };
  return ids('email_key').union(ids('username_key')).union(ids('name_key'));
};

/** PostgreSQL: dense and sparse in one statement (see searchUserRows), planned for its values each time. */
function searchQuery(shape: ListShape, afterCursor: boolean): SearchQuery {
  return fixedQuery<[string, string, number, number], UserRow>(afterCursor ? 4 : 3, (ex, lo, hi, limit, afterId) => {
    const denseCount = sql<number>`(select count(*) from dense)`;
    return ex
      .with((cte) => cte('dense').materialized(), () => windowIds(ex, lo, hi, limit, afterId, afterCursor))
      .with('sparse', (db) =>
        db
          .selectFrom(matchingIds(ex, lo, hi, afterId, afterCursor).as('m'))
          .select('m.id')
          .where(denseCount, '<', limit)
          .orderBy('m.id')
          .limit(limit))
      .selectFrom('users')
      .select(columnsOf(shape) as unknown as typeof USER_COLUMNS)
      .where('id', 'in', (eb) =>
        eb.selectFrom('dense').select('dense.id').where(denseCount, '>=', limit).unionAll(eb.selectFrom('sparse').select('sparse.id')))
      .orderBy('id')
      // A cached generic plan took twice as long for rare prefixes (2.9 ms against 1.3 ms at 1M users).
      .modifyEnd(sql.raw(CUSTOM_PLAN)) as never;
  });
}

/** SQLite, first statement: the page from the window, when it holds a whole page. */
function sqliteDenseQuery(shape: ListShape, afterCursor: boolean): SearchQuery {
  return fixedQuery<[string, string, number, number], UserRow>(afterCursor ? 4 : 3, (ex, lo, hi, limit, afterId) =>
    ex.selectFrom('users').select(columnsOf(shape) as unknown as typeof USER_COLUMNS)
      .where('id', 'in', windowIds(ex, lo, hi, limit, afterId, afterCursor)).orderBy('id') as never);
}

/** SQLite, second statement: the page from the key indexes. */
function sqliteSparseQuery(shape: ListShape, afterCursor: boolean): SearchQuery {
  return fixedQuery<[string, string, number, number], UserRow>(afterCursor ? 4 : 3, (ex, lo, hi, limit, afterId) =>
    ex.selectFrom('users').select(columnsOf(shape) as unknown as typeof USER_COLUMNS)
      .where('id', 'in', ex.selectFrom(matchingIds(ex, lo, hi, afterId, afterCursor).as('m')).select('m.id').orderBy('m.id').limit(limit))
      .where('deleted_at', 'is', null)
      .orderBy('id') as never);
}

const SQLITE_DENSE = {
  full: { first: sqliteDenseQuery('full', false), after: sqliteDenseQuery('full', true) },
  summary: { first: sqliteDenseQuery('summary', false), after: sqliteDenseQuery('summary', true) },
};
const SQLITE_SPARSE = {
  full: { first: sqliteSparseQuery('full', false), after: sqliteSparseQuery('full', true) },
  summary: { first: sqliteSparseQuery('summary', false), after: sqliteSparseQuery('summary', true) },
};
const SEARCH = {
  full: { first: searchQuery('full', false), after: searchQuery('full', true) },
  summary: { first: searchQuery('summary', false), after: searchQuery('summary', true) },
};
