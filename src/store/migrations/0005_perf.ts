// Prefix search over a million users: partial (key, id) indexes of live users, so a search reads only index
// entries (an index-only scan per key) to pick the first page of ids, then fetches just those rows.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Engine } from '../sql.js';
import type { VersionedMigration } from './types.js';

async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  for (const key of ['email_key', 'username_key', 'name_key']) {
    await db.schema
      .createIndex(`users_${key}_live_idx`)
      .on('users')
      .columns([key, 'id'])
      .where(sql.ref('deleted_at'), 'is', null)
      .execute();
  }
}

export const migration0005: VersionedMigration = { name: '0005_perf', up };
