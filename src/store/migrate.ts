// Versioned migrations for both engines, run at start-up and by `gatehouse migrate`.
// Kysely's Migrator takes a lock first (pg_advisory_xact_lock on PostgreSQL), so several nodes
// starting at once apply each migration exactly once.
import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { Store } from './db.js';
import { migrations } from './migrations/index.js';

export async function migrateToLatest(store: Store): Promise<MigrationResultSet> {
  const list: Record<string, Migration> = {};
  for (const m of migrations) {
    list[m.name] = { up: (db) => m.up(db, store.engine) };
  }
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => list },
    migrationTableName: 'gatehouse_migrations',
    migrationLockTableName: 'gatehouse_migrations_lock',
  });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
