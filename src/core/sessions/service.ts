// The rules of the session store, one for every surface. A session row is a session family (one sign-in);
// admin cookie sessions carry rotating refresh tokens, opaque cookie sessions (account, user-admin) a token
// hash. Revocation is a row update, so it is seen by every node on its next request. SQL: ./store.ts.
import { randomId, randomToken, sha256Hex } from '../../platform/crypto.js';
import type { Store } from '../../store/db.js';
import { nowIso, toIso, type Executor } from '../../store/sql.js';
import { rootRolePermissions } from '../roles/index.js';
import type { Principal, RequestContext } from '../context.js';
import { recordAudit } from '../audit/index.js';
import { mayAct } from '../auth/credentials.js';
import { deleteTokensOf, endPendingInvites } from '../auth/store.js';
import { readsOf, type ReadAheadRequest, type RequestReads } from '../auth/read-ahead.js';
import { createSessionStore, insertRefreshToken, insertSession, revokeSession, revokeUserSessions, setSessionTokenHash, type SessionStore } from './store.js';

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
  await insertSession(ex, {
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
  });
  return {
    session: { id, userId: input.userId, kind: input.kind, createdAt: now, expiresAt, data: input.data ?? null },
    token,
  };
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

export async function issueRefreshToken(ex: Executor, sessionId: string, expiresAt: string): Promise<string> {
  const token = randomToken();
  await insertRefreshToken(ex, sha256Hex(token), sessionId, expiresAt);
  return token;
}

/** Replaces an opaque session's token (the old value stops working at once). */
export async function rotateSessionToken(ex: Executor, sessionId: string): Promise<string> {
  const token = randomToken();
  await setSessionTokenHash(ex, sessionId, sha256Hex(token));
  return token;
}

export type RefreshOutcome =
  | { kind: 'rotated'; session: SessionInfo; refreshToken: string }
  | { kind: 'reused'; sessionId: string }
  | { kind: 'invalid' };

export class SessionService {
  private readonly rows: SessionStore;

  constructor(store: Store) {
    this.rows = createSessionStore(store);
  }

  /**
   * Opens a session family for a signed-in user, with its first refresh token or opaque token, and
   * records it in the audit log, in one transaction.
   */
  async open(
    ctx: RequestContext,
    input: NewSessionInput & { refresh?: boolean },
  ): Promise<{ session: SessionInfo; token: string | null; refreshToken: string | null }> {
    return this.rows.transaction(async (trx) => {
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
    return this.rows.transaction(async (trx) => {
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
    return this.rows.transaction(async (trx) => {
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
    return this.rows.transaction(async (trx) => {
      const row = await this.rows.refreshTokenForRotation(trx, hash);
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
      if (!(await this.rows.claimRefreshToken(trx, hash, now))) {
        // Lost a race with a concurrent refresh of the same token: that is reuse too.
        await revokeSession(trx, row.id, reuseReason);
        return { kind: 'reused', sessionId: row.id } as const;
      }
      await this.rows.touchSession(trx, row.id, now);
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
    const row = await this.rows.sessionOfRefreshToken(sha256Hex(token));
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
   * authenticate(), reading in the same round trip what `ahead` asks for (the row of the user a route is
   * about, a route's own read): they come back as `reads`, for the request context once the session is
   * allowed (core/auth/read-ahead.ts).
   */
  async authenticateAndRead(
    by: { id: string } | { token: string },
    kind?: SessionKind,
    ahead: ReadAheadRequest = {},
  ): Promise<{ session: ActiveSession; reads: RequestReads | undefined } | undefined> {
    const { row, along } = await this.rows.authenticate('id' in by ? { id: by.id } : { tokenHash: sha256Hex(by.token) }, ahead);
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
      reads: readsOf(ahead, row as unknown as Record<string, unknown>, along),
    };
  }

  async revoke(sessionId: string, reason: string): Promise<boolean> {
    return this.rows.revokeSession(sessionId, reason);
  }

  async revokeAllForUser(userId: number, reason: string, exceptSessionId?: string): Promise<number> {
    return this.rows.revokeUserSessions(userId, reason, exceptSessionId);
  }
}
