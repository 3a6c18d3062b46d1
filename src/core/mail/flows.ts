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
import type { MailService } from './index.js';
import { insertResetToken, resetIssuedSince } from './store.js';

/** A reset link works this long. */
export const RESET_TTL_SECONDS = 3600;
/** At most one reset mail per user in this interval (a form submitted again and again sends one mail). */
export const RESET_INTERVAL_SECONDS = 60;

export class AccountMail {
  constructor(private readonly deps: CoreDeps, private readonly mail: MailService) {}

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
    await this.deps.store.db.transaction().execute(async (trx) => {
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
}
