// SQL of the admin's view of one user's ways in (src/core/user-access): their live sessions, their API
// tokens, their tenant memberships, their invite links. Secrets (token and session hashes) are never read.
import { sql, type Kysely } from 'kysely';
import { nowIso, prefixUpperBound, toIso, type Engine, type Executor } from '../../store/sql.js';
import type { Store } from '../../store/db.js';
import { findUserRow } from '../users/store.js';
import type { UserListQuery } from '../users/types.js';

export interface UserSessionView {
  id: string;
  kind: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
}

export interface UserTokenView {
  id: number;
  name: string;
  kind: string;
  /** personal: the user owns it; admin: an admin API token acting for the user (they made it). */
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface UserMembershipView {
  tenantId: number;
  tenantName: string;
  createdAt: string;
  deletedAt: string | null;
  roles: Array<{ id: number; name: string }>;
}

const SESSION_COLUMNS = ['id', 'kind', 'created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent'] as const;

function toSessionView(r: { id: string; kind: string; created_at: Date | string; last_seen_at: Date | string; expires_at: Date | string; ip: string | null; user_agent: string | null }): UserSessionView {
  return {
    id: r.id, kind: r.kind, createdAt: toIso(r.created_at)!, lastSeenAt: toIso(r.last_seen_at)!, expiresAt: toIso(r.expires_at)!,
    ip: r.ip, userAgent: r.user_agent,
  };
}

/** A user's live sessions (not revoked, not expired), newest first, at most `limit`. */
export async function liveSessionRows(ex: Executor, userId: number, limit: number): Promise<UserSessionView[]> {
  const rows = await ex
    .selectFrom('sessions')
    .select(SESSION_COLUMNS)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowIso())
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toSessionView);
}

/** One live session of a user (row-locked on PostgreSQL); undefined when it is not theirs, revoked or expired. */
export async function liveSessionRow(ex: Executor, engine: Engine, userId: number, sessionId: string): Promise<UserSessionView | undefined> {
  let q = ex
    .selectFrom('sessions')
    .select(SESSION_COLUMNS)
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowIso());
  if (engine === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && toSessionView(row);
}

const TOKEN_COLUMNS = ['id', 'name', 'kind', 'created_by', 'created_at', 'expires_at', 'last_used_at'] as const;

function toTokenView(r: { id: number; name: string; kind: string; created_by: string | null; created_at: Date | string; expires_at: Date | string | null; last_used_at: Date | string | null }): UserTokenView {
  return {
    id: r.id, name: r.name, kind: r.kind, createdBy: r.created_by, createdAt: toIso(r.created_at)!,
    expiresAt: toIso(r.expires_at), lastUsedAt: toIso(r.last_used_at),
  };
}

/** The user's personal tokens and the admin API tokens acting for them, in id order after `after`, at most `limit`. */
export async function userTokenRows(ex: Executor, userId: number, after: number | undefined, limit: number): Promise<UserTokenView[]> {
  const rows = await ex
    .selectFrom('api_tokens')
    .select(TOKEN_COLUMNS)
    .where((eb) => eb.or([eb('user_id', '=', userId), eb('creator_user_id', '=', userId)]))
    .$if(after !== undefined, (b) => b.where('id', '>', after!))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toTokenView);
}

/** One token of the user (theirs, or acting for them); undefined otherwise. */
export async function userTokenRow(ex: Executor, userId: number, tokenId: number): Promise<UserTokenView | undefined> {
  const row = await ex
    .selectFrom('api_tokens')
    .select(TOKEN_COLUMNS)
    .where('id', '=', tokenId)
    .where((eb) => eb.or([eb('user_id', '=', userId), eb('creator_user_id', '=', userId)]))
    .executeTakeFirst();
  return row && toTokenView(row);
}

export async function deleteTokenRow(ex: Executor, tokenId: number): Promise<boolean> {
  const r = await ex.deleteFrom('api_tokens').where('id', '=', tokenId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The user's tenant memberships (soft-deleted ones too, with deleted_at) and their roles there, in tenant order. */
export async function membershipRows(ex: Executor, userId: number): Promise<UserMembershipView[]> {
  const members = await ex
    .selectFrom('tenant_members as m')
    .innerJoin('tenants as t', 't.id', 'm.tenant_id')
    .select(['m.tenant_id', 't.name', 'm.created_at', 'm.deleted_at'])
    .where('m.user_id', '=', userId)
    .orderBy('m.tenant_id')
    .execute();
  if (members.length === 0) return [];
  const roles = await ex
    .selectFrom('tenant_user_roles as ur')
    .innerJoin('roles as r', 'r.id', 'ur.role_id')
    .select(['ur.tenant_id', 'r.id', 'r.name'])
    .where('ur.user_id', '=', userId)
    .orderBy('ur.tenant_id')
    .orderBy('r.id')
    .execute();
  const byTenant = new Map<number, Array<{ id: number; name: string }>>();
  for (const r of roles) {
    let list = byTenant.get(r.tenant_id);
    if (!list) byTenant.set(r.tenant_id, (list = []));
    list.push({ id: r.id, name: r.name });
  }
  return members.map((m) => ({
    tenantId: m.tenant_id, tenantName: m.name, createdAt: toIso(m.created_at)!, deletedAt: toIso(m.deleted_at), roles: byTenant.get(m.tenant_id) ?? [],
  }));
}

/** A new invite (set-your-first-password) token row: only the token's SHA-256 is stored. */
export async function insertInviteRow(ex: Executor, v: { tokenHash: string; userId: number; createdBy: string; expiresAt: string }): Promise<void> {
  await ex
    .insertInto('useradmin_invites')
    .values({ token_hash: v.tokenHash, user_id: v.userId, created_by: v.createdBy, created_at: nowIso(), expires_at: v.expiresAt, used_at: null })
    .execute();
}

/** The statements above bound to one store: the engine decides the locking inside, the service never sees it. */
export function createUserAccessStore(store: Store) {
  const { db, engine } = store;
  return {
    db,
    findUser: (ex: Executor, id: number, forUpdate = false) => findUserRow(ex, engine, id, { forUpdate }),
    liveSession: (ex: Executor, userId: number, sessionId: string) => liveSessionRow(ex, engine, userId, sessionId),
    liveUsersBeyondCap: (): Promise<ListTotal> => liveUsersBeyondCap(db, engine),
  };
}

// The total of a user list (GET /api/admin/users `total`): how many live users the query matches, counted
// exactly up to a cap and no further, so a count costs a bounded read whatever the table's size.
//
// - A list (filters, no q): count(*) over at most cap + 1 matching rows (`limit` in a sub-select).
// - A search (q): the three prefix ranges (email, username, name keys; the live (key, id) indexes of
//   migration 0005) each read up to cap + 1 ids, their union counted. When no range reached cap + 1 ids, the
//   union is every match (exact); when one did, there are more than cap matches (not exact).
// - More than cap: the unfiltered list of live users on PostgreSQL takes the planner's estimate (reltuples
//   of the partial index of live users, kept by autovacuum/ANALYZE), on SQLite the highest user id (deleted
//   users included); a filtered list or a search says "more than cap" (total = cap, total_exact false).

/** Counted exactly up to this many users; past it a filtered list or a search answers total = cap, not exact. */
export const LIST_TOTAL_CAP = 1_000;

export interface ListTotal {
  total: number;
  exact: boolean;
}

const SEARCH_KEYS = ['email_key', 'username_key', 'name_key'] as const;

function filtered<Q extends { where: (...a: any[]) => Q }>(query: Q, q: UserListQuery): Q {
  let out = query;
  if (q.isActive !== undefined) out = out.where('is_active', '=', q.isActive ? 1 : 0);
  if (q.isAdmin !== undefined) out = q.isAdmin ? out.where('root_role_id', 'in', [1, 4]) : out.where('root_role_id', 'not in', [1, 4]);
  return out;
}

/** min(matches, cap + 1): the users list query `q` (its q already case-folded) matches. */
export async function countListMatches(ex: Executor, q: UserListQuery, cap: number): Promise<number> {
  const db = ex as unknown as Kysely<any>;
  let inner;
  if (q.q) {
    const arms = SEARCH_KEYS.map((key) => {
      const arm = filtered(db.selectFrom('users').select('id').where('deleted_at', 'is', null).where(key, '>=', q.q!).where(key, '<', prefixUpperBound(q.q!)), q);
      return db.selectFrom(arm.orderBy(key).orderBy('id').limit(cap + 1).as(`by_${key}`)).select('id');
    });
    // union (not union all): a user matched by two keys is counted once.
    inner = arms[0].union(arms[1]).union(arms[2]);
  } else {
    let query = filtered(db.selectFrom('users').select('id').where('deleted_at', 'is', null), q);
    if (q.emailContains) {
      const pattern = `%${q.emailContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where(sql<boolean>`${sql.ref('email_key')} like ${pattern} escape '\\'`);
    }
    inner = query.limit(cap + 1);
  }
  const row = await db.selectFrom(inner.as('m')).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** About how many live users there are, for the unfiltered list past the cap: PostgreSQL's estimate, SQLite's highest id. */
export async function liveUsersBeyondCap(ex: Executor, engine: Engine): Promise<ListTotal> {
  const db = ex as unknown as Kysely<any>;
  if (engine === 'postgres') {
    // The partial index of live users holds one entry per live user (null keys included).
    const row = await sql<{ n: number | string | null }>`select reltuples as n from pg_class where relname = 'users_email_key_live_idx'`.execute(db);
    const n = Math.round(Number(row.rows[0]?.n ?? -1));
    return { total: n, exact: false };
  }
  // SQLite keeps no planner statistics here, and counting the index of live users read all of it (347 ms at
  // 1,000,000 users): the highest id instead (one index step). Ids are never reused, so it counts every user
  // ever created: deleted ones too.
  const row = await db.selectFrom('users').select(sql<number>`max(id)`.as('n')).executeTakeFirstOrThrow();
  return { total: Number(row.n ?? 0), exact: false };
}
