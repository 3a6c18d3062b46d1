// One session store for every surface. A session row is a session family (one sign-in); admin cookie
// sessions carry rotating refresh tokens, opaque cookie sessions (account, user-admin) a token hash.
// Revocation is a row update, so it is seen by every node on its next request.
import type { CompiledQuery } from 'kysely';
import { randomId, randomToken, sha256Hex } from '../../platform/crypto.js';
import type { Store } from '../../store/db.js';
import { nowIso, toIso, type Executor } from '../../store/sql.js';
import { rootRolePermissions } from '../roles/index.js';
import type { Principal, RequestContext } from '../context.js';
import { recordAudit } from '../audit/index.js';
import { targetUserRow, withTargetUser, type UserRow } from '../users/store.js';
import { fixedQuery } from '../../store/statements.js';
import { deleteTokensOf, endPendingInvites, mayAct } from '../auth/credentials.js';

export type SessionKind = 'admin' | 'account' | 'useradmin' | 'oauth';

export interface SessionInfo {
  id: string;
  userId: number;
  kind: string;
  createdAt: string;
  expiresAt: string;
  data: Record<string, unknown> | null;
}

export interface ActiveSession extends SessionInfo {
  principal: Principal & { kind: 'user' };
}

export interface NewSessionInput {
  userId: number;
  kind: SessionKind;
  ttlSeconds: number;
  ip: string | null;
  userAgent: string | null;
  data?: Record<string, unknown>;
  /** Opaque cookie sessions: generate a bearer token for the session itself. */
  withToken?: boolean;
}

function inSeconds(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString();
}

export async function createSession(ex: Executor, input: NewSessionInput): Promise<{ session: SessionInfo; token: string | null }> {
  const id = randomId(18);
  const now = nowIso();
  const token = input.withToken ? randomToken() : null;
  const expiresAt = inSeconds(input.ttlSeconds);
  await ex
    .insertInto('sessions')
    .values({
      id,
      user_id: input.userId,
      kind: input.kind,
      token_hash: token ? sha256Hex(token) : null,
      created_at: now,
      last_seen_at: now,
      expires_at: expiresAt,
      revoked_at: null,
      revoke_reason: null,
      ip: input.ip,
      user_agent: input.userAgent ? input.userAgent.slice(0, 512) : null,
      data: input.data ? JSON.stringify(input.data) : null,
    })
    .execute();
  return {
    session: { id, userId: input.userId, kind: input.kind, createdAt: now, expiresAt, data: input.data ?? null },
    token,
  };
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

/** What an event ends of a user's credentials (docs/credentials.md). */
export interface EndWhat {
  /** Every session (all surfaces, with their refresh tokens), or all but one (`except`). */
  sessions?: boolean | { except: string | null };
  /** Personal access tokens and the admin API tokens acting for the user. */
  tokens?: boolean;
  /** Pending invite (set-your-password) tokens. */
  invites?: boolean;
}

/** Ends the credentials an event cuts, inside the event's transaction; returns how many of each. */
export async function endUserCredentials(
  ex: Executor, userId: number, reason: string, what: EndWhat,
): Promise<{ sessions: number; tokens: number; invites: number }> {
  const except = typeof what.sessions === 'object' ? what.sessions.except : null;
  const sessions = what.sessions ? await revokeUserSessions(ex, userId, reason, except) : 0;
  const tokens = what.tokens ? await deleteTokensOf(ex, userId) : 0;
  const invites = what.invites ? await endPendingInvites(ex, userId) : 0;
  return { sessions, tokens, invites };
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

export async function issueRefreshToken(ex: Executor, sessionId: string, expiresAt: string): Promise<string> {
  const token = randomToken();
  await ex
    .insertInto('refresh_tokens')
    .values({ token_hash: sha256Hex(token), session_id: sessionId, created_at: nowIso(), expires_at: expiresAt, rotated_at: null })
    .execute();
  return token;
}

/** Replaces an opaque session's token (the old value stops working at once). */
export async function rotateSessionToken(ex: Executor, sessionId: string): Promise<string> {
  const token = randomToken();
  await ex.updateTable('sessions').set({ token_hash: sha256Hex(token), last_seen_at: nowIso() }).where('id', '=', sessionId).execute();
  return token;
}

export type RefreshOutcome =
  | { kind: 'rotated'; session: SessionInfo; refreshToken: string }
  | { kind: 'reused'; sessionId: string }
  | { kind: 'invalid' };

// The session checks of every authenticated request, as fixed queries (built and compiled once).
const sessionWithUser = (ex: Executor) =>
  ex
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.id', 's.user_id', 's.kind', 's.created_at', 's.expires_at', 's.revoked_at', 's.data',
      'u.is_active', 'u.deleted_at', 'u.banned_until', 'u.root_role_id', 'u.username', 'u.email',
    ]);
type SessionAuthRow = Awaited<ReturnType<ReturnType<typeof sessionWithUser>['executeTakeFirstOrThrow']>>;
const SESSION_BY_ID = fixedQuery<[string], SessionAuthRow>(1, (ex, id) => sessionWithUser(ex).where('s.id', '=', id));
const SESSION_BY_TOKEN = fixedQuery<[string], SessionAuthRow>(1, (ex, hash) => sessionWithUser(ex).where('s.token_hash', '=', hash));
const SESSION_BY_ID_WITH_USER = fixedQuery<[string, number], SessionAuthRow>(2, (ex, id, target) =>
  withTargetUser(sessionWithUser(ex).where('s.id', '=', id), target) as never);
const SESSION_BY_TOKEN_WITH_USER = fixedQuery<[string, number], SessionAuthRow>(2, (ex, hash, target) =>
  withTargetUser(sessionWithUser(ex).where('s.token_hash', '=', hash), target) as never);

export class SessionService {
  constructor(private readonly store: Store) {}

  /**
   * Opens a session family for a signed-in user, with its first refresh token or opaque token, and
   * records it in the audit log, in one transaction.
   */
  async open(
    ctx: RequestContext,
    input: NewSessionInput & { refresh?: boolean },
  ): Promise<{ session: SessionInfo; token: string | null; refreshToken: string | null }> {
    return this.store.db.transaction().execute(async (trx) => {
      const { session, token } = await createSession(trx, input);
      const refreshToken = input.refresh ? await issueRefreshToken(trx, session.id, session.expiresAt) : null;
      const principal: Principal = { kind: 'user', userId: input.userId, sessionId: session.id, rootRoleId: 0, permissions: new Set(), label: `user:${input.userId}` };
      await recordAudit(trx, principal, ctx, {
        action: 'session.created', targetType: 'user', targetId: input.userId,
        after: { session_id: session.id, kind: input.kind, expires_at: session.expiresAt },
      });
      return { session, token, refreshToken };
    });
  }

  /** Ends one session (sign-out) with its audit event. */
  async close(principal: Principal, ctx: RequestContext, sessionId: string, reason = 'signed_out'): Promise<boolean> {
    return this.store.db.transaction().execute(async (trx) => {
      const done = await revokeSession(trx, sessionId, reason);
      if (done) await recordAudit(trx, principal, ctx, { action: 'session.revoked', targetType: 'session', targetId: sessionId, after: { reason } });
      return done;
    });
  }

  /**
   * Sign-out everywhere: ends every session of a user and every pending invite link (a way in that does not
   * need the password), with its audit event; returns how many sessions.
   */
  async closeAllForUser(principal: Principal, ctx: RequestContext, userId: number, reason = 'signed_out_everywhere'): Promise<number> {
    return this.store.db.transaction().execute(async (trx) => {
      const ended = await endUserCredentials(trx, userId, reason, { sessions: true, invites: true });
      await recordAudit(trx, principal, ctx, {
        action: 'user.sessions_revoked', targetType: 'user', targetId: userId,
        after: { reason, sessions_revoked: ended.sessions, ...(ended.invites ? { invites_ended: ended.invites } : {}) },
      });
      return ended.sessions;
    });
  }

  /**
   * Rotates a refresh token inside its family. Presenting a token that was already rotated is reuse:
   * the whole family is revoked.
   */
  async rotateRefresh(token: string, reuseReason = 'refresh_token_reuse', expectKind?: SessionKind): Promise<RefreshOutcome> {
    const hash = sha256Hex(token);
    return this.store.db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('refresh_tokens as r')
        .innerJoin('sessions as s', 's.id', 'r.session_id')
        .innerJoin('users as u', 'u.id', 's.user_id')
        .select([
          'r.rotated_at', 'r.expires_at as token_expires_at', 's.id', 's.user_id', 's.kind', 's.created_at',
          's.expires_at', 's.revoked_at', 's.data', 'u.is_active', 'u.deleted_at', 'u.banned_until',
        ])
        .where('r.token_hash', '=', hash);
      if (this.store.engine === 'postgres') q = q.forUpdate();
      const row = await q.executeTakeFirst();
      if (!row) return { kind: 'invalid' } as const;
      // A token of another kind of session (admin and OAuth share the table) is refused without being spent.
      if (expectKind && row.kind !== expectKind) return { kind: 'invalid' } as const;
      if (row.rotated_at !== null) {
        await revokeSession(trx, row.id, reuseReason);
        return { kind: 'reused', sessionId: row.id } as const;
      }
      const now = nowIso();
      if (row.revoked_at !== null || toIso(row.expires_at)! <= now || toIso(row.token_expires_at)! <= now) return { kind: 'invalid' } as const;
      // The user may no longer act (inactive, deleted, or an active ban matches them, even one that did not
      // revoke sessions): refused, and the token is not spent (it works again once the ban ends).
      if (!mayAct(row)) return { kind: 'invalid' } as const;
      const claimed = await trx
        .updateTable('refresh_tokens')
        .set({ rotated_at: now })
        .where('token_hash', '=', hash)
        .where('rotated_at', 'is', null)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) {
        // Lost a race with a concurrent refresh of the same token: that is reuse too.
        await revokeSession(trx, row.id, reuseReason);
        return { kind: 'reused', sessionId: row.id } as const;
      }
      await trx.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', row.id).execute();
      const expiresAt = toIso(row.expires_at)!;
      const refreshToken = await issueRefreshToken(trx, row.id, expiresAt);
      return {
        kind: 'rotated',
        refreshToken,
        session: {
          id: row.id,
          userId: row.user_id,
          kind: row.kind,
          createdAt: toIso(row.created_at)!,
          expiresAt,
          data: row.data ? JSON.parse(row.data) : null,
        },
      } as const;
    });
  }

  /** The live session of a refresh token, without rotating it. */
  async findByRefreshToken(token: string): Promise<SessionInfo | undefined> {
    const row = await this.store.db
      .selectFrom('refresh_tokens as r')
      .innerJoin('sessions as s', 's.id', 'r.session_id')
      .select(['s.id', 's.user_id', 's.kind', 's.created_at', 's.expires_at', 's.revoked_at', 's.data', 'r.rotated_at'])
      .where('r.token_hash', '=', sha256Hex(token))
      .executeTakeFirst();
    if (!row || row.rotated_at !== null || row.revoked_at !== null || toIso(row.expires_at)! <= nowIso()) return undefined;
    return { id: row.id, userId: row.user_id, kind: row.kind, createdAt: toIso(row.created_at)!, expiresAt: toIso(row.expires_at)!, data: row.data ? JSON.parse(row.data) : null };
  }

  /**
   * Checks a session against the store: live, not revoked, not expired, its user allowed to act (active, not
   * deleted, not banned: auth/credentials). Runs on every authenticated request, so revocation takes effect at once.
   */
  async authenticate(by: { id: string } | { token: string }, kind?: SessionKind): Promise<ActiveSession | undefined> {
    return (await this.authenticateAndRead(by, kind))?.session;
  }

  /**
   * authenticate(), and when `targetUserId` is given, that user's row read in the same statement (one round
   * trip instead of two for the routes about one user; the row is only used once the principal is allowed).
   */
  async authenticateAndRead(
    by: { id: string } | { token: string },
    kind?: SessionKind,
    targetUserId?: number,
    along?: CompiledQuery,
  ): Promise<{ session: ActiveSession; target: UserRow | undefined; along?: unknown[] } | undefined> {
    const { db, engine } = this.store;
    const check = 'id' in by
      ? targetUserId === undefined
        ? SESSION_BY_ID.compile(db, engine, by.id)
        : SESSION_BY_ID_WITH_USER.compile(db, engine, by.id, targetUserId)
      : targetUserId === undefined
        ? SESSION_BY_TOKEN.compile(db, engine, sha256Hex(by.token))
        : SESSION_BY_TOKEN_WITH_USER.compile(db, engine, sha256Hex(by.token), targetUserId);
    // `along`: see TokensService.authenticateAndRead.
    const [rows, alongRows] = await this.store.readTogether(along ? [check, along] : [check]);
    const row = rows[0] as Awaited<ReturnType<typeof SESSION_BY_ID.execute>>[number] | undefined;
    if (!row) return undefined;
    if (kind && row.kind !== kind) return undefined;
    if (row.revoked_at !== null || toIso(row.expires_at)! <= nowIso()) return undefined;
    if (!mayAct(row)) return undefined;
    return {
      session: {
        id: row.id,
        userId: row.user_id,
        kind: row.kind,
        createdAt: toIso(row.created_at)!,
        expiresAt: toIso(row.expires_at)!,
        data: row.data ? JSON.parse(row.data) : null,
        principal: {
          kind: 'user',
          userId: row.user_id,
          sessionId: row.id,
          rootRoleId: row.root_role_id,
          permissions: rootRolePermissions(row.root_role_id),
          label: row.email ?? row.username ?? `user:${row.user_id}`,
        },
      },
      target: targetUserId !== undefined ? targetUserRow(row as unknown as Record<string, unknown>) : undefined,
      along: alongRows,
    };
  }

  async revoke(sessionId: string, reason: string): Promise<boolean> {
    return revokeSession(this.store.db, sessionId, reason);
  }

  async revokeAllForUser(userId: number, reason: string, exceptSessionId?: string): Promise<number> {
    return revokeUserSessions(this.store.db, userId, reason, exceptSessionId);
  }
}
