// What an administrator sees and ends of one user's ways in (issue 20, the admin console): live sessions,
// API tokens, tenant memberships, invite links; and the total of a user list. Every write takes the acting
// Principal and request context and writes its audit event in its own transaction; secrets are never read
// (only a new invite's token leaves, once, to the caller that issued it).
import { randomToken, sha256Hex } from '../../platform/crypto.js';
import { keysetBatches } from '../../store/batches.js';
import type { Executor } from '../../store/sql.js';
import { recordAudit } from '../audit/index.js';
import { mayAct } from '../auth/credentials.js';
import { endPendingInvites } from '../auth/store.js';
import type { Principal, RequestContext } from '../context.js';
import type { CoreDeps } from '../deps.js';
import { conflict, notFound } from '../errors.js';
import type { AccountMail } from '../mail/flows.js';
import { revokeSession } from '../sessions/index.js';
import { LIST_TOTAL_CAP, countListMatches, type ListTotal } from './store.js';
import { toUser } from '../users/store.js';
import type { User, UserListQuery } from '../users/types.js';
import { foldKey } from '../users/validation.js';
import {
  createUserAccessStore, deleteTokenRow, insertInviteRow, liveSessionRow, liveSessionRows, membershipRows, userTokenRow, userTokenRows,
  type UserMembershipView, type UserSessionView, type UserTokenView,
} from './store.js';

export type { UserMembershipView, UserSessionView, UserTokenView } from './store.js';

/** A user's live sessions listed at most (newest first); `has_more` tells there are more. */
export const MAX_SESSIONS_LISTED = 500;

export class UserAccessService {
  private readonly rows: ReturnType<typeof createUserAccessStore>;

  constructor(private readonly deps: CoreDeps, private readonly accountMail: AccountMail) {
    this.rows = createUserAccessStore(deps.store);
  }

  private get db() {
    return this.rows.db;
  }

  /** The live (not deleted) user, or 404. */
  private async liveUser(ex: Executor, id: number, forUpdate = false) {
    const row = await this.rows.findUser(ex, id, forUpdate);
    if (!row || row.deleted_at !== null) throw notFound('user');
    return row;
  }

  /**
   * The total of a users list query (filters and q as the list takes them): exact up to LIST_TOTAL_CAP; past it
   * an estimate for the unfiltered list (PostgreSQL's planner, SQLite's highest id), otherwise the cap, not exact.
   */
  async listTotal(q: Omit<UserListQuery, 'limit' | 'afterId' | 'afterKey'>): Promise<ListTotal> {
    const query: UserListQuery = { ...q, limit: 0, q: q.q ? foldKey(q.q.trim()) : undefined };
    const n = await countListMatches(this.db, query, LIST_TOTAL_CAP);
    if (n <= LIST_TOTAL_CAP) return { total: n, exact: true };
    if (!query.q && query.isActive === undefined && query.isAdmin === undefined && !query.emailContains) {
      const all = await this.rows.liveUsersBeyondCap();
      // A stale estimate below what was just counted is not believed.
      if (all.total > LIST_TOTAL_CAP) return all;
    }
    return { total: LIST_TOTAL_CAP, exact: false };
  }

  /** The user's live sessions on every surface, newest first (at most `limit`), and whether there are more. */
  async listSessions(userId: number, limit = MAX_SESSIONS_LISTED): Promise<{ items: UserSessionView[]; hasMore: boolean }> {
    await this.liveUser(this.db, userId);
    const rows = await liveSessionRows(this.db, userId, limit + 1);
    return { items: rows.slice(0, limit), hasMore: rows.length > limit };
  }

  /** Ends one live session of the user (its refresh tokens die with it): refused from the next request on. */
  async revokeSession(principal: Principal, ctx: RequestContext, userId: number, sessionId: string): Promise<UserSessionView> {
    return this.db.transaction().execute(async (trx) => {
      await this.liveUser(trx, userId);
      const session = await this.rows.liveSession(trx, userId, sessionId);
      if (!session) throw notFound('session');
      await revokeSession(trx, sessionId, 'revoked_by_admin');
      await recordAudit(trx, principal, ctx, {
        action: 'session.revoked', targetType: 'session', targetId: sessionId,
        after: { user_id: userId, kind: session.kind, reason: 'revoked_by_admin' },
      });
      return session;
    });
  }

  /** Ends every session of the user (and pending invite links), as sign-out everywhere does; how many sessions. */
  async revokeAllSessions(principal: Principal, ctx: RequestContext, userId: number): Promise<number> {
    await this.liveUser(this.db, userId);
    return this.deps.sessions.closeAllForUser(principal, ctx, userId, 'revoked_by_admin');
  }

  /** A batch of the user's API tokens (personal ones, and admin tokens acting for them) in id order. */
  /** The user's API tokens in id order, a batch at a time. */
  tokenBatches(userId: number, batchSize = 500): AsyncGenerator<UserTokenView[]> {
    return keysetBatches((after, limit) => this.tokenPage(userId, after, limit), (t) => t.id, batchSize);
  }

  tokenPage(userId: number, after: number | undefined, limit: number): Promise<UserTokenView[]> {
    return userTokenRows(this.db, userId, after, limit);
  }

  /** 404 unless the user exists (checked before a streamed list starts). */
  async assertUser(userId: number): Promise<void> {
    await this.liveUser(this.db, userId);
  }

  /** Deletes one token of the user (refused from the next request on), with its audit event. */
  async revokeToken(principal: Principal, ctx: RequestContext, userId: number, tokenId: number): Promise<UserTokenView> {
    return this.db.transaction().execute(async (trx) => {
      await this.liveUser(trx, userId);
      const token = await userTokenRow(trx, userId, tokenId);
      if (!token || !(await deleteTokenRow(trx, tokenId))) throw notFound('api_token');
      await recordAudit(trx, principal, ctx, {
        action: 'api_token.deleted', targetType: 'api_token', targetId: tokenId,
        before: { id: tokenId, name: token.name, kind: token.kind, user_id: userId },
      });
      return token;
    });
  }

  async listMemberships(userId: number): Promise<UserMembershipView[]> {
    await this.liveUser(this.db, userId);
    return membershipRows(this.db, userId);
  }

  /**
   * A new invite link for a user who has no password yet (created by invite, or imported without one): the
   * pending ones end, a new one-time token is issued for `ttlSeconds`, and mailed when `mail` and SMTP allow.
   * 409 has_password for a user with a password (a reset link is the way there), user_cannot_act for one
   * deactivated or banned (the link would not work).
   */
  async reissueInvite(
    principal: Principal, ctx: RequestContext, userId: number, opts: { ttlSeconds: number; mail: boolean },
  ): Promise<{ user: User; token: string; expiresAt: string; emailSent: boolean; invitesEnded: number }> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.liveUser(trx, userId, true);
      if (row.password_hash !== null) throw conflict('password', 'has_password', 'This user already has a password: an invite sets a first one (send a password reset instead)');
      if (!mayAct(row)) throw conflict('is_active', 'user_cannot_act', 'This user is deactivated or banned: an invite link would not work');
      const invitesEnded = await endPendingInvites(trx, userId);
      const token = randomToken('ghi_');
      const expiresAt = new Date(Date.now() + opts.ttlSeconds * 1000).toISOString();
      await insertInviteRow(trx, { tokenHash: sha256Hex(token), userId, createdBy: principal.label, expiresAt });
      await recordAudit(trx, principal, ctx, {
        action: 'user.invite_created', targetType: 'user', targetId: userId,
        after: { user_id: userId, expires_at: expiresAt, reissued: true, invites_ended: invitesEnded },
      });
      const user = toUser(row);
      const emailSent = opts.mail && this.accountMail.enabled ? await this.accountMail.invite(trx, user, token, expiresAt, principal.label) : false;
      return { user, token, expiresAt, emailSent, invitesEnded };
    });
  }
}
