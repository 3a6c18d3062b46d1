// SQL for the throttle counters (login_throttle: failed sign-ins per account and address, sign-ups per
// address). No rules here.
import type { Store } from '../../store/db.js';
import type { Executor } from '../../store/sql.js';

/**
 * One atomic upsert of a counter: +1, or a fresh window (count 1 from `now`) when its window started before
 * `floor`.
 */
function bump(ex: Executor, key: string, now: string, floor: string) {
  return ex
    .insertInto('login_throttle')
    .values({ key, window_start: now, failures: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        // A window that has ended starts over.
        failures: eb.case().when('login_throttle.window_start', '<', floor).then(1).else(eb('login_throttle.failures', '+', 1)).end(),
        window_start: eb.case().when('login_throttle.window_start', '<', floor).then(now).else(eb.ref('login_throttle.window_start')).end(),
      })),
    );
}

/** The throttle store bound to the database. */
export function createThrottleStore(store: Store) {
  const { db } = store;
  return {
    read: (keys: string[]) => db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute(),
    /** Counts one against the key (see bump). */
    bump: async (key: string, now: string, floor: string): Promise<void> => {
      await bump(db, key, now, floor).execute();
    },
    /** Counts one against the key (see bump) and reads the counter back. */
    bumpAndRead: (key: string, now: string, floor: string) =>
      bump(db, key, now, floor).returning(['failures', 'window_start']).executeTakeFirstOrThrow(),
    reset: async (key: string): Promise<void> => {
      await db.deleteFrom('login_throttle').where('key', '=', key).execute();
    },
    /** Gives one back (never below zero). */
    takeBack: async (key: string): Promise<void> => {
      await db.updateTable('login_throttle').set((eb) => ({ failures: eb('failures', '-', 1) })).where('key', '=', key).where('failures', '>', 0).execute();
    },
  };
}

export type ThrottleStore = ReturnType<typeof createThrottleStore>;
