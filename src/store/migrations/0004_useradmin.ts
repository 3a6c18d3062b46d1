// User-admin surface (Unleash): anything it needs beyond the core tables.
// STUB: filled in by its issue. An empty migration is harmless: nothing has shipped yet.
import type { Kysely } from 'kysely';
import type { Engine } from '../sql.js';
import type { VersionedMigration } from './types.js';

async function up(_db: Kysely<any>, _engine: Engine): Promise<void> {}

export const migration0004: VersionedMigration = { name: '0004_useradmin', up };
