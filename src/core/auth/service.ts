// Credential checks shared by every sign-in route (admin, account, user-admin, OAuth password grant).
import type { Executor } from '../../store/sql.js';
import type { RequestContext } from '../context.js';
import { unauthenticated } from '../errors.js';
import type { PasswordHasher } from '../passwords/index.js';
import type { LoginThrottle } from '../throttle/index.js';
import type { User } from '../users/types.js';
import type { UsersService } from '../users/index.js';
import { usernameKey } from '../identity/index.js';

/**
 * The sign-in throttle's account key: the resolved user's id, or (no such user) the identifier's identity key,
 * bounded in length.
 */
export function accountThrottleKey(identifier: string, userId: number | undefined): string {
  return userId !== undefined ? `user:${userId}` : `name:${usernameKey(identifier.slice(0, 640)).slice(0, 320)}`;
}

/** Runs after the password is verified, before a session is made (bans hook in here). Throws to refuse. */
export type LoginGuard = (user: User, ctx: RequestContext, ex?: Executor) => Promise<void> | void;

export class AuthService {
  private readonly guards: LoginGuard[] = [];

  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
  ) {}

  addLoginGuard(guard: LoginGuard): void {
    this.guards.push(guard);
  }

  /**
   * Verifies an email-or-username and password. Unknown users cost the same time as known ones; every
   * failure looks the same to the caller; failures are counted per account and per address.
   *
   * The account counter belongs to the account the identifier resolves to (its user id), however it was
   * spelled: by email or by username, in any case, in fullwidth, mathematical or circled letters (all one
   * identity key, core/identity). An identifier that resolves to no one is counted under its identity key,
   * so guesses at unknown names are throttled too.
   */
  async verifyCredentials(identifier: string, password: string, ctx: RequestContext): Promise<User> {
    const found = identifier.length <= 320 ? await this.users.findForLogin(identifier) : undefined;
    const account = accountThrottleKey(identifier, found?.user.id);
    // Counted before the password is checked, so parallel guesses cannot outrun the limit.
    await this.throttle.attempt(account, ctx.ip);
    const verdict = await this.hasher.verify(found?.passwordHash ?? null, password);
    const usable = found && found.user.isActive && found.user.deletedAt === null;
    if (!verdict.ok || !usable) {
      // After the answer: a known user's failure counter is a write (a commit, an fsync) that an unknown
      // user has no row for, and awaiting it made a wrong password for a real account answer 1-5 ms slower,
      // telling which accounts exist. setImmediate, not just no await: SQLite writes on this thread, so the
      // commit would still run before the reply left. The attempt itself was already counted (throttle.attempt).
      if (found) {
        const id = found.user.id;
        setImmediate(() => void this.users.recordFailedLogin(id).catch(() => {}));
      }
      throw unauthenticated('invalid_credentials', 'Invalid credentials');
    }
    try {
      for (const guard of this.guards) await guard(found.user, ctx);
    } catch (err) {
      // Refused by a guard (a ban), not a wrong password: not a failure to count.
      await this.throttle.refund(account, ctx.ip);
      throw err;
    }
    await this.throttle.succeeded(account, ctx.ip);
    await this.users.recordLogin(found.user.id, ctx.ip, verdict.rehash);
    return { ...found.user, loginAttempts: 0, lastLoginAt: new Date().toISOString(), lastLoginIp: ctx.ip };
  }
}
