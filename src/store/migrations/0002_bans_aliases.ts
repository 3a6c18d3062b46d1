// Bans and aliases.
// STUB: filled in by its issue. An empty migration is harmless: nothing has shipped yet.
import type { Kysely } from 'kysely';
import type { Engine } from '../sql.js';
import type { VersionedMigration } from './types.js';

async function up(_db: Kysely<any>, _engine: Engine): Promise<void> {}

export const migration0002: VersionedMigration = { name: '0002_bans_aliases', up };
