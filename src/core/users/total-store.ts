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
import { sql, type Kysely } from 'kysely';
import { prefixUpperBound, type Engine, type Executor } from '../../store/sql.js';
import type { UserListQuery } from './types.js';

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
