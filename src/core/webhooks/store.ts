// SQL of webhook subscriptions.
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { WebhooksTable } from '../../store/migrations/0010_outbox_webhooks.js';
import type { Store } from '../../store/db.js';
import type { Executor } from '../../store/sql.js';

export type WebhookRow = Selectable<WebhooksTable>;

export async function insertWebhook(ex: Executor, row: Insertable<WebhooksTable>): Promise<WebhookRow> {
  return ex.insertInto('webhooks').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findWebhook(ex: Executor, id: number, opts: { forUpdate?: boolean } = {}): Promise<WebhookRow | undefined> {
  let q = ex.selectFrom('webhooks').selectAll().where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function findWebhooks(ex: Executor, ids: readonly number[]): Promise<WebhookRow[]> {
  if (ids.length === 0) return [];
  return ex.selectFrom('webhooks').selectAll().where('id', 'in', ids).execute();
}

export async function listWebhooks(ex: Executor): Promise<WebhookRow[]> {
  return ex.selectFrom('webhooks').selectAll().orderBy('id').execute();
}

/** The active subscriptions (what the audit hook matches events against). */
export async function activeSubscriptions(ex: Executor): Promise<Array<{ id: number; events: string }>> {
  return ex.selectFrom('webhooks').select(['id', 'events']).where('active', '=', 1).orderBy('id').execute();
}

export async function updateWebhook(ex: Executor, id: number, set: Updateable<WebhooksTable>): Promise<WebhookRow | undefined> {
  return ex.updateTable('webhooks').set(set).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteWebhook(ex: Executor, id: number): Promise<void> {
  await ex.deleteFrom('webhooks').where('id', '=', id).execute();
}

/** A success clears the failure streak (one statement, only when there is one). */
export async function clearFailing(ex: Executor, id: number): Promise<void> {
  await ex.updateTable('webhooks').set({ failing_since: null }).where('id', '=', id).where('failing_since', 'is not', null).execute();
}

/** A failure starts the streak when there is none. */
export async function startFailing(ex: Executor, id: number, now: string): Promise<void> {
  await ex.updateTable('webhooks').set({ failing_since: now }).where('id', '=', id).where('failing_since', 'is', null).execute();
}

/** Disables a webhook still failing since before `cutoff`; true when this call disabled it. */
export async function disableIfFailingSince(ex: Executor, id: number, cutoff: string, reason: string, now: string): Promise<boolean> {
  const r = await ex.updateTable('webhooks').set({ active: 0, disabled_reason: reason, updated_at: now })
    .where('id', '=', id).where('active', '=', 1).where('failing_since', '<=', cutoff).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * The webhook statements bound to a store (its database and engine). Row locks are decided here: FOR
 * UPDATE on PostgreSQL, nothing on SQLite (its writers are serialised by the database itself).
 */
export function createWebhookStore(store: Store) {
  const { db, engine } = store;
  return {
    transaction: <T>(work: (trx: Executor) => Promise<T>): Promise<T> => db.transaction().execute(work),
    /** A webhook, locked (PostgreSQL) for a change in `trx`. */
    lock: (trx: Executor, id: number): Promise<WebhookRow | undefined> => findWebhook(trx, id, { forUpdate: engine === 'postgres' }),
    find: (id: number): Promise<WebhookRow | undefined> => findWebhook(db, id),
    findMany: (ids: readonly number[]): Promise<WebhookRow[]> => findWebhooks(db, ids),
    list: (): Promise<WebhookRow[]> => listWebhooks(db),
    clearFailing: (id: number): Promise<void> => clearFailing(db, id),
    startFailing: (id: number, now: string): Promise<void> => startFailing(db, id, now),
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
