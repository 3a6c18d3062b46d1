// SQL of the outbox. A message is claimed by one node for a lease (claimed_until): on PostgreSQL the claim
// skips rows another node's claim statement holds locked (FOR UPDATE SKIP LOCKED), and an unexpired
// claim is never taken over, so two nodes never send one message at the same time; a crashed node's
// claims expire with their lease. SQLite has one writer process, which releases its own old claims at start.
import type { Selectable } from 'kysely';
import type { OutboxMessagesTable } from '../../store/migrations/0010_outbox_webhooks.js';
import type { Store } from '../../store/db.js';
import type { Engine, Executor } from '../../store/sql.js';
import { nowIso } from '../../store/sql.js';

export type OutboxRow = Selectable<OutboxMessagesTable>;
export type OutboxStatus = 'pending' | 'delivered' | 'dead';

export interface NewOutboxRow {
  id: string;
  kind: 'mail' | 'webhook';
  webhook_id: number | null;
  event_type: string | null;
  payload: string;
}

/** Writes messages (on the caller's executor: the transaction of the change that causes them). */
export async function insertOutboxRows(ex: Executor, rows: readonly NewOutboxRow[], now = nowIso()): Promise<void> {
  if (rows.length === 0) return;
  await ex
    .insertInto('outbox_messages')
    .values(rows.map((r) => ({ ...r, status: 'pending', attempts: 0, next_attempt_at: now, created_at: now })))
    .execute();
}

/** Claims up to `limit` due messages for `node` until `claimedUntil`, counting the attempt; returns them. */
async function claimDue(ex: Executor, engine: Engine, node: string, now: string, claimedUntil: string, limit: number): Promise<OutboxRow[]> {
  let due = ex
    .selectFrom('outbox_messages')
    .select('seq')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .orderBy('seq')
    .limit(limit);
  if (engine === 'postgres') due = due.forUpdate().skipLocked();
  return ex
    .updateTable('outbox_messages')
    .set((eb) => ({ claimed_until: claimedUntil, claimed_by: node, attempts: eb('attempts', '+', 1), last_attempt_at: now }))
    .where('seq', 'in', due)
    .where('status', '=', 'pending')
    .returningAll()
    .execute();
}

/** Releases every claim (SQLite at start: the one process that could hold them is this one, restarted). */
async function releaseAllClaims(ex: Executor): Promise<number> {
  const r = await ex.updateTable('outbox_messages').set({ claimed_until: null, claimed_by: null }).where('status', '=', 'pending').where('claimed_until', 'is not', null).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** The outcome of one attempt, written only while this node still holds the claim. */
export async function finishAttempt(
  ex: Executor,
  seq: number,
  node: string,
  outcome: { status: OutboxStatus; nextAttemptAt?: string; lastError: string | null; lastStatus: number | null; payload?: string },
): Promise<boolean> {
  const now = nowIso();
  const r = await ex
    .updateTable('outbox_messages')
    .set({
      status: outcome.status,
      claimed_until: null,
      claimed_by: null,
      last_error: outcome.lastError,
      last_status: outcome.lastStatus,
      ...(outcome.nextAttemptAt ? { next_attempt_at: outcome.nextAttemptAt } : {}),
      ...(outcome.status === 'delivered' ? { delivered_at: now } : {}),
      ...(outcome.payload !== undefined ? { payload: outcome.payload } : {}),
    })
    .where('seq', '=', seq)
    .where('claimed_by', '=', node)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Marks several messages delivered in one statement (those this node still holds); returns the seqs marked. */
export async function markDelivered(ex: Executor, seqs: readonly number[], node: string, lastStatus: number | null): Promise<Set<number>> {
  if (seqs.length === 0) return new Set();
  const rows = await ex
    .updateTable('outbox_messages')
    .set({ status: 'delivered', claimed_until: null, claimed_by: null, last_error: null, last_status: lastStatus, delivered_at: nowIso() })
    .where('seq', 'in', seqs)
    .where('claimed_by', '=', node)
    .returning('seq')
    .execute();
  return new Set(rows.map((r) => Number(r.seq)));
}

export interface MessageQuery {
  status?: OutboxStatus;
  kind?: 'mail' | 'webhook';
  webhookId?: number;
  /** Messages older than this seq (newest first). */
  before?: number;
  limit: number;
}

export async function listMessages(ex: Executor, q: MessageQuery): Promise<{ items: OutboxRow[]; nextCursor: number | null }> {
  let query = ex.selectFrom('outbox_messages').selectAll();
  if (q.status) query = query.where('status', '=', q.status);
  if (q.kind) query = query.where('kind', '=', q.kind);
  if (q.webhookId !== undefined) query = query.where('webhook_id', '=', q.webhookId);
  if (q.before !== undefined) query = query.where('seq', '<', q.before);
  const rows = await query.orderBy('seq', 'desc').limit(q.limit + 1).execute();
  const items = rows.slice(0, q.limit);
  return { items, nextCursor: rows.length > q.limit ? Number(items[items.length - 1].seq) : null };
}

export async function findMessage(ex: Executor, id: string): Promise<OutboxRow | undefined> {
  return ex.selectFrom('outbox_messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Puts a message back in the queue, due now, with a fresh attempt budget; the same id, so a receiver that
 * already has it drops it. Not while a node is sending it.
 */
export async function requeueMessage(ex: Executor, id: string, now = nowIso()): Promise<OutboxRow | undefined> {
  return ex
    .updateTable('outbox_messages')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, claimed_until: null, claimed_by: null })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('status', '!=', 'pending'), eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
    .returningAll()
    .executeTakeFirst();
}

/** Dead-letters every pending message of a webhook (it was disabled or deleted). */
export async function killWebhookMessages(ex: Executor, webhookId: number, reason: string): Promise<void> {
  await ex.updateTable('outbox_messages').set({ status: 'dead', last_error: reason, claimed_until: null, claimed_by: null })
    .where('webhook_id', '=', webhookId).where('status', '=', 'pending').execute();
}

export async function deleteWebhookMessages(ex: Executor, webhookId: number): Promise<void> {
  await ex.deleteFrom('outbox_messages').where('webhook_id', '=', webhookId).execute();
}

/**
 * Deletes up to `limit` delivered messages delivered before `cutoff`, oldest first (they sit at the low end
 * of the primary key, so the scan stops early); returns how many.
 */
export async function purgeDelivered(ex: Executor, cutoff: string, limit: number): Promise<number> {
  const r = await ex.deleteFrom('outbox_messages')
    .where('seq', 'in', ex.selectFrom('outbox_messages').select('seq').where('status', '=', 'delivered').where('delivered_at', '<', cutoff).orderBy('seq').limit(limit))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * The outbox statements bound to a store (its database and engine). The engines' claim strategies differ
 * and are decided here: PostgreSQL claims with FOR UPDATE SKIP LOCKED and lets a crashed node's claims
 * expire with their lease; SQLite has one writer process, which releases its own old claims at start.
 */
export function createOutboxStore(store: Store) {
  const { db, engine } = store;
  return {
    /** At dispatcher start: releases the claims that can only be this process's own from before a crash (SQLite); returns how many. */
    releaseOwnStaleClaims: async (): Promise<number> => (engine === 'sqlite' ? releaseAllClaims(db) : 0),
    /** Claims up to `limit` due messages for `node` until `claimedUntil`, counting the attempt; returns them. */
    claimDue: (node: string, now: string, claimedUntil: string, limit: number): Promise<OutboxRow[]> => claimDue(db, engine, node, now, claimedUntil, limit),
    finishAttempt: (seq: number, node: string, outcome: Parameters<typeof finishAttempt>[3]): Promise<boolean> => finishAttempt(db, seq, node, outcome),
    markDelivered: (seqs: readonly number[], node: string, lastStatus: number | null): Promise<Set<number>> => markDelivered(db, seqs, node, lastStatus),
    purgeDelivered: (cutoff: string, limit: number): Promise<number> => purgeDelivered(db, cutoff, limit),
    list: (q: MessageQuery) => listMessages(db, q),
    find: (id: string): Promise<OutboxRow | undefined> => findMessage(db, id),
    requeue: (id: string, now?: string): Promise<OutboxRow | undefined> => requeueMessage(db, id, now),
  };
}

export type OutboxStore = ReturnType<typeof createOutboxStore>;
