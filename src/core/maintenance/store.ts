// SQL for housekeeping: deletes of rows that can no longer mean anything. No rules here.
import type { Store } from '../../store/db.js';

/** The maintenance store bound to the database. Each method answers how many rows it deleted. */
export function createMaintenanceStore(store: Store) {
  const { db } = store;
  return {
    /** Refresh tokens past their expiry. */
    deleteRefreshTokensExpiredBefore: async (now: string): Promise<number> =>
      Number((await db.deleteFrom('refresh_tokens').where('expires_at', '<', now).executeTakeFirst()).numDeletedRows),
    /** Sessions that expired or were revoked before the cutoff (their refresh tokens go with them). */
    deleteSessionsEndedBefore: async (cutoff: string): Promise<number> =>
      Number((await db.deleteFrom('sessions').where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('revoked_at', '<', cutoff)])).executeTakeFirst()).numDeletedRows),
    /** Throttle counters whose window started before `windowStart`. */
    deleteThrottleCountersBefore: async (windowStart: string): Promise<number> =>
      Number((await db.deleteFrom('login_throttle').where('window_start', '<', windowStart).executeTakeFirst()).numDeletedRows),
  };
}
