// SQL and row mapping for users. No rules here.
import { sql, type CompiledQuery, type Insertable, type Kysely, type SelectQueryBuilder, type Updateable } from 'kysely';
import type { AuditEventsTable, UsersTable } from '../../store/schema.js';
import { nowIso, parseJson, prefixUpperBound, toBool, toIso, type Engine, type Executor } from '../../store/sql.js';
import type { Store } from '../../store/db.js';
import type { User, UserListItem, UserListQuery, UserSummary } from './types.js';
import { fixedQuery, type FixedQuery } from '../../store/statements.js';
import type { NewOutboxRow } from '../outbox/store.js';
import type { ReadCache } from '../context.js';
import { takeUserRow, USER_COLUMNS, type UserRow } from '../auth/read-ahead.js';

// The users row and its columns are declared with the reads made ahead of a request (they join it to
// credential rows); this module is where they belong to.
export { USER_COLUMNS, type UserRow };

export function toUser(r: UserRow): User {
  // Written out rather than built from toUserSummary: a spread into a new literal cost GET by id ~0.09 ms of
  // server CPU, adding the other fields to the summary object ~0.03 ms (both measured A/B, alternating runs
  // at 16 connections): one literal gives V8 one shape, built in one go.
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

/** The columns of a user in the user-admin list (UserListItem): what Unleash's user shape shows, nothing more. */
export const LIST_ITEM_COLUMNS = [
  'id', 'username', 'name', 'email', 'avatar_url', 'login_attempts', 'root_role_id', 'seen_at', 'created_at', 'account_type',
] as const satisfies ReadonlyArray<(typeof USER_COLUMNS)[number]>;

export type ListItemRow = Pick<UserRow, (typeof LIST_ITEM_COLUMNS)[number]>;

export function toUserListItem(r: ListItemRow): UserListItem {
  return {
    id: r.id,
    username: r.username,
    name: r.name,
    email: r.email,
    avatarUrl: r.avatar_url,
    loginAttempts: r.login_attempts,
    rootRoleId: r.root_role_id,
    seenAt: toIso(r.seen_at),
    createdAt: toIso(r.created_at)!,
    accountType: r.account_type,
  };
}

const LIVE_ITEMS = fixedQuery<[number], ListItemRow>(1, (ex, limit) =>
  ex.selectFrom('users').select(LIST_ITEM_COLUMNS).where('deleted_at', 'is', null).orderBy('id').limit(limit));
const LIVE_ITEMS_AFTER = fixedQuery<[number, number], ListItemRow>(2, (ex, afterId, limit) =>
  ex.selectFrom('users').select(LIST_ITEM_COLUMNS).where('deleted_at', 'is', null).where('id', '>', afterId).orderBy('id').limit(limit));

/**
 * Live users in id order after `afterId`, at most `limit`, with the list item's columns only: one batch of a
 * keyset read over the primary key (src/store/batches.ts), on a pool connection for that statement alone.
 */
export function liveUserItemRows(ex: Executor, engine: Engine, afterId: number | undefined, limit: number): Promise<ListItemRow[]> {
  return afterId === undefined ? LIVE_ITEMS.execute(ex, engine, limit) : LIVE_ITEMS_AFTER.execute(ex, engine, afterId, limit);
}

/**
 * The first statement listUserRows(q) runs, compiled, for reading it ahead along with the caller's
 * credentials (Store.readTogether): a plain page's, or a PostgreSQL search's first window. Undefined for a
 * filtered plain page (built per request) and a SQLite search. Hand its rows to listUserRows as `firstRead`.
 */
export function firstPageQuery(ex: Executor, engine: Engine, q: UserListQuery, shape: ListShape): CompiledQuery | undefined {
  if (q.q) {
    if (engine !== 'postgres') return undefined;
    const s = searchStart(q);
    return searchStatementsFor(engine, { shape, after: s.after !== undefined, isActive: q.isActive, isAdmin: q.isAdmin })
      .page.compile(ex, engine, s.lo, s.hi, s.window, q.limit, ...(s.after === undefined ? [] : [s.after.key, s.after.id]));
  }
  if (q.isActive !== undefined || q.isAdmin !== undefined || q.emailContains) return undefined;
  return q.afterId === undefined ? LIVE_PAGE[shape].compile(ex, engine, q.limit) : LIVE_PAGE_AFTER[shape].compile(ex, engine, q.afterId, q.limit);
}

/**
 * A page of users: in id order after `afterId`, or, with `q`, a prefix search in search order (see
 * searchUserRows) after (`afterKey`, `afterId`), its rows carrying their search_key. `shape` 'summary'
 * reads only the SUMMARY_COLUMNS (the rows are then SummaryRow, read them with toUserSummary): a list page
 * read, parsed and threw away the password hash, keys and profile fields of 50 users it never showed.
 */
export async function listUserRows(
  ex: Executor, engine: Engine, q: UserListQuery, shape: ListShape = 'full',
  /** The rows of firstPageQuery(q), when they were read ahead. */
  firstRead?: unknown[],
): Promise<Array<UserRow & Partial<SearchPosition>>> {
  if (q.q) return searchUserRows(ex, engine, q, shape, firstRead as Array<UserRow & SearchRowExtras> | undefined);
  if (q.isActive === undefined && q.isAdmin === undefined && !q.emailContains) {
    if (firstRead) return firstRead as UserRow[];
    // The plain page (the console's, a sync job's): a fixed query.
    return q.afterId === undefined ? LIVE_PAGE[shape].execute(ex, engine, q.limit) : LIVE_PAGE_AFTER[shape].execute(ex, engine, q.afterId, q.limit);
  }
  let query = ex.selectFrom('users').select(columnsOf(shape) as unknown as typeof USER_COLUMNS).where('deleted_at', 'is', null);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  if (q.emailContains) {
    const pattern = `%${q.emailContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where(sql<boolean>`${sql.ref('email_key')} like ${pattern} escape '\\'`);
  }
  if (q.isActive !== undefined) query = query.where('is_active', '=', q.isActive ? 1 : 0);
  if (q.isAdmin !== undefined) {
    query = q.isAdmin ? query.where('root_role_id', 'in', [1, 4]) : query.where('root_role_id', 'not in', [1, 4]);
  }
  return query.orderBy('id').limit(q.limit).execute() as Promise<UserRow[]>;
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
  /** Outbox messages the event causes (webhook deliveries), written by the same statement when the update applies. */
  outbox: readonly NewOutboxRow[] = [],
): Promise<boolean> {
  const setColumns = Object.keys(set) as Array<keyof UsersTable & string>;
  const auditColumns = Object.keys(audit) as Array<keyof AuditEventsTable & string>;
  const withOutbox = outbox.length > 0;
  const shape = `${setColumns.join(',')}|${auditColumns.join(',')}${withOutbox ? '|outbox' : ''}`;
  let query = updateWithAuditQueries.get(shape);
  if (query === undefined) {
    query = updateWithAuditQuery(setColumns, auditColumns, withOutbox);
    // The shapes are the combinations of profile fields a client sends together: few in practice, bounded here.
    if (updateWithAuditQueries.size < 256) updateWithAuditQueries.set(shape, query);
  }
  const values = [
    id, version,
    ...setColumns.map((c) => (set as Record<string, unknown>)[c]),
    ...auditColumns.map((c) => (audit as Record<string, unknown>)[c]),
    ...(withOutbox ? [JSON.stringify(outbox.map((r) => ({ ...r, at: audit.occurred_at })))] : []),
  ];
  const rows = await query.execute(ex, 'postgres', ...values);
  return rows.length > 0;
}

const updateWithAuditQueries = new Map<string, FixedQuery<unknown[], { id: number }>>();

/** The statement of updateUserRowWithAudit for one set of changed columns and audit columns. */
function updateWithAuditQuery(setColumns: string[], auditColumns: string[], withOutbox: boolean): FixedQuery<unknown[], { id: number }> {
  return fixedQuery<unknown[], { id: number }>(2 + setColumns.length + auditColumns.length + (withOutbox ? 1 : 0), (ex, id, version, ...rest) => {
    const set = Object.fromEntries(setColumns.map((c, i) => [c, rest[i]])) as Updateable<UsersTable>;
    const auditValues = auditColumns.map((c, i) => sql.val(rest[setColumns.length + i]).as(c));
    const query = ex
      .with('u', (db) => db.updateTable('users').set(set).where('id', '=', id).where('version', '=', version).where('deleted_at', 'is', null).returning('id'))
      .with('a', (db) =>
        db.insertInto('audit_events').columns(auditColumns as Array<keyof AuditEventsTable & string>).expression((eb) => eb.selectFrom('u').select(auditValues) as never),
      );
    if (!withOutbox) return query.selectFrom('u').select('u.id');
    // The messages arrive as one JSON array (any number of them, one statement shape), inserted only when
    // the update applied (a row in u).
    const messages = rest[setColumns.length + auditColumns.length];
    return query
      .with('o', (db) =>
        db.insertInto('outbox_messages')
          .columns(['id', 'kind', 'webhook_id', 'event_type', 'payload', 'status', 'attempts', 'next_attempt_at', 'created_at'])
          .expression(sql`select m.id, m.kind, m.webhook_id, m.event_type, m.payload, 'pending', 0, m.at, m.at from u, jsonb_to_recordset(${messages}::jsonb) as m(id text, kind text, webhook_id integer, event_type text, payload text, at timestamptz)` as never),
      )
      .selectFrom('u')
      .select('u.id');
  });
}

// Prefix search. A user matches when the (case-folded) prefix starts their email, username or name key.
// Results are in search order: by the matching key, then id; a user whose keys match more than once is
// listed once, at the first of them (the smallest key; on a tie email, then username, then name). A page
// continues after the (key, id) of the last user of the previous one.
//
// In that order a page is a merge of three ordered reads of the (key, id) indexes of live users
// (migration 0005), each stopping after a few dozen entries whatever the prefix and the table's size. The
// list's id order made a common prefix and a rare one want opposite plans (a window of ids, or every match
// from the key indexes) and cost 1-4 ms of PostgreSQL CPU per search at 1,000,000 users.
//
// A user's second and third matching entries are skipped as the merge reaches them (search_keep = 0). One
// statement reads at most `window` entries of the merge; when that is not enough for a page (a long run of
// skipped entries: the users a common first name found by their names, met again by their emails), the next
// statement goes on from the last entry read, with a larger window.

/** The keys a search matches, in the order a tie between two keys of a user is broken. */
const SEARCH_KEYS = ['email_key', 'username_key', 'name_key'] as const;
type SearchKey = (typeof SEARCH_KEYS)[number];

/** Entries of the merge the first statement reads at most (at least 4 per result); each next one 4 times more. */
const SEARCH_WINDOW_MIN = 256;
const SEARCH_WINDOW_MAX = 65_536;

/** The columns a search row carries besides the user's. */
export interface SearchPosition {
  /** The key the user was found by: with the id, where the next page starts. */
  search_key: string;
}
interface SearchRowExtras extends SearchPosition {
  search_keep: number;
  search_pos: number;
}

// The stand-ins fixedQuery passes for values: typed `any`, each takes whatever type its position wants.
type Stand = any;
interface SearchValues { lo: Stand; hi: Stand; window: Stand; limit: Stand; afterKey: Stand; afterId: Stand }
interface SearchVariant { shape: ListShape; after: boolean; isActive?: boolean; isAdmin?: boolean }

/** 1 unless another key of the same user matches and comes first in search order (then this entry is skipped). */
function keepExpression(key: SearchKey, lo: Stand) {
  const rank = SEARCH_KEYS.indexOf(key);
  const earlier = SEARCH_KEYS.filter((k) => k !== key).map((other) =>
    // Another matching key comes first when it is smaller, or equal and of a lower rank; it matches when it
    // is >= the prefix (and it is <= this key, which is below the prefix's upper bound).
    sql`(${sql.ref(other)} >= ${lo} and ${sql.ref(other)} ${sql.raw(SEARCH_KEYS.indexOf(other) < rank ? '<=' : '<')} ${sql.ref(key)})`);
  // A null key compares as null: not true, so it never hides an entry.
  return sql<number>`case when ${sql.join(earlier, sql` or `)} then 0 else 1 end`;
}

/** One key's matches of live users after the cursor (read in (key, id) order from its index). */
function searchArm(ex: Executor, key: SearchKey, v: SearchValues, variant: SearchVariant, columns: 'row' | 'position') {
  let arm = (columns === 'row'
    ? ex.selectFrom('users').select(columnsOf(variant.shape) as unknown as typeof USER_COLUMNS).select([sql.ref(key).as('search_key'), keepExpression(key, v.lo).as('search_keep')])
    : ex.selectFrom('users').select(['id', sql.ref(key).as('search_key')])) as SelectQueryBuilder<any, any, any>;
  arm = arm.where('deleted_at', 'is', null).where(key, '>=', v.lo).where(key, '<', v.hi);
  if (variant.after) arm = arm.where((eb: any) => eb(eb.refTuple(key, 'id'), '>', eb.tuple(v.afterKey, v.afterId)));
  if (variant.isActive !== undefined) arm = arm.where('is_active', '=', variant.isActive ? 1 : 0);
  if (variant.isAdmin !== undefined) arm = variant.isAdmin ? arm.where('root_role_id', 'in', [1, 4]) : arm.where('root_role_id', 'not in', [1, 4]);
  return arm;
}

/** The first `window` entries of the three keys' matches, merged in (key, id) order. */
function searchMerge(ex: Executor, engine: Engine, v: SearchValues, variant: SearchVariant, columns: 'row' | 'position'): SelectQueryBuilder<any, any, any> {
  const arms = SEARCH_KEYS.map((key) => {
    const arm = searchArm(ex, key, v, variant, columns);
    // PostgreSQL merges ordered parts (Merge Append) only when each has its own ORDER BY and LIMIT, and then
    // also keeps the outer conditions out of them (inside, a part would scan past every skipped entry to find
    // its first row). SQLite takes no ORDER BY on the parts of a compound select: it orders each part by the
    // compound's ORDER BY itself and merges them lazily.
    //
    // Each part's LIMIT is a sub-select, unknown when PostgreSQL plans the statement. It plans the first
    // executions of a prepared statement for their values, and with the window as a number it weighed
    // reading the whole prefix range against it: where the histogram put fewer matches than the window it
    // read them all through a bitmap scan and sorted them. At 1,000,000 users it once estimated "mary" at 74
    // rows (there are 14,000): 245-1,200 ms a search, where the ordered index scan that stops at the page
    // takes 0.2 ms. With the limit unknown it plans for reading a fraction of the range, which an ordered
    // index scan does at once: that plan for every prefix, whatever the statistics.
    return engine === 'postgres'
      ? (ex as unknown as Kysely<any>).selectFrom(arm.orderBy(key).orderBy('id').limit(sql<number>`(select ${v.window}::int8)`).as(`by_${key}`)).selectAll()
      : arm;
  });
  return arms[0].unionAll(arms[1]).unionAll(arms[2]).orderBy('search_key').orderBy('id').limit(v.window);
}

/**
 * PostgreSQL: one search window in one statement. The rows of the window's users to keep, in order, and the
 * window's last entry whatever it is (search_pos = window): where the next window starts, when this one
 * did not hold a page.
 */
function pgSearchStatement(variant: SearchVariant): FixedQuery<unknown[], UserRow & SearchRowExtras> {
  return fixedQuery<unknown[], UserRow & SearchRowExtras>(variant.after ? 6 : 4, (ex, lo, hi, window, limit, afterKey, afterId) => {
    const v: SearchValues = { lo, hi, window, limit, afterKey, afterId };
    const db = ex as unknown as Kysely<any>;
    const numbered = db
      .selectFrom(searchMerge(ex, 'postgres', v, variant, 'row').as('m'))
      .selectAll('m')
      .select(sql<number>`row_number() over (order by m.search_key, m.id)`.as('search_pos'));
    return db
      .selectFrom(numbered.as('s'))
      .selectAll('s')
      .where((eb) => eb.or([eb('s.search_keep', '=', 1), eb('s.search_pos', '=', window)]))
      .orderBy('s.search_key')
      .orderBy('s.id')
      .limit(limit) as never;
  });
}

/**
 * SQLite: the rows of the window's users to keep, in order. Its window function would read the whole window
 * before the first row (4-5x the work); where the window ends is a second statement, only for a short page.
 */
function sqliteSearchStatement(variant: SearchVariant): FixedQuery<unknown[], UserRow & SearchRowExtras> {
  return fixedQuery<unknown[], UserRow & SearchRowExtras>(variant.after ? 6 : 4, (ex, lo, hi, window, limit, afterKey, afterId) => {
    const v: SearchValues = { lo, hi, window, limit, afterKey, afterId };
    return (ex as unknown as Kysely<any>)
      .selectFrom(searchMerge(ex, 'sqlite', v, variant, 'row').as('m'))
      .selectAll('m')
      .where('m.search_keep', '=', 1)
      // The merge's own order: SQLite reads it lazily and stops at the limit.
      .orderBy('m.search_key')
      .orderBy('m.id')
      .limit(limit) as never;
  });
}

/** SQLite: the window's last entry (the window-th of the merge), when the merge is that long. */
function sqliteWindowEndStatement(variant: SearchVariant): FixedQuery<unknown[], { id: number; search_key: string }> {
  return fixedQuery<unknown[], { id: number; search_key: string }>(variant.after ? 6 : 4, (ex, lo, hi, window, last, afterKey, afterId) => {
    const v: SearchValues = { lo, hi, window, limit: last, afterKey, afterId };
    return (ex as unknown as Kysely<any>)
      .selectFrom(searchMerge(ex, 'sqlite', v, variant, 'position').as('m'))
      .select(['m.id', 'm.search_key'])
      .orderBy('m.search_key')
      .orderBy('m.id')
      .limit(1)
      .offset(last) as never;
  });
}

type SearchStatements = {
  page: FixedQuery<unknown[], UserRow & SearchRowExtras>;
  windowEnd?: FixedQuery<unknown[], { id: number; search_key: string }>;
};
const searchStatements = new Map<string, SearchStatements>();

function searchStatementsFor(engine: Engine, variant: SearchVariant): SearchStatements {
  const name = `${engine}|${variant.shape}|${variant.after}|${variant.isActive}|${variant.isAdmin}`;
  let statements = searchStatements.get(name);
  if (statements === undefined) {
    // At most 2 engines × 2 shapes × 2 cursors × 3 × 3 filter values.
    statements = engine === 'postgres'
      ? { page: pgSearchStatement(variant) }
      : { page: sqliteSearchStatement(variant), windowEnd: sqliteWindowEndStatement(variant) };
    searchStatements.set(name, statements);
  }
  return statements;
}

/** Where a search starts: its key range, its first window, the cursor it continues. */
function searchStart(q: UserListQuery) {
  const lo = q.q!;
  return {
    lo,
    hi: prefixUpperBound(lo),
    window: Math.max(SEARCH_WINDOW_MIN, 4 * q.limit),
    after: q.afterId !== undefined ? { key: q.afterKey ?? '', id: q.afterId } : undefined,
  };
}

/**
 * A prefix search page (live users, search order, after the cursor `afterKey`/`afterId`); rows carry their
 * search_key. `firstRead`: the first window's rows, when firstPageQuery read them ahead.
 */
async function searchUserRows(
  ex: Executor, engine: Engine, q: UserListQuery, shape: ListShape, firstRead?: Array<UserRow & SearchRowExtras>,
): Promise<Array<UserRow & SearchPosition>> {
  const start = searchStart(q);
  const { lo, hi } = start;
  let { window, after } = start;
  const out: Array<UserRow & SearchPosition> = [];
  let ahead = firstRead;
  for (;;) {
    const statements = searchStatementsFor(engine, { shape, after: after !== undefined, isActive: q.isActive, isAdmin: q.isAdmin });
    const cursor = after === undefined ? [] : [after.key, after.id];
    const rows = ahead ?? await statements.page.execute(ex, engine, lo, hi, window, q.limit - out.length, ...cursor);
    ahead = undefined;
    let windowEnd: { id: number; search_key: string } | undefined;
    for (const row of rows) {
      // The rows keep their search_keep/search_pos columns: copying them without would cost an object each.
      if (Number(row.search_keep) === 1) out.push(row);
      if (Number(row.search_pos) === window) windowEnd = row;
    }
    if (out.length >= q.limit) return out;
    // A short page: the merge ended inside this window (done), or the window was all read (go on after it).
    if (statements.windowEnd) [windowEnd] = await statements.windowEnd.execute(ex, engine, lo, hi, window, window - 1, ...cursor);
    if (windowEnd === undefined) return out;
    after = { key: windowEnd.search_key, id: windowEnd.id };
    window = Math.min(window * 4, SEARCH_WINDOW_MAX);
  }
}

/** A list page's statement to read ahead with the caller's credentials (ReadCache key, compiled statement). */
export interface PageRead {
  key: string;
  query: CompiledQuery;
}

/** The key under which a list page read ahead is kept (RequestContext.reads). */
function pageReadKey(q: UserListQuery, shape: ListShape): string {
  return `users.page:${shape}|${q.limit}|${q.afterId ?? ''}|${q.afterKey ?? ''}|${q.q ?? ''}|${q.isActive ?? ''}|${q.isAdmin ?? ''}|${q.emailContains ?? ''}`;
}

/**
 * The users statements bound to a store (its database and engine): the service asks for operations, and
 * where the engines differ (row locks, the one-statement profile write) the difference is decided here.
 */
export function createUserStore(store: Store) {
  const { db, engine } = store;
  return {
    transaction: <T>(work: (trx: Executor) => Promise<T>): Promise<T> => db.transaction().execute(work),

    /** User `id`'s row: as the request read it ahead (`reads`), or read now. */
    async findUser(id: number, reads?: ReadCache): Promise<UserRow | undefined> {
      const ahead = takeUserRow(reads, id);
      return ahead ? ahead.value : findUserRow(db, engine, id);
    },

    /** User `id`'s row read in a transaction (no lock). */
    readUser: (trx: Executor, id: number): Promise<UserRow | undefined> => findUserRow(trx, engine, id),

    /** User `id`'s row in a transaction, locked (PostgreSQL) until it ends. */
    lockUser: (trx: Executor, id: number): Promise<UserRow | undefined> => findUserRow(trx, engine, id, { forUpdate: true }),

    /** Locks (PostgreSQL) and returns the ids of active, non-deleted admins (root role Admin or Owner). */
    lockActiveAdminIds: (trx: Executor): Promise<number[]> => lockActiveAdminIds(trx, engine),

    findByLogin: (key: string): Promise<UserRow | undefined> => findUserRowByLogin(db, key),

    liveItems: (afterId: number | undefined, limit: number): Promise<ListItemRow[]> => liveUserItemRows(db, engine, afterId, limit),

    /** The first statement of page q, to read ahead (firstPageQuery); undefined where there is none. */
    pageRead(q: UserListQuery, shape: ListShape): PageRead | undefined {
      const query = firstPageQuery(db, engine, q, shape);
      return query && { key: pageReadKey(q, shape), query };
    },

    /** Page q (listUserRows), from the rows the request read ahead for it when it did. */
    page(q: UserListQuery, shape: ListShape, reads?: ReadCache): Promise<Array<UserRow & Partial<SearchPosition>>> {
      const ahead = reads?.take(pageReadKey(q, shape));
      return listUserRows(db, engine, q, shape, ahead?.value as unknown[] | undefined);
    },

    insert(trx: Executor, values: Insertable<UsersTable>): Promise<UserRow> {
      return trx.insertInto('users').values(values).returningAll().executeTakeFirstOrThrow();
    },

    /** Writes `set` to user `id` if it still has `version`; the row written, or undefined when it moved on. */
    updateVersioned(trx: Executor, id: number, version: number, set: Updateable<UsersTable>): Promise<UserRow | undefined> {
      return trx.updateTable('users').set(set).where('id', '=', id).where('version', '=', version).returningAll().executeTakeFirst();
    },

    async delete(trx: Executor, id: number): Promise<void> {
      await trx.deleteFrom('users').where('id', '=', id).execute();
    },

    /** A successful sign-in: when, from where, the failure counter reset (and a new password hash, when given). */
    async recordLogin(id: number, ip: string, rehash?: string): Promise<void> {
      const now = nowIso();
      await db
        .updateTable('users')
        .set({ last_login_at: now, seen_at: now, last_login_ip: ip, login_attempts: 0, ...(rehash ? { password_hash: rehash } : {}) })
        .where('id', '=', id)
        .execute();
    },

    async countFailedLogin(id: number): Promise<void> {
      await db.updateTable('users').set((eb) => ({ login_attempts: eb('login_attempts', '+', 1) })).where('id', '=', id).execute();
    },

    /** 1 when there is an active, non-deleted admin, else 0. */
    async anyActiveAdmin(): Promise<number> {
      const rows = await db
        .selectFrom('users')
        .select('id')
        .where('root_role_id', 'in', [1, 4])
        .where('is_active', '=', 1)
        .where('deleted_at', 'is', null)
        .limit(1)
        .execute();
      return rows.length;
    },

    /**
     * Whether this store writes a profile edit and its audit event in one statement (updateWithAudit):
     * PostgreSQL's data-modifying CTE. Elsewhere the edit takes the transaction.
     */
    writesWithAuditInOneStatement: engine === 'postgres',

    /** updateUserRowWithAudit on this store's database (only where writesWithAuditInOneStatement). */
    updateWithAudit: (id: number, version: number, set: Updateable<UsersTable>, audit: Insertable<AuditEventsTable>, outbox: readonly NewOutboxRow[] = []): Promise<boolean> =>
      updateUserRowWithAudit(db, id, version, set, audit, outbox),
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
