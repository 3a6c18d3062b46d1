// User-admin surface (Unleash): invite links. A user created without a password gets a one-time token
// (only its SHA-256 is stored) with which they set their first password.
import type { Kysely } from 'kysely';
import type { NullableTimestamp, Timestamp } from '../schema.js';
import type { Engine } from '../sql.js';
import { columnTypes, type VersionedMigration } from './types.js';

export interface UseradminInvitesTable {
  token_hash: string;
  user_id: number;
  created_by: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

declare module '../schema.js' {
  interface Database {
    useradmin_invites: UseradminInvitesTable;
  }
}

async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const t = columnTypes(engine);
  await db.schema
    .createTable('useradmin_invites')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_by', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('used_at', t.timestamp)
    .execute();
  await db.schema.createIndex('useradmin_invites_user_idx').on('useradmin_invites').columns(['user_id', 'used_at']).execute();
}

export const migration0004: VersionedMigration = { name: '0004_useradmin', up };
