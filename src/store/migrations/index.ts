// The ordered list of migrations. Never edit a migration that has shipped; add the next one.
import type { VersionedMigration } from './types.js';
import { migration0001 } from './0001_core.js';

export const migrations: VersionedMigration[] = [migration0001];
