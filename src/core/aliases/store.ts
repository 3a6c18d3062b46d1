// SQL and row mapping for aliases. No rules here.
import { sql, type Generated, type Insertable, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { Store } from '../../store/db.js';
import type { Database, Timestamp } from '../../store/schema.js';
import { prefixUpperBound, toBool, toIso, type Engine, type Executor } from '../../store/sql.js';

export interface AliasesTable {
  id: Generated<number>;
  address: string;
  address_key: string;
  address_local: string;
  goto: string;
  goto_key: string;
  goto_domain: string;
  active: number;
  user_id: number | null;
  created: Timestamp;
  modified: Timestamp;
  /** Incremented by every write (ETag / If-Match). */
  version: Generated<number>;
}

declare module '../../store/schema.js' {
  interface Database {
    aliases: AliasesTable;
  }
}

export type AliasRow = Selectable<AliasesTable>;

export interface Alias {
  id: number;
  address: string;
  goto: string;
  active: boolean;
  userId: number | null;
  created: string;
  modified: string;
  version: number;
}

export function toAlias(r: AliasRow): Alias {
  return {
    id: r.id,
    address: r.address,
    goto: r.goto,
    active: toBool(r.active),
    userId: r.user_id,
    created: toIso(r.created)!,
    modified: toIso(r.modified)!,
    version: r.version,
  };
}

export async function findAliasRow(ex: Executor, engine: Engine, id: number, opts: { forUpdate?: boolean } = {}): Promise<AliasRow | undefined> {
  let q = ex.selectFrom('aliases').selectAll().where('id', '=', id);
  if (opts.forUpdate && engine === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}

export interface AliasListQuery {
  /** Prefix of the address (case-insensitive). */
  q?: string;
  goto?: string;
  /** Text the address, its domain, its local part or goto contains (lower-case; the product's list filters). */
  addressContains?: string;
  domainContains?: string;
  handleContains?: string;
  gotoContains?: string;
  active?: boolean;
  userId?: number;
  afterId?: number;
  limit: number;
}

export async function listAliasRows(ex: Executor, q: AliasListQuery): Promise<AliasRow[]> {
  let query = ex.selectFrom('aliases').selectAll();
  if (q.q) query = query.where('address_key', '>=', q.q).where('address_key', '<', prefixUpperBound(q.q));
  if (q.goto) query = query.where('goto_key', '=', q.goto);
  const like = (column: 'address_key' | 'goto_key', text: string, before = '', after = '') =>
    sql<boolean>`${sql.ref(column)} like ${`%${before}${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%${after}`} escape '\\'`;
  if (q.addressContains) query = query.where(like('address_key', q.addressContains));
  // The domain part follows the address's one "@" (a local part holds none).
  if (q.domainContains) query = query.where(like('address_key', q.domainContains, '@%'));
  // The local part is what precedes the "@" (address_local holds its confusable skeleton, for name bans).
  if (q.handleContains) query = query.where(like('address_key', q.handleContains, '', '@%'));
  if (q.gotoContains) query = query.where(like('goto_key', q.gotoContains));
  if (q.active !== undefined) query = query.where('active', '=', q.active ? 1 : 0);
  if (q.userId !== undefined) query = query.where('user_id', '=', q.userId);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  return query.orderBy('id').limit(q.limit).execute();
}

/** Active aliases a ban matches: email → goto, domain → goto's domain or a subdomain, name → address local part. */
export async function lockActiveAliasesMatching(ex: Executor, engine: Engine, ban: { banType: string; banValue: string; nameSkeleton?: string }): Promise<AliasRow[]> {
  let q = ex.selectFrom('aliases').selectAll().where('active', '=', 1);
  if (ban.banType === 'email') q = q.where('goto_key', '=', ban.banValue);
  else if (ban.banType === 'domain') {
    // Domain values hold only [a-z0-9.-]: no LIKE wildcard can hide in them.
    q = q.where((eb) => eb.or([eb('goto_domain', '=', ban.banValue), eb('goto_domain', 'like', `%.${ban.banValue}`)]));
  } else if (ban.banType === 'name') q = q.where('address_local', '=', ban.nameSkeleton ?? ban.banValue);
  else return [];
  if (engine === 'postgres') q = q.forUpdate();
  return q.orderBy('id').execute();
}

export type NewAliasRow = Insertable<AliasesTable>;
export type AliasRowChanges = Updateable<AliasesTable>;

/**
 * The aliases store: every statement aliases run, bound to the database and its engine. Methods that take
 * an executor run in the caller's transaction (`transaction`).
 */
export function createAliasesStore(store: Store) {
  const { db, engine } = store;
  return {
    transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      return db.transaction().execute(fn);
    },
    find: (id: number, ex: Executor = db, opts: { forUpdate?: boolean } = {}) => findAliasRow(ex, engine, id, opts),
    list: (q: AliasListQuery) => listAliasRows(db, q),
    lockActiveMatching: (ex: Executor, ban: { banType: string; banValue: string; nameSkeleton?: string }) => lockActiveAliasesMatching(ex, engine, ban),
    insert: (ex: Executor, row: NewAliasRow): Promise<AliasRow> => ex.insertInto('aliases').values(row).returningAll().executeTakeFirstOrThrow(),
    update: (ex: Executor, id: number, changes: AliasRowChanges): Promise<AliasRow> =>
      ex.updateTable('aliases').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    /** Deactivates these aliases (500 a statement), each one's version bumped. */
    deactivate: async (ex: Executor, ids: readonly number[], now: string): Promise<void> => {
      for (let i = 0; i < ids.length; i += 500) {
        await ex.updateTable('aliases').set((eb) => ({ active: 0, modified: now, version: eb('version', '+', 1) })).where('id', 'in', ids.slice(i, i + 500)).execute();
      }
    },
  };
}

export type AliasesStore = ReturnType<typeof createAliasesStore>;
