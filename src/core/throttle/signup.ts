// Who may open an account through self-service sign-up: GATEHOUSE_SIGNUP=open|closed, and a per-address
// count (IPv6 by /64) within the login window, kept in the store's throttle table so every node shares it.
// Every admitted attempt counts, whatever its outcome: an attempt that fails later (a taken email) still
// cost the server a password hash, which is what a flood spends.
import type { Store } from '../../store/db.js';
import { toIso } from '../../store/sql.js';
import type { RequestContext } from '../context.js';
import { DomainError, forbidden } from '../errors.js';
import { addressKey } from './service.js';
import { createThrottleStore, type ThrottleStore } from './store.js';

export interface SignUpPolicy {
  signup: 'open' | 'closed';
  signupMaxPerAddress: number;
  login: { windowSeconds: number };
}

export class SignUpGate {
  private readonly counters: ThrottleStore;

  constructor(store: Store, private readonly policy: SignUpPolicy) {
    this.counters = createThrottleStore(store);
  }

  /** Throws 403 when sign-up is closed, 429 (with the seconds until the window ends) past the address's limit. */
  async admit(ctx: RequestContext): Promise<void> {
    if (this.policy.signup === 'closed') throw forbidden('signup_closed', 'Sign-up is closed on this server: ask an administrator for an account');
    const key = `signup:${addressKey(ctx.ip)}`;
    const windowSeconds = this.policy.login.windowSeconds;
    const now = Date.now();
    const nowText = new Date(now).toISOString();
    const floor = new Date(now - windowSeconds * 1000).toISOString();
    // One atomic upsert, the new count read back: parallel sign-ups cannot all pass a check made before any was counted.
    const row = await this.counters.bumpAndRead(key, nowText, floor);
    if (row.failures > this.policy.signupMaxPerAddress) {
      const windowEnd = Date.parse(toIso(row.window_start)!) + windowSeconds * 1000;
      const retryAfterSeconds = Math.max(1, Math.ceil((windowEnd - now) / 1000));
      throw new DomainError('too_many_requests', `Too many sign-ups from this address; try again in ${retryAfterSeconds} seconds`, {
        reason: 'signup_throttled',
        retryAfterSeconds,
      });
    }
  }
}
