// SQL of API tokens (admin and personal). No rules here.
import type { CompiledQuery, Insertable, Selectable } from 'kysely';
import type { Store } from '../../store/db.js';
import type { ApiTokensTable } from '../../store/schema.js';
import type { Executor } from '../../store/sql.js';
import { fixedQuery } from '../../store/statements.js';
import { withTargetUser, type ReadAheadRequest } from '../auth/read-ahead.js';

export type TokenRow = Selectable<ApiTokensTable>;

/** The columns of a token as a list or a deletion shows it. */
const LISTED_COLUMNS = ['id', 'name', 'kind', 'user_id', 'created_by', 'created_at', 'expires_at', 'last_used_at'] as const;
export type ListedTokenRow = Pick<TokenRow, (typeof LISTED_COLUMNS)[number]>;

/** Which tokens: of a kind, of a user. */
export interface TokenFilter {
  kind?: string;
  userId?: number;
}

// The owner of a personal token (u) and the user an admin token acts for (c), in the same statement.
const TOKEN_COLUMNS = [
  't.id', 't.name', 't.kind', 't.user_id', 't.creator_user_id', 't.expires_at', 't.last_used_at',
  'u.is_active', 'u.deleted_at', 'u.banned_until', 'u.root_role_id',
  'c.id as c_id', 'c.is_active as c_is_active', 'c.deleted_at as c_deleted_at', 'c.banned_until as c_banned_until', 'c.root_role_id as c_root_role_id',
] as const;
const tokenByHash = (ex: Executor, hash: string) =>
  ex.selectFrom('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('users as c', 'c.id', 't.creator_user_id')
    .select(TOKEN_COLUMNS)
    .where('t.token_hash', '=', hash);
export type TokenAuthRow = Awaited<ReturnType<ReturnType<typeof tokenByHash>['executeTakeFirstOrThrow']>>;
/** A token (and its owner's standing) by the secret's hash. */
const TOKEN_BY_HASH = fixedQuery<[string], TokenAuthRow>(1, tokenByHash);
/** The same, with the row of the user a request is about (core/auth/read-ahead.ts). */
const TOKEN_BY_HASH_WITH_USER = fixedQuery<[string, number], TokenAuthRow>(2, (ex, hash, targetUserId) =>
  withTargetUser(tokenByHash(ex, hash), targetUserId));

/** The token statements bound to a store (its database and engine). */
export function createTokenStore(store: Store) {
  const { db, engine } = store;
  return {
    transaction: <T>(work: (trx: Executor) => Promise<T>): Promise<T> => db.transaction().execute(work),

    /** Inserts a token row and returns it. */
    insert(trx: Executor, row: Insertable<ApiTokensTable>): Promise<TokenRow> {
      return trx.insertInto('api_tokens').values(row).returningAll().executeTakeFirstOrThrow();
    },

    async existsByHash(hash: string): Promise<boolean> {
      return (await db.selectFrom('api_tokens').select('id').where('token_hash', '=', hash).executeTakeFirst()) !== undefined;
    },

    /** Tokens in id order (with `page`: after id `page.after`, at most `page.limit`). */
    list(filter: TokenFilter, page?: { after: number | undefined; limit: number }): Promise<ListedTokenRow[]> {
      let q = db.selectFrom('api_tokens').select(LISTED_COLUMNS);
      if (filter.kind) q = q.where('kind', '=', filter.kind);
      if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
      if (page?.after !== undefined) q = q.where('id', '>', page.after);
      return q.orderBy('id').$if(page !== undefined, (b) => b.limit(page!.limit)).execute();
    },

    /** Token `id` when it matches the filter. */
    find(trx: Executor, id: number, filter: TokenFilter): Promise<ListedTokenRow | undefined> {
      let q = trx.selectFrom('api_tokens').select(LISTED_COLUMNS).where('id', '=', id);
      if (filter.kind) q = q.where('kind', '=', filter.kind);
      if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
      return q.executeTakeFirst();
    },

    async delete(trx: Executor, id: number): Promise<void> {
      await trx.deleteFrom('api_tokens').where('id', '=', id).execute();
    },

    /**
     * The token of a secret's hash with its users' standing, in one statement that also reads what `ahead`
     * asks for (the row of user `targetUserId` joined to it; `along` sent together with it, Store.readTogether).
     */
    async authenticate(hash: string, ahead: ReadAheadRequest = {}): Promise<{ row: TokenAuthRow | undefined; along: unknown[] | undefined }> {
      const check = ahead.targetUserId === undefined ? TOKEN_BY_HASH.compile(db, engine, hash) : TOKEN_BY_HASH_WITH_USER.compile(db, engine, hash, ahead.targetUserId);
      const queries: CompiledQuery[] = ahead.along ? [check, ahead.along.query] : [check];
      const [rows, along] = await store.readTogether(queries);
      return { row: rows[0] as TokenAuthRow | undefined, along };
    },

    async setLastUsed(id: number, at: string): Promise<void> {
      await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
    },

    /** The user a personal token is made for, locked (PostgreSQL) until the transaction ends. */
    lockOwner(trx: Executor, userId: number): Promise<{ id: number; deleted_at: Date | string | null } | undefined> {
      let owner = trx.selectFrom('users').select(['id', 'deleted_at']).where('id', '=', userId);
      // SQLite has no row locks: its writers are serialised by the database itself.
      if (engine === 'postgres') owner = owner.forUpdate();
      return owner.executeTakeFirst();
    },

    async personalNameTaken(trx: Executor, userId: number, name: string): Promise<boolean> {
      const clash = await trx
        .selectFrom('api_tokens')
        .select('id')
        .where('kind', '=', 'personal')
        .where('user_id', '=', userId)
        .where('name', '=', name)
        .executeTakeFirst();
      return clash !== undefined;
    },
  };
}

export type TokenStore = ReturnType<typeof createTokenStore>;
