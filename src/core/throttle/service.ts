// Failed sign-in counters per account and per client address, kept in the store so every node shares them.
// The rules; SQL: store.ts.
import net from 'node:net';
import type { Store } from '../../store/db.js';
import { nowIso, toIso } from '../../store/sql.js';
import { DomainError } from '../errors.js';
import { createThrottleStore, type ThrottleStore } from './store.js';

/**
 * The key a client address is counted under: an IPv4 address as it is; an IPv6 address by its /64, the
 * smallest block a single subscriber is usually given (one host can use any of its 2^64 addresses).
 */
export function addressKey(ip: string): string {
  if (!net.isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('%')[0].split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = ip.includes('::') ? groups(tail) : [];
  // An embedded IPv4 tail (::1.2.3.4) is two groups; only the first four groups matter here.
  const width = (gs: string[]) => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const full = [...left, ...Array(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right];
  return `${full.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export interface ThrottleLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
}

export class LoginThrottle {
  private readonly counters: ThrottleStore;

  constructor(store: Store, private readonly limits: ThrottleLimits) {
    this.counters = createThrottleStore(store);
  }

  private keys(account: string, ip: string): Array<[string, number]> {
    return [
      [`acct:${account}`, this.limits.maxFailuresPerAccount],
      [`ip:${addressKey(ip)}`, this.limits.maxFailuresPerAddress],
    ];
  }

  /** Throws 429 (with the seconds until the window ends) when either counter is exhausted. */
  async check(account: string, ip: string): Promise<void> {
    const keys = this.keys(account, ip);
    const rows = await this.counters.read(keys.map(([k]) => k));
    const now = Date.now();
    for (const row of rows) {
      const limit = keys.find(([k]) => k === row.key)![1];
      const windowEnd = Date.parse(toIso(row.window_start)!) + this.limits.windowSeconds * 1000;
      if (windowEnd > now && row.failures >= limit) {
        const retryAfterSeconds = Math.max(1, Math.ceil((windowEnd - now) / 1000));
        throw new DomainError('too_many_requests', `Too many failed sign-in attempts; try again in ${retryAfterSeconds} seconds`, {
          reason: row.key.startsWith('acct:') ? 'account_throttled' : 'address_throttled',
          retryAfterSeconds,
        });
      }
    }
  }

  async recordFailure(account: string, ip: string): Promise<void> {
    const now = nowIso();
    const windowStartFloor = new Date(Date.now() - this.limits.windowSeconds * 1000).toISOString();
    for (const [key] of this.keys(account, ip)) {
      await this.counters.bump(key, now, windowStartFloor);
    }
  }

  async reset(account: string): Promise<void> {
    await this.counters.reset(`acct:${account}`);
  }

  /**
   * Counts one sign-in attempt against the account and the address BEFORE the password is checked, and
   * throws 429 when either counter is past its limit. Counting first (one atomic upsert per key, the new
   * count read back) means parallel guesses cannot all pass a check made before any of them was recorded.
   * An attempt that turns out not to be a failure is taken back with succeeded() or refund().
   */
  async attempt(account: string, ip: string): Promise<void> {
    await this.check(account, ip);
    const now = Date.now();
    const nowText = new Date(now).toISOString();
    const windowStartFloor = new Date(now - this.limits.windowSeconds * 1000).toISOString();
    let exceeded: { key: string; retryAfterSeconds: number } | undefined;
    for (const [key, limit] of this.keys(account, ip)) {
      const row = await this.counters.bumpAndRead(key, nowText, windowStartFloor);
      if (row.failures > limit && !exceeded) {
        const windowEnd = Date.parse(toIso(row.window_start)!) + this.limits.windowSeconds * 1000;
        exceeded = { key, retryAfterSeconds: Math.max(1, Math.ceil((windowEnd - now) / 1000)) };
      }
    }
    if (exceeded) {
      throw new DomainError('too_many_requests', `Too many failed sign-in attempts; try again in ${exceeded.retryAfterSeconds} seconds`, {
        reason: exceeded.key.startsWith('acct:') ? 'account_throttled' : 'address_throttled',
        retryAfterSeconds: exceeded.retryAfterSeconds,
      });
    }
  }

  /** The attempt succeeded: the account starts over, and the address gets its attempt back. */
  async succeeded(account: string, ip: string): Promise<void> {
    await this.reset(account);
    await this.takeBack(`ip:${addressKey(ip)}`);
  }

  /** The attempt was neither a failure nor a success (refused for another reason): both counters get it back. */
  async refund(account: string, ip: string): Promise<void> {
    for (const [key] of this.keys(account, ip)) await this.takeBack(key);
  }

  private async takeBack(key: string): Promise<void> {
    await this.counters.takeBack(key);
  }
}
