// Housekeeping: rows that can no longer mean anything are removed, so the session store and the
// throttling counters do not grow without bound. Safe to run on every node at once (plain DELETEs).
import type { Store } from '../../store/db.js';

export interface PurgeResult {
  sessions: number;
  refreshTokens: number;
  throttleCounters: number;
}

/**
 * Deletes sessions that expired or were revoked more than `graceSeconds` ago (their refresh tokens go with
 * them), refresh tokens past their own expiry, and login counters whose window has ended.
 */
export async function purgeExpired(store: Store, opts: { throttleWindowSeconds: number; graceSeconds?: number; now?: Date }): Promise<PurgeResult> {
  const now = opts.now ?? new Date();
  const cutoff = new Date(now.getTime() - (opts.graceSeconds ?? 86400) * 1000).toISOString();
  const nowIso = now.toISOString();
  const windowStart = new Date(now.getTime() - opts.throttleWindowSeconds * 1000).toISOString();
  const refresh = await store.db.deleteFrom('refresh_tokens').where('expires_at', '<', nowIso).executeTakeFirst();
  const sessions = await store.db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('revoked_at', '<', cutoff)]))
    .executeTakeFirst();
  const throttle = await store.db.deleteFrom('login_throttle').where('window_start', '<', windowStart).executeTakeFirst();
  return {
    sessions: Number(sessions.numDeletedRows),
    refreshTokens: Number(refresh.numDeletedRows),
    throttleCounters: Number(throttle.numDeletedRows),
  };
}

/** Runs purgeExpired every `everySeconds` until stopped; failures are logged, never thrown. */
export function schedulePurge(
  store: Store,
  opts: { throttleWindowSeconds: number; everySeconds: number; log: (msg: string, data: Record<string, unknown>) => void },
): () => void {
  const timer = setInterval(() => {
    purgeExpired(store, { throttleWindowSeconds: opts.throttleWindowSeconds }).then(
      (r) => {
        if (r.sessions || r.refreshTokens || r.throttleCounters) opts.log('purged expired rows', { ...r });
      },
      (err) => opts.log('purge failed', { err: err instanceof Error ? err.message : String(err) }),
    );
  }, opts.everySeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
