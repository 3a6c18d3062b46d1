// The one audit log every surface writes to: the rules (secrets removed, listeners told). An event is
// written by the same transaction as its change. SQL: store.ts.
import type { Kysely } from 'kysely';
import type { Store } from '../../store/db.js';
import type { Database } from '../../store/schema.js';
import { nowIso, type Executor } from '../../store/sql.js';
import type { NewOutboxRow } from '../outbox/store.js';
import { createAuditStore, insertAuditRow, type AuditEvent, type AuditQuery, type AuditStore } from './store.js';
import { actorOf, type Principal, type RequestContext } from '../context.js';

export interface AuditEventInput {
  action: string;
  targetType: string;
  targetId: string | number | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

const SECRET_KEY = /pass(word)?|secret|token|hash|credential/i;

/** Removes every secret-looking key, at any depth, before anything reaches the log. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEY.test(k)) continue;
      out[k] = redactSecrets(v);
    }
    return out as T;
  }
  return value;
}

export async function recordAudit(ex: Executor, principal: Principal, ctx: RequestContext, input: AuditEventInput): Promise<void> {
  const row = auditRow(principal, ctx, input);
  await insertAuditRow(ex, row);
  const listener = auditListenerOf(ex);
  if (listener) {
    const rows = await listener.rowsFor(ex, row);
    if (rows.length > 0) await listener.write(ex, rows);
  }
}

export type AuditRow = ReturnType<typeof auditRow>;

/**
 * What else an audit event causes, in the event's own transaction: the webhook deliveries of the
 * subscriptions it matches (src/core/webhooks). rowsFor must be cheap when nothing subscribes (it answers
 * from an in-process cache); write stores the rows and tells the dispatcher.
 */
export interface AuditListener {
  rowsFor(ex: Executor, event: AuditRow): Promise<readonly NewOutboxRow[]>;
  write(ex: Executor, rows: readonly NewOutboxRow[]): Promise<void>;
  /** Rows were written by a statement of the caller's own (the single-statement profile update). */
  written(): void;
}

// One listener per database handle. A transaction shares its Kysely instance's adapter object (public
// `getExecutor().adapter`), which is what identifies the store an executor belongs to.
const listeners = new WeakMap<object, AuditListener>();

export function setAuditListener(db: Kysely<Database>, listener: AuditListener | undefined): void {
  if (listener) listeners.set(db.getExecutor().adapter, listener);
  else listeners.delete(db.getExecutor().adapter);
}

export function auditListenerOf(ex: Executor): AuditListener | undefined {
  return listeners.get(ex.getExecutor().adapter);
}

/** The audit_events row of an event (secrets removed): recordAudit writes it; a store may write it inside a larger statement. */
export function auditRow(principal: Principal, ctx: RequestContext, input: AuditEventInput) {
  const actor = actorOf(principal);
  return {
      occurred_at: nowIso(),
      actor_type: actor.type,
      actor_id: actor.id,
      actor_label: actor.label,
      action: input.action,
      target_type: input.targetType,
      target_id: input.targetId === null ? null : String(input.targetId),
      before_data: input.before ? JSON.stringify(redactSecrets(input.before)) : null,
      after_data: input.after ? JSON.stringify(redactSecrets(input.after)) : null,
      ip: ctx.ip,
      user_agent: ctx.userAgent,
      request_id: ctx.requestId,
      surface: ctx.surface,
  };
}

/** Reads of the audit log (the writes are recordAudit's, in each change's transaction). */
export class AuditService {
  private readonly audit: AuditStore;

  constructor(store: Store) {
    this.audit = createAuditStore(store);
  }

  /** Events matching the query, newest first, `limit` a page. */
  async list(q: AuditQuery): Promise<{ items: AuditEvent[]; nextCursor: number | null }> {
    const rows = await this.audit.list(q);
    const items = rows.slice(0, q.limit);
    return { items, nextCursor: rows.length > q.limit ? items[items.length - 1].id : null };
  }
}
