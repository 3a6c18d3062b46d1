// Prefix search now reads the (key, id) indexes of live users in key order (migration 0005, see
// searchUserRows in core/users/store.ts) and no longer scans live users in id order: the index 0006 built
// for that window is dropped (every insert and key change paid to keep it).
import type { Kysely } from 'kysely';
import type { Engine } from '../sql.js';
import type { VersionedMigration } from './types.js';

async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  await db.schema.dropIndex('users_live_keys_by_id_idx').ifExists().execute();
}

export const migration0008: VersionedMigration = { name: '0008_drop_search_window', up };
