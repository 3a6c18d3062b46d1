// The delivery outbox (mail and webhook messages written in the same transaction as the change that causes
// them, sent at least once by a dispatcher), webhook subscriptions and email verification links. See docs/delivery.md.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Generated } from 'kysely';
import type { NullableTimestamp, Timestamp } from '../schema.js';
import type { Engine } from '../sql.js';
import { columnTypes, idColumn, type VersionedMigration } from './types.js';

export interface OutboxMessagesTable {
  seq: Generated<number>;
  /** The stable id receivers drop duplicates by (webhook-id header; Message-ID of a mail). */
  id: string;
  kind: string; // 'mail' | 'webhook'
  webhook_id: number | null;
  event_type: string | null;
  /** JSON: a webhook's exact body, or a mail's recipient and sealed content. */
  payload: string;
  status: string; // 'pending' | 'delivered' | 'dead'
  attempts: number;
  next_attempt_at: Timestamp;
  /** While set and in the future, one node is sending the message (its lease). */
  claimed_until: NullableTimestamp;
  claimed_by: string | null;
  last_error: string | null;
  /** The receiver's HTTP status (webhooks) or SMTP reply code (mail) of the last attempt. */
  last_status: number | null;
  created_at: Timestamp;
  last_attempt_at: NullableTimestamp;
  delivered_at: NullableTimestamp;
}

export interface WebhooksTable {
  id: Generated<number>;
  url: string;
  events: string; // JSON array of event types ('*' = all)
  active: number;
  description: string | null;
  /** The signing secret (whsec_…), sealed under the server secret. */
  secret_sealed: string;
  /** Since when every delivery failed (no success since); null when the last one succeeded. */
  failing_since: NullableTimestamp;
  disabled_reason: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Email verification links: a one-time token (only its SHA-256 kept) for one address of one user. */
export interface EmailVerificationsTable {
  token_hash: string;
  user_id: number;
  /** The address the link confirms: a link sent before the address changed again confirms nothing. */
  email: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

declare module '../schema.js' {
  interface Database {
    outbox_messages: OutboxMessagesTable;
    webhooks: WebhooksTable;
    email_verifications: EmailVerificationsTable;
  }
}

async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const t = columnTypes(engine);
  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'integer', idColumn(engine))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('failing_since', t.timestamp)
    .addColumn('disabled_reason', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('outbox_messages')
    .addColumn('seq', t.bigint, idColumn(engine, 'bigint'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    // No foreign key: a node whose subscription cache is a moment stale may still enqueue for a webhook
    // just deleted, and that must not fail the change that caused the event (the dispatcher drops it).
    .addColumn('webhook_id', 'integer')
    .addColumn('event_type', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.timestamp, (c) => c.notNull())
    .addColumn('claimed_until', t.timestamp)
    .addColumn('claimed_by', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_status', 'integer')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_attempt_at', t.timestamp)
    .addColumn('delivered_at', t.timestamp)
    .execute();
  // The dispatcher's scan: pending messages by due time (delivered and dead ones are not in the index).
  await sql`create index outbox_due_idx on outbox_messages (next_attempt_at, seq) where status = 'pending'`.execute(db);
  await db.schema.createIndex('outbox_webhook_idx').on('outbox_messages').columns(['webhook_id', 'seq']).execute();
  await db.schema
    .createTable('email_verifications')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('used_at', t.timestamp)
    .execute();
  await db.schema.createIndex('email_verifications_user_idx').on('email_verifications').columns(['user_id', 'created_at']).execute();
  // The dead letters, newest first (few rows: a delivered message never enters this index).
  await sql`create index outbox_dead_idx on outbox_messages (seq) where status = 'dead'`.execute(db);
}

export const migration0010: VersionedMigration = { name: '0010_outbox_webhooks', up };
