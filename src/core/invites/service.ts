// User-admin invites (Unleash's "new user" links): a user created without a password gets a one-time token
// (only its SHA-256 is stored) with which they set their first password. Password-reset tokens (created_by
// PASSWORD_RESET_TOKEN, core/mail) live in the same table and are spent the same way. SQL: ./store.ts.
import type { Store } from '../../store/db.js';
import { nowIso, toIso, type Executor } from '../../store/sql.js';
import { randomToken, sha256Hex } from '../../platform/crypto.js';
import { recordAudit } from '../audit/index.js';
import type { Principal, RequestContext } from '../context.js';
import { unauthenticated } from '../errors.js';
import type { PasswordPolicy } from '../passwords/index.js';
import { checkStrongPassword, STRONG_PASSWORD_POLICY } from '../passwords/strength.js';
import { mayAct } from '../auth/credentials.js';
import { endPendingInvites } from '../auth/store.js';
import type { UsersService } from '../users/service.js';
import { createUserStore, toUser, type UserRow, type UserStore } from '../users/store.js';
import { PASSWORD_RESET_TOKEN, type NewUser, type User } from '../users/types.js';
import { createInviteStore, type InviteStore } from './store.js';

/**
 * An invite sets a first password: only for a user who may act (active, not deleted, not banned) and has
 * no password yet. A password set any other way spends the user's invites too (UsersService.update); this
 * also refuses the invites left pending by older releases, which did not. A password-reset token (the same
 * table, created_by PASSWORD_RESET_TOKEN) replaces an existing password, so it needs only a user who may act.
 */
function inviteUsable(row: UserRow | undefined, createdBy: string | null): boolean {
  return row !== undefined && (row.password_hash === null || createdBy === PASSWORD_RESET_TOKEN) && mayAct(row);
}

export class InvitesService {
  private readonly rows: InviteStore;
  private readonly userRows: UserStore;

  constructor(store: Store, private readonly users: UsersService) {
    this.rows = createInviteStore(store);
    this.userRows = createUserStore(store);
  }

  /**
   * Creates a user and, when they have no password, a one-time invite token (only its SHA-256 is stored) with
   * which they set their first password, all in one transaction with its audit events.
   */
  async createWithInvite(
    principal: Principal,
    ctx: RequestContext,
    input: NewUser,
    opts: {
      passwordPolicy?: PasswordPolicy;
      inviteTtlSeconds: number;
      /** Runs in the creating transaction once the invite exists (the invite mail is enqueued there); true = mail sent. */
      onInvite?: (trx: Executor, user: User, token: string, expiresAt: string) => Promise<boolean>;
    },
  ): Promise<{ user: User; inviteToken: string | null; inviteExpiresAt: string | null; emailSent?: boolean }> {
    return this.rows.transaction(async (trx) => {
      const user = await this.users.create(principal, ctx, input, { passwordPolicy: opts.passwordPolicy, ex: trx });
      if (input.password) return { user, inviteToken: null, inviteExpiresAt: null };
      const inviteToken = randomToken('ghi_');
      const expiresAt = new Date(Date.now() + opts.inviteTtlSeconds * 1000).toISOString();
      await this.rows.insert(trx, { token_hash: sha256Hex(inviteToken), user_id: user.id, created_by: principal.label, created_at: nowIso(), expires_at: expiresAt, used_at: null });
      await recordAudit(trx, principal, ctx, { action: 'user.invite_created', targetType: 'user', targetId: user.id, after: { user_id: user.id, expires_at: expiresAt } });
      const emailSent = opts.onInvite ? await opts.onInvite(trx, user, inviteToken, expiresAt) : false;
      return { user, inviteToken, inviteExpiresAt: expiresAt, emailSent };
    });
  }

  /** The user of an unused, unexpired invite token; undefined otherwise. */
  async findInvite(token: string): Promise<{ user: User; expiresAt: string; createdBy: string | null } | undefined> {
    if (token.length < 16 || token.length > 256) return undefined;
    const row = await this.rows.findByHash(sha256Hex(token));
    if (!row || row.used_at !== null || toIso(row.expires_at)! <= nowIso()) return undefined;
    const userRow = await this.userRows.findUser(row.user_id);
    if (!inviteUsable(userRow, row.created_by)) return undefined;
    return { user: toUser(userRow!), expiresAt: toIso(row.expires_at)!, createdBy: row.created_by };
  }

  /**
   * Sets an invited user's password with their one-time token (strength rules as checkStrongPassword). The token
   * and every other open invite of the user are spent in the same transaction as the password change.
   */
  async acceptInvite(ctx: RequestContext, token: string, password: string): Promise<User> {
    checkStrongPassword(password);
    const invalidToken = () => unauthenticated('invalid_invite', 'The invite link is not valid: it is unknown, already used or expired.');
    if (token.length < 16 || token.length > 256) throw invalidToken();
    return this.rows.transaction(async (trx) => {
      // Lock order as everywhere else (a password change, a revoking ban): the user row, then their invites.
      const hash = sha256Hex(token);
      const ownerId = await this.rows.ownerOf(trx, hash);
      if (ownerId === undefined) throw invalidToken();
      const user = await this.userRows.lockUser(trx, ownerId);
      const row = await this.rows.lockByHash(trx, hash);
      if (!row || row.used_at !== null || toIso(row.expires_at)! <= nowIso()) throw invalidToken();
      if (!inviteUsable(user, row.created_by)) throw invalidToken();
      const self: Principal = { kind: 'user', userId: row.user_id, sessionId: null, rootRoleId: 0, permissions: new Set(), label: `user:${row.user_id}` };
      const result = await this.users.update(self, ctx, row.user_id, { password }, { passwordPolicy: STRONG_PASSWORD_POLICY, keepSessionId: null, ex: trx });
      await endPendingInvites(trx, row.user_id);
      return result.user;
    });
  }
}
