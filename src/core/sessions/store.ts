// SQL of the session store: sessions and their refresh tokens. No rules here.
import type { CompiledQuery } from 'kysely';
import type { Store } from '../../store/db.js';
import { nowIso, type Executor } from '../../store/sql.js';
import { fixedQuery } from '../../store/statements.js';
import type { SessionsTable } from '../../store/schema.js';
import { withTargetUser, type ReadAheadRequest } from '../auth/read-ahead.js';
import type { Insertable } from 'kysely';

export async function insertSession(ex: Executor, row: Insertable<SessionsTable>): Promise<void> {
  await ex.insertInto('sessions').values(row).execute();
}

/** Revokes every live session of a user (all surfaces), except `exceptSessionId`. Returns how many. */
export async function revokeUserSessions(ex: Executor, userId: number, reason: string, exceptSessionId?: string | null): Promise<number> {
  const now = nowIso();
  let q = ex
    .updateTable('sessions')
    .set({ revoked_at: now, revoke_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now);
  if (exceptSessionId) q = q.where('id', '!=', exceptSessionId);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function revokeSession(ex: Executor, sessionId: string, reason: string): Promise<boolean> {
  const r = await ex
    .updateTable('sessions')
    .set({ revoked_at: nowIso(), revoke_reason: reason })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function insertRefreshToken(ex: Executor, tokenHash: string, sessionId: string, expiresAt: string): Promise<void> {
  await ex
    .insertInto('refresh_tokens')
    .values({ token_hash: tokenHash, session_id: sessionId, created_at: nowIso(), expires_at: expiresAt, rotated_at: null })
    .execute();
}

/** Sets an opaque session's token hash (and marks it seen). */
export async function setSessionTokenHash(ex: Executor, sessionId: string, tokenHash: string): Promise<void> {
  await ex.updateTable('sessions').set({ token_hash: tokenHash, last_seen_at: nowIso() }).where('id', '=', sessionId).execute();
}

// The session checks of every authenticated request, as fixed queries (built and compiled once).
const sessionWithUser = (ex: Executor) =>
  ex
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.id', 's.user_id', 's.kind', 's.created_at', 's.expires_at', 's.revoked_at', 's.data',
      'u.is_active', 'u.deleted_at', 'u.banned_until', 'u.root_role_id', 'u.username', 'u.email',
    ]);
export type SessionAuthRow = Awaited<ReturnType<ReturnType<typeof sessionWithUser>['executeTakeFirstOrThrow']>>;
const SESSION_BY_ID = fixedQuery<[string], SessionAuthRow>(1, (ex, id) => sessionWithUser(ex).where('s.id', '=', id));
const SESSION_BY_TOKEN = fixedQuery<[string], SessionAuthRow>(1, (ex, hash) => sessionWithUser(ex).where('s.token_hash', '=', hash));
const SESSION_BY_ID_WITH_USER = fixedQuery<[string, number], SessionAuthRow>(2, (ex, id, target) =>
  withTargetUser(sessionWithUser(ex).where('s.id', '=', id), target) as never);
const SESSION_BY_TOKEN_WITH_USER = fixedQuery<[string, number], SessionAuthRow>(2, (ex, hash, target) =>
  withTargetUser(sessionWithUser(ex).where('s.token_hash', '=', hash), target) as never);

const refreshTokenRow = (ex: Executor, hash: string) =>
  ex
    .selectFrom('refresh_tokens as r')
    .innerJoin('sessions as s', 's.id', 'r.session_id')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      'r.rotated_at', 'r.expires_at as token_expires_at', 's.id', 's.user_id', 's.kind', 's.created_at',
      's.expires_at', 's.revoked_at', 's.data', 'u.is_active', 'u.deleted_at', 'u.banned_until',
    ])
    .where('r.token_hash', '=', hash);
export type RefreshTokenRow = Awaited<ReturnType<ReturnType<typeof refreshTokenRow>['executeTakeFirstOrThrow']>>;

/** The session statements bound to a store (its database and engine). */
export function createSessionStore(store: Store) {
  const { db, engine } = store;
  return {
    transaction: <T>(work: (trx: Executor) => Promise<T>): Promise<T> => db.transaction().execute(work),

    /**
     * The session (by id or by its opaque token's hash) with its user's standing, in one statement that also
     * reads what `ahead` asks for: the row of user `targetUserId` joined to it, and `along` sent together
     * with it (Store.readTogether). Returns the credential row (a record: the joined target columns too)
     * and the rows read along.
     */
    async authenticate(by: { id: string } | { tokenHash: string }, ahead: ReadAheadRequest = {}): Promise<{ row: SessionAuthRow | undefined; along: unknown[] | undefined }> {
      const target = ahead.targetUserId;
      const check = 'id' in by
        ? target === undefined ? SESSION_BY_ID.compile(db, engine, by.id) : SESSION_BY_ID_WITH_USER.compile(db, engine, by.id, target)
        : target === undefined ? SESSION_BY_TOKEN.compile(db, engine, by.tokenHash) : SESSION_BY_TOKEN_WITH_USER.compile(db, engine, by.tokenHash, target);
      const queries: CompiledQuery[] = ahead.along ? [check, ahead.along.query] : [check];
      const [rows, along] = await store.readTogether(queries);
      return { row: rows[0] as SessionAuthRow | undefined, along };
    },

    /** A refresh token with its session and user, locked (PostgreSQL) for its rotation. */
    refreshTokenForRotation(trx: Executor, hash: string): Promise<RefreshTokenRow | undefined> {
      let q = refreshTokenRow(trx, hash);
      // SQLite has no row locks: its writers are serialised by the database itself.
      if (engine === 'postgres') q = q.forUpdate();
      return q.executeTakeFirst();
    },

    /** Marks a refresh token rotated unless it already was; true when this call did. */
    async claimRefreshToken(trx: Executor, hash: string, now: string): Promise<boolean> {
      const claimed = await trx
        .updateTable('refresh_tokens')
        .set({ rotated_at: now })
        .where('token_hash', '=', hash)
        .where('rotated_at', 'is', null)
        .executeTakeFirst();
      return Number(claimed.numUpdatedRows) === 1;
    },

    async touchSession(trx: Executor, sessionId: string, now: string): Promise<void> {
      await trx.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', sessionId).execute();
    },

    /** The session of a refresh token (with the token's rotation time). */
    sessionOfRefreshToken(hash: string) {
      return db
        .selectFrom('refresh_tokens as r')
        .innerJoin('sessions as s', 's.id', 'r.session_id')
        .select(['s.id', 's.user_id', 's.kind', 's.created_at', 's.expires_at', 's.revoked_at', 's.data', 'r.rotated_at'])
        .where('r.token_hash', '=', hash)
        .executeTakeFirst();
    },

    revokeSession: (sessionId: string, reason: string) => revokeSession(db, sessionId, reason),
    revokeUserSessions: (userId: number, reason: string, exceptSessionId?: string | null) => revokeUserSessions(db, userId, reason, exceptSessionId),
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
