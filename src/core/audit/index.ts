// The one audit log every surface writes to. An event is written by the same transaction as its change.
import type { Executor } from '../../store/sql.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { NewOutboxRow } from '../outbox/store.js';
import { nowIso, parseJson, toIso } from '../../store/sql.js';
import { actorOf, type Principal, type RequestContext } from '../context.js';

export interface AuditEventInput {
  action: string;
  targetType: string;
  targetId: string | number | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export interface AuditEvent {
  id: number;
  occurred_at: string;
  actor: { type: string; id: string | null; label: string | null };
  action: string;
  target: { type: string; id: string | null };
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  surface: string | null;
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
  await ex.insertInto('audit_events').values(row).execute();
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

export interface AuditQuery {
  actions?: string[];
  targetType?: string;
  targetId?: string;
  actorType?: string;
  actorId?: string;
  from?: string;
  to?: string;
  /** Events older than this id (newest first). */
  before?: number;
  limit: number;
}

export async function listAuditEvents(ex: Executor, q: AuditQuery): Promise<{ items: AuditEvent[]; nextCursor: number | null }> {
  let query = ex.selectFrom('audit_events').selectAll();
  if (q.actions?.length) query = query.where('action', 'in', q.actions);
  if (q.targetType) query = query.where('target_type', '=', q.targetType);
  if (q.targetId) query = query.where('target_id', '=', q.targetId);
  if (q.actorType) query = query.where('actor_type', '=', q.actorType);
  if (q.actorId) query = query.where('actor_id', '=', q.actorId);
  if (q.from) query = query.where('occurred_at', '>=', q.from);
  if (q.to) query = query.where('occurred_at', '<', q.to);
  if (q.before) query = query.where('id', '<', q.before);
  const rows = await query.orderBy('id', 'desc').limit(q.limit + 1).execute();
  const page = rows.slice(0, q.limit);
  return {
    items: page.map((r) => ({
      id: Number(r.id),
      occurred_at: toIso(r.occurred_at)!,
      actor: { type: r.actor_type, id: r.actor_id, label: r.actor_label },
      action: r.action,
      target: { type: r.target_type, id: r.target_id },
      before: parseJson(r.before_data, null),
      after: parseJson(r.after_data, null),
      ip: r.ip,
      user_agent: r.user_agent,
      request_id: r.request_id,
      surface: r.surface,
    })),
    nextCursor: rows.length > q.limit ? Number(page[page.length - 1].id) : null,
  };
}
