// SQL and row mapping for bans. No rules here.
import { sql, type Generated, type Insertable, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { Store } from '../../store/db.js';
import type { Database, NullableTimestamp, Timestamp } from '../../store/schema.js';
import { nowIso, prefixUpperBound, toIso, type Engine, type Executor } from '../../store/sql.js';
import type { BanType } from './values.js';

export interface BansTable {
  id: Generated<number>;
  ban_type: string;
  ban_value: string;
  /** Name bans: the confusable skeleton of ban_value, what matching compares (values.ts banMatchKey); else null. */
  value_skeleton: string | null;
  reason: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  revoked_reason: string | null;
  created_by: string | null;
  version: number;
}

export interface BansStateTable {
  id: number;
  version: number;
}

declare module '../../store/schema.js' {
  interface Database {
    bans: BansTable;
    bans_state: BansStateTable;
  }
}

export type BanRow = Selectable<BansTable>;

export interface Ban {
  id: number;
  banType: BanType;
  banValue: string;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
  createdBy: string | null;
  version: number;
}

export function toBan(r: BanRow): Ban {
  return {
    id: r.id,
    banType: r.ban_type as BanType,
    banValue: r.ban_value,
    reason: r.reason,
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
    expiresAt: toIso(r.expires_at),
    revokedAt: toIso(r.revoked_at),
    revokedReason: r.revoked_reason,
    createdBy: r.created_by,
    version: r.version,
  };
}

/** Active = not revoked and (no expiry or expiry still ahead), at `nowMs`. */
export function isBanActive(b: { revokedAt: string | null; expiresAt: string | null }, nowMs = Date.now()): boolean {
  return b.revokedAt === null && (b.expiresAt === null || Date.parse(b.expiresAt) > nowMs);
}

export async function findBanRow(ex: Executor, engine: Engine, id: number, opts: { forUpdate?: boolean } = {}): Promise<BanRow | undefined> {
  let q = ex.selectFrom('bans').selectAll().where('id', '=', id);
  if (opts.forUpdate && engine === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}

export interface BanListQuery {
  type?: BanType;
  active?: boolean;
  /** Prefix of the normalised value. */
  valuePrefix?: string;
  /** Text the value contains (matched as given: values are stored in their normal, lower-case form). */
  valueContains?: string;
  /** Bans older than this id (newest first). */
  beforeId?: number;
  limit: number;
}

export async function listBanRows(ex: Executor, q: BanListQuery): Promise<BanRow[]> {
  let query = ex.selectFrom('bans').selectAll();
  if (q.type) query = query.where('ban_type', '=', q.type);
  if (q.valuePrefix) query = query.where('ban_value', '>=', q.valuePrefix).where('ban_value', '<', prefixUpperBound(q.valuePrefix));
  if (q.valueContains) {
    const pattern = `%${q.valueContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where(sql<boolean>`${sql.ref('ban_value')} like ${pattern} escape '\\'`);
  }
  if (q.beforeId !== undefined) query = query.where('id', '<', q.beforeId);
  if (q.active !== undefined) {
    const now = nowIso();
    query = q.active
      ? query.where('revoked_at', 'is', null).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      : query.where((eb) => eb.or([eb('revoked_at', 'is not', null), eb('expires_at', '<=', now)]));
  }
  return query.orderBy('id', 'desc').limit(q.limit).execute();
}

/**
 * Unrevoked bans among the given (type, value) pairs (expiry is judged by the caller, against the clock).
 * Name values are skeletons, compared with value_skeleton; the others with ban_value.
 */
export async function findUnrevokedBans(ex: Executor, pairs: Array<{ type: BanType; values: string[] }>): Promise<BanRow[]> {
  const wanted = pairs.filter((p) => p.values.length > 0);
  if (wanted.length === 0) return [];
  return ex
    .selectFrom('bans')
    .selectAll()
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or(wanted.map((p) => eb.and([eb('ban_type', '=', p.type), eb(p.type === 'name' ? 'value_skeleton' : 'ban_value', 'in', p.values)]))))
    .orderBy('id')
    .execute();
}

export async function unrevokedBansOfType(ex: Executor, type: BanType): Promise<BanRow[]> {
  return ex.selectFrom('bans').selectAll().where('ban_type', '=', type).where('revoked_at', 'is', null).execute();
}

/** Bumps the change counter (same transaction as the change); on PostgreSQL nodes are told at commit. */
export async function bumpBansVersion(ex: Executor, engine: Engine, channel: string): Promise<void> {
  await ex.updateTable('bans_state').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', 1).execute();
  if (engine === 'postgres') await sql`select pg_notify(${channel}, '')`.execute(ex);
}

/** The transaction-level advisory lock key of lockBansState (any constant no other lock uses). */
const BANS_LOCK_KEY = 7316055001;

/**
 * Orders ban writes against identity changes (PostgreSQL; SQLite runs one writer at a time): a ban write
 * takes an advisory lock exclusively as its first statement, a transaction that sets an email or username
 * takes it shared as its first (identity changes do not wait for each other; an advisory lock writes no
 * row). Without it a ban and an email change committing together could each miss the other: the guard read
 * the bans before the ban committed, and the ban matched the users before the new email committed
 * (users.banned_until left unset).
 */
export async function lockBansState(ex: Executor, engine: Engine, mode: 'share' | 'update'): Promise<void> {
  if (engine !== 'postgres') return;
  if (mode === 'update') await sql`select pg_advisory_xact_lock(${BANS_LOCK_KEY})`.execute(ex);
  else await sql`select pg_advisory_xact_lock_shared(${BANS_LOCK_KEY})`.execute(ex);
}

export async function readBansVersion(ex: Executor): Promise<number> {
  const r = await ex.selectFrom('bans_state').select('version').where('id', '=', 1).executeTakeFirst();
  return Number(r?.version ?? 0);
}

/** The users an email, domain or name ban matches, as a query of their ids (ip bans match addresses, not users). */
function usersMatching(ex: Executor, ban: { banType: BanType; banValue: string; skeleton?: string }) {
  let q = ex.selectFrom('users').select('id');
  if (ban.banType === 'email') q = q.where('email_key', '=', ban.banValue);
  else if (ban.banType === 'domain') q = q.where((eb) => eb.or([eb('email_key', 'like', `%@${ban.banValue}`), eb('email_key', 'like', `%.${ban.banValue}`)]));
  else {
    // By skeleton, as sign-in matches it (lookalikes included); a row without one (a lookalike that existed
    // before skeletons were unique, migration 0009) by its exact key here, by its own skeleton in the service.
    const skeleton = ban.skeleton ?? ban.banValue;
    q = q.where((eb) => eb.or([eb('username_skeleton', '=', skeleton), eb('username_key', '=', ban.banValue)]));
  }
  return q;
}

/** What a ban matches users by: its type, value and (name bans) the value's skeleton. */
export interface BanMatch {
  banType: BanType;
  banValue: string;
  skeleton?: string;
}

export type NewBanRow = Insertable<BansTable>;
export type BanRowChanges = Updateable<BansTable>;

/**
 * The bans store: every statement bans run, bound to the database and its engine. Methods that take an
 * executor run in the caller's transaction (`transaction`); the others read through the database.
 */
export function createBansStore(store: Store) {
  const { db, engine } = store;
  return {
    transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      return db.transaction().execute(fn);
    },
    /** Whether other nodes share this database (PostgreSQL): ban changes are then announced (pg_notify). */
    shared: engine === 'postgres',
    findBan: (id: number, ex: Executor = db, opts: { forUpdate?: boolean } = {}) => findBanRow(ex, engine, id, opts),
    list: (q: BanListQuery) => listBanRows(db, q),
    findUnrevoked: (pairs: Array<{ type: BanType; values: string[] }>, ex: Executor = db) => findUnrevokedBans(ex, pairs),
    unrevokedOfType: (type: BanType) => unrevokedBansOfType(db, type),
    readVersion: () => readBansVersion(db),
    bumpVersion: (ex: Executor, channel: string) => bumpBansVersion(ex, engine, channel),
    lockState: (ex: Executor, mode: 'share' | 'update') => lockBansState(ex, engine, mode),
    insert: (ex: Executor, row: NewBanRow): Promise<BanRow> => ex.insertInto('bans').values(row).returningAll().executeTakeFirstOrThrow(),
    /** Writes the changes when the ban is still at `version`; undefined when it moved on. */
    update: (ex: Executor, id: number, version: number, changes: BanRowChanges): Promise<BanRow | undefined> =>
      ex.updateTable('bans').set(changes).where('id', '=', id).where('version', '=', version).returningAll().executeTakeFirst(),
    delete: async (ex: Executor, id: number): Promise<void> => {
      await ex.deleteFrom('bans').where('id', '=', id).execute();
    },

    /** Ids of the users the ban matches by their stored keys (see the service for lookalikes without one). */
    matchingUserIds: async (ex: Executor, ban: BanMatch, opts: { onlyBanned?: boolean } = {}): Promise<number[]> => {
      let q = usersMatching(ex, ban);
      if (opts.onlyBanned) q = q.where('banned_until', 'is not', null);
      return (await q.execute()).map((r) => r.id);
    },
    /** Users with a username and no stored skeleton (lookalikes older than migration 0009). */
    usersWithoutSkeleton: (ex: Executor) =>
      ex.selectFrom('users').select(['id', 'username']).where('username_skeleton', 'is', null).where('username', 'is not', null).execute(),
    userIdentity: (ex: Executor, id: number) =>
      ex.selectFrom('users').select(['email', 'username', 'banned_until']).where('id', '=', id).executeTakeFirst(),
    setBannedUntil: async (ex: Executor, id: number, until: string | null): Promise<void> => {
      await ex.updateTable('users').set({ banned_until: until }).where('id', '=', id).execute();
    },
    /** Every user the ban matches is banned at least until `end` (one statement, however many users match). */
    extendBannedUntil: async (ex: Executor, ban: BanMatch, end: string): Promise<void> => {
      await ex
        .updateTable('users')
        .set({ banned_until: end })
        .where('id', 'in', usersMatching(ex, ban))
        .where((eb) => eb.or([eb('banned_until', 'is', null), eb('banned_until', '<', end)]))
        .execute();
    },
    /** Live sessions that carry a client address. */
    liveSessionAddresses: (ex: Executor, now: string) =>
      ex.selectFrom('sessions').select(['id', 'ip']).where('revoked_at', 'is', null).where('expires_at', '>', now).where('ip', 'is not', null).execute(),
    /** Revokes these sessions (500 a statement); returns how many were live. */
    revokeSessions: async (ex: Executor, ids: readonly string[], now: string, reason: string): Promise<number> => {
      let n = 0;
      for (let i = 0; i < ids.length; i += 500) {
        const r = await ex.updateTable('sessions').set({ revoked_at: now, revoke_reason: reason }).where('id', 'in', ids.slice(i, i + 500)).where('revoked_at', 'is', null).executeTakeFirst();
        n += Number(r.numUpdatedRows);
      }
      return n;
    },
  };
}

export type BansStore = ReturnType<typeof createBansStore>;
