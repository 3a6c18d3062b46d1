// SQL and row mapping for the audit log. No rules here.
import type { Insertable } from 'kysely';
import type { Store } from '../../store/db.js';
import type { AuditEventsTable } from '../../store/schema.js';
import { parseJson, toIso, type Executor } from '../../store/sql.js';

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

/** Writes one audit_events row in the caller's executor (its transaction). */
export async function insertAuditRow(ex: Executor, row: Insertable<AuditEventsTable>): Promise<void> {
  await ex.insertInto('audit_events').values(row).execute();
}

/** Up to `limit` + 1 events matching the query, newest first (one more than asked: the caller pages). */
async function listAuditRows(ex: Executor, q: AuditQuery): Promise<AuditEvent[]> {
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
  return rows.map((r) => ({
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
  }));
}

/** The audit store bound to the database. */
export function createAuditStore(store: Store) {
  const { db } = store;
  return {
    list: (q: AuditQuery) => listAuditRows(db, q),
  };
}

export type AuditStore = ReturnType<typeof createAuditStore>;
