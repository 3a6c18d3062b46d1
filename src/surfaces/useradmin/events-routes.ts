// GET /api/admin/events: the one audit log (every surface writes to it), shown with Unleash's event names
// (user-created, user-updated with preData/data, user-deleted, user-password-changed, ...), newest first.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Core, type AuditEvent, invalid } from '../../core/index.js';
import { EventsQuery, EventsResponse } from './schemas.js';
import { actionsOfType, eventItem, eventType } from './serialize.js';

// Unleash's event search writes filters as "IS:value" or "IS_ANY_OF:a,b"; plain values work too.
function operand(value: string): string {
  return value.replace(/^(IS_ANY_OF|IS):/, '').trim();
}

function userIdFilter(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const v = operand(value);
  if (!/^[1-9]\d{0,9}$/.test(v)) throw invalid(field, 'invalid_id', `${field} must be a user id (a positive integer)`);
  return v;
}

function dateFilter(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const v = operand(value);
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw invalid(field, 'invalid_date', `${field} must be an ISO-8601 date or date-time`);
  return new Date(t).toISOString();
}

const MAX_ROUNDS = 10;

export async function eventRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;

  app.get('/api/admin/events', {
    schema: {
      tags: ['user-admin: events'],
      summary: 'The audit log with Unleash event names; filters: type, targetUser, createdBy, from, to; cursor = nextCursor',
      querystring: EventsQuery,
      response: { 200: EventsResponse },
    },
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 100;
    let types: string[] | undefined;
    if (q.type !== undefined) {
      const listed = operand(q.type).split(',').map((s) => s.trim()).filter(Boolean);
      types = [...new Set(listed)];
      if (listed.length === 0 || listed.length > 20 || types.some((t) => !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(t))) {
        throw invalid('type', 'invalid_type', 'type must be an event type such as user-updated, or a comma-separated list of up to 20');
      }
    }
    const targetId = userIdFilter(q.targetUser, 'targetUser');
    const actorId = userIdFilter(q.createdBy, 'createdBy');
    const from = dateFilter(q.from, 'from');
    const to = dateFilter(q.to, 'to');
    const wanted = types ? new Set(types) : undefined;
    const actions = types ? [...new Set(types.flatMap(actionsOfType))] : undefined;
    // An Unleash type is not always one audit action (a password-only update is user-password-changed), so
    // rows are checked after the query and the scan continues until the page is full.
    const batch = wanted ? Math.min(500, limit * 2 + 10) : limit;

    const out: AuditEvent[] = [];
    let before = q.cursor;
    let nextCursor: number | null = null;
    let done = false;
    for (let round = 0; round < MAX_ROUNDS && !done; round++) {
      const page = await core.audit.list({
        actions,
        targetType: targetId ? 'user' : undefined,
        targetId,
        actorType: actorId ? 'user' : undefined,
        actorId,
        from,
        to,
        before,
        limit: batch,
      });
      for (let i = 0; i < page.items.length; i++) {
        const item = page.items[i];
        before = item.id;
        if (wanted && !wanted.has(eventType(item))) continue;
        out.push(item);
        if (out.length === limit) {
          const more = i < page.items.length - 1 || page.nextCursor !== null;
          nextCursor = more ? item.id : null;
          done = true;
          break;
        }
      }
      if (!done && page.nextCursor === null) {
        nextCursor = null;
        done = true;
      }
    }
    // Scanned as far as one request may: the client continues from the last row looked at.
    if (!done) nextCursor = before ?? null;
    return { version: 1, events: out.map(eventItem), nextCursor };
  });
}
