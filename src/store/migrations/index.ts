// The ordered list of migrations. Never edit a migration that has shipped; add the next one.
import type { VersionedMigration } from './types.js';
import { migration0001 } from './0001_core.js';
import { migration0002 } from './0002_bans_aliases.js';
import { migration0003 } from './0003_tenants_oauth.js';
import { migration0004 } from './0004_useradmin.js';
import { migration0005 } from './0005_perf.js';
import { migration0006 } from './0006_search_window.js';
import { migration0007 } from './0007_alias_versions.js';
import { migration0008 } from './0008_drop_search_window.js';
import { migration0009 } from './0009_identity_skeleton.js';
import { migration0010 } from './0010_outbox_webhooks.js';
import { migration0011 } from './0011_credential_policy.js';

export const migrations: VersionedMigration[] = [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006, migration0007, migration0008, migration0009, migration0010, migration0011];
