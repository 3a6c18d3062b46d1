// Housekeeping: rows that can no longer mean anything are removed, so the session store and the
// throttling counters do not grow without bound. Safe to run on every node at once (plain DELETEs). SQL: store.ts.
import type { Store } from '../../store/db.js';
import { createMaintenanceStore } from './store.js';

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
  const rows = createMaintenanceStore(store);
  const refreshTokens = await rows.deleteRefreshTokensExpiredBefore(nowIso);
  const sessions = await rows.deleteSessionsEndedBefore(cutoff);
  const throttleCounters = await rows.deleteThrottleCountersBefore(windowStart);
  return { sessions, refreshTokens, throttleCounters };
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
