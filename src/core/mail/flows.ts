// The account flows that send mail: invites (a new user without a password gets a link to set one) and
// forgotten passwords (a link to choose a new one). Each mail is enqueued in the transaction that issues its
// token, so a token is never issued without its mail nor a mail sent for a token that was rolled back.
import { randomToken, sha256Hex } from '../../platform/crypto.js';
import type { Executor } from '../../store/sql.js';
import { nowIso } from '../../store/sql.js';
import { recordAudit } from '../audit/index.js';
import { SYSTEM_PRINCIPAL, type RequestContext } from '../context.js';
import type { CoreDeps } from '../deps.js';
import type { User } from '../users/types.js';
import type { MailService } from './service.js';
import {
  createMailStore, insertResetToken, insertVerification, markEmailVerified, resetIssuedSince, spendPasswordTokens,
  spendVerifications, verificationIssuedSince, type MailStore,
} from './store.js';
import { invalid } from '../errors.js';
import type { Principal } from '../context.js';
import type { PasswordPolicy } from '../passwords/index.js';
import { toUser, type UserRow } from '../users/index.js';
import { toIso } from '../../store/sql.js';

/** A reset link works this long. */
export const RESET_TTL_SECONDS = 3600;
/** At most one reset (or verification) mail per user in this interval (a form submitted again and again sends one mail). */
export const RESET_INTERVAL_SECONDS = 60;
/** A verification link works this long. */
export const VERIFY_TTL_SECONDS = 86400;

export type VerificationRequest = 'sent' | 'already_verified' | 'no_email' | 'mail_disabled' | 'recently_sent';

export class AccountMail {
  private readonly rows: MailStore;

  constructor(private readonly deps: CoreDeps, private readonly mail: MailService) {
    this.rows = createMailStore(deps.store);
  }

  get enabled(): boolean {
    return this.mail.enabled;
  }

  /**
   * The invite mail of a user just created without a password, in the creating transaction; false (nothing
   * sent) without SMTP or without an email address.
   */
  async invite(ex: Executor, user: User, token: string, expiresAt: string, inviter: string): Promise<boolean> {
    if (!user.email) return false;
    return this.mail.enqueue(ex, user.email, 'invite', {
      name: user.name ?? user.username ?? user.email,
      inviter,
      link: this.mail.link(`/new-user?token=${encodeURIComponent(token)}`),
      expires_at: expiresAt,
    });
  }

  /**
   * A forgotten password: when the address belongs to an active user and mail is configured, a one-time
   * token (only its SHA-256 is kept) and a mail with the link, in one transaction with an audit event. The
   * caller answers the same in every case, so the answer does not tell whether the address has an account.
   */
  async requestPasswordReset(ctx: RequestContext, email: string, linkPath: (token: string) => string): Promise<void> {
    if (!this.mail.enabled) return;
    const address = email.trim();
    if (!address.includes('@') || address.length > 320) return;
    const found = await this.deps.users.findForLogin(address);
    const user = found?.user;
    if (!user || !user.isActive || user.deletedAt !== null || !user.email || user.email.toLowerCase() !== address.toLowerCase()) return;
    const token = randomToken('ghr_');
    const now = nowIso();
    const expiresAt = new Date(Date.now() + RESET_TTL_SECONDS * 1000).toISOString();
    await this.rows.transaction(async (trx) => {
      if (await resetIssuedSince(trx, user.id, new Date(Date.now() - RESET_INTERVAL_SECONDS * 1000).toISOString())) return;
      await insertResetToken(trx, { tokenHash: sha256Hex(token), userId: user.id, now, expiresAt });
      await recordAudit(trx, SYSTEM_PRINCIPAL, ctx, { action: 'user.password_reset_requested', targetType: 'user', targetId: user.id, after: { user_id: user.id, expires_at: expiresAt } });
      await this.mail.enqueue(trx, user.email!, 'password_reset', {
        name: user.name ?? user.username ?? user.email!,
        link: this.mail.link(linkPath(token)),
        expires_at: expiresAt,
      });
    });
  }

  /**
   * Sets a new password with a reset token (the admin surface's confirm route; user-admin's
   * /auth/reset/password spends the same tokens through acceptInvite). One transaction: the password
   * (policy checked, every session of the user revoked), the token and every other open one spent.
   */
  async confirmReset(ctx: RequestContext, token: string, password: string, policy: PasswordPolicy): Promise<User> {
    const bad = () => invalid('token', 'invalid_token', 'The reset link is not valid: it is unknown, already used or expired');
    if (token.length < 16 || token.length > 256) throw bad();
    return this.rows.transaction(async (trx) => {
      const row = await this.rows.lockResetToken(trx, sha256Hex(token));
      if (!row || row.used_at !== null || toIso(row.expires_at)! <= nowIso()) throw bad();
      const self: Principal = { kind: 'user', userId: row.user_id, sessionId: null, rootRoleId: 0, permissions: new Set(), label: `user:${row.user_id}` };
      const result = await this.deps.users.update(self, ctx, row.user_id, { password }, { passwordPolicy: policy, keepSessionId: null, ex: trx });
      await spendPasswordTokens(trx, row.user_id, nowIso());
      return result.user;
    });
  }

  /** A verification mail for a user's current address (asked by the user). */
  async requestVerification(ctx: RequestContext, userId: number): Promise<VerificationRequest> {
    if (!this.mail.enabled) return 'mail_disabled';
    const user = await this.deps.users.getUser(userId);
    if (!user.email) return 'no_email';
    if (user.emailVerifiedAt) return 'already_verified';
    return this.rows.transaction(async (trx) => {
      if (await verificationIssuedSince(trx, user.id, new Date(Date.now() - RESET_INTERVAL_SECONDS * 1000).toISOString())) return 'recently_sent';
      await this.enqueueVerification(trx, user);
      return 'sent';
    });
  }

  private async enqueueVerification(trx: Executor, user: User): Promise<void> {
    const token = randomToken('ghv_');
    const expiresAt = new Date(Date.now() + VERIFY_TTL_SECONDS * 1000).toISOString();
    await insertVerification(trx, { tokenHash: sha256Hex(token), userId: user.id, email: user.email!, now: nowIso(), expiresAt });
    await this.mail.enqueue(trx, user.email!, 'verify_email', {
      name: user.name ?? user.username ?? user.email!,
      email: user.email!,
      link: this.mail.link(`/verify-email?token=${encodeURIComponent(token)}`),
      expires_at: expiresAt,
    });
  }

  /**
   * Confirms an address with a verification token: sets email_verified_at when the user's address is still
   * the one the link was sent to (and not yet verified), with an audit event; the user's open links are spent.
   */
  async verifyEmail(ctx: RequestContext, token: string): Promise<User> {
    const bad = () => invalid('token', 'invalid_token', 'The verification link is not valid: it is unknown, already used, expired, or the address has changed since');
    if (token.length < 16 || token.length > 256) throw bad();
    return this.rows.transaction(async (trx) => {
      const row = await this.rows.lockVerification(trx, sha256Hex(token));
      if (!row || row.used_at !== null || toIso(row.expires_at)! <= nowIso()) throw bad();
      const now = nowIso();
      const updated = await markEmailVerified(trx, row.user_id, row.email, now);
      if (!updated) throw bad();
      await spendVerifications(trx, row.user_id, now);
      const user = toUser(updated as UserRow);
      const self: Principal = { kind: 'user', userId: user.id, sessionId: null, rootRoleId: 0, permissions: new Set(), label: `user:${user.id}` };
      await recordAudit(trx, self, ctx, {
        action: 'user.email_verified', targetType: 'user', targetId: user.id,
        before: { email: user.email, email_verified_at: null }, after: { email: user.email, email_verified_at: user.emailVerifiedAt },
      });
      return user;
    });
  }

  /**
   * In the transaction of an email change (UsersService.update): a notice to the old address, and a
   * verification link to the new one when the change left it unverified (a user changing their own address).
   */
  async emailChanged(trx: Executor, before: User, after: User): Promise<void> {
    if (!this.mail.enabled) return;
    if (before.email) {
      await this.mail.enqueue(trx, before.email, 'email_change_notice', {
        name: after.name ?? after.username ?? before.email,
        old_email: before.email,
        new_email: after.email ?? '(none)',
      });
    }
    if (after.email && !after.emailVerifiedAt) await this.enqueueVerification(trx, after);
  }
}
