// SQL for server-wide settings (server_settings). No rules here.
import type { Store } from '../../store/db.js';

/** The settings store bound to the database. */
export function createSettingsStore(store: Store) {
  const { db } = store;
  return {
    /** Writes the value unless the key already has one (nodes starting together agree on the first). */
    insertIfAbsent: async (key: string, value: string): Promise<void> => {
      await db.insertInto('server_settings').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
    },
    read: async (key: string): Promise<string> => {
      const row = await db.selectFrom('server_settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
      return row.value;
    },
  };
}
