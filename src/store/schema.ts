// Kysely table types. Each capability declares its own tables here, in one block per capability.
// Engine differences are removed at this level: booleans are integers 0/1 on both engines, JSON is text,
// ids are integers (pg's int8 is parsed to number by the store), timestamps go in as ISO-8601 strings
// and come out as Date (PostgreSQL) or string (SQLite): read them through `toIso` in ./sql.ts.
import type { ColumnType, Generated } from 'kysely';

export type Timestamp = ColumnType<Date | string, string, string>;
export type NullableTimestamp = ColumnType<Date | string | null, string | null, string | null>;

export interface UsersTable {
  id: Generated<number>;
  username: string | null;
  username_key: string | null;
  /** The username's confusable skeleton (core/identity identitySkeleton), unique: no two usernames look alike. */
  username_skeleton: string | null;
  name: string | null;
  name_key: string | null;
  email: string | null;
  email_key: string | null;
  email_verified_at: NullableTimestamp;
  password_hash: string | null;
  is_active: number;
  root_role_id: number;
  account_type: string;
  avatar_url: string | null;
  phone: string | null;
  title: string | null;
  emergency_contact_name: string | null;
  emergency_contact_surname: string | null;
  emergency_contact_phone_number: string | null;
  blood_group: string | null;
  bio: string | null;
  languages: string | null; // JSON array
  login_attempts: number;
  last_login_at: NullableTimestamp;
  last_login_ip: string | null;
  seen_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
  version: number;
  /** Until when an active email/domain/name ban matches the user (null: none). Kept by the bans service. */
  banned_until: ColumnType<Date | string | null, Date | string | null | undefined, string | null>;
}

export interface RolesTable {
  id: Generated<number>;
  name: string;
  name_key: string;
  type: string; // 'root' | 'tenant'
  tenant_id: number | null;
  description: string | null;
  permissions: string; // JSON array of permission names
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SessionsTable {
  id: string; // the session family id
  user_id: number;
  kind: string; // 'admin' | 'account' | 'useradmin' | 'oauth'
  token_hash: string | null; // opaque cookie sessions only
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoke_reason: string | null;
  ip: string | null;
  user_agent: string | null;
  data: string | null; // JSON, surface-specific (e.g. tenant of an OAuth grant)
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  rotated_at: NullableTimestamp;
}

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  token_hash: string;
  kind: string; // 'admin' | 'personal'
  user_id: number | null; // owner of a personal token
  creator_user_id: ColumnType<number | null, number | null | undefined, number | null>; // the user an admin token acts for (null: made by the system)
  created_by: string | null;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

export interface AuditEventsTable {
  id: Generated<number>;
  occurred_at: Timestamp;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  before_data: string | null;
  after_data: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  surface: string | null;
}

export interface LoginThrottleTable {
  key: string;
  window_start: Timestamp;
  failures: number;
}

export interface ServerSettingsTable {
  key: string;
  value: string;
}

// Other capabilities add their tables to this interface with declaration merging
// (`declare module '.../store/schema.js' { interface Database { ... } }`) from their own folder.
export interface Database {
  users: UsersTable;
  roles: RolesTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  api_tokens: ApiTokensTable;
  audit_events: AuditEventsTable;
  login_throttle: LoginThrottleTable;
  server_settings: ServerSettingsTable;
}
