// Aliases get a version, like users and bans: every write increments it, responses carry it as an ETag and
// a stale If-Match is refused (412), so two admins editing one alias cannot overwrite each other unseen.
import type { Kysely } from 'kysely';
import type { Engine } from '../sql.js';
import type { VersionedMigration } from './types.js';

async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  await db.schema.alterTable('aliases').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
}

export const migration0007: VersionedMigration = { name: '0007_alias_versions', up };
