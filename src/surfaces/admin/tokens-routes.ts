// /api/admin/api-tokens (admin API tokens, Bearer) and /api/admin/audit-events (the queryable audit log).
import type { FastifyInstance } from 'fastify';
import { sendStreamedList } from '../json-stream.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, invalid } from '../../core/index.js';
import { requestContext } from '../context.js';
import { AuditQuery, CreateTokenBody, Envelope, IdParams, TokenItem } from './schemas.js';
import { tokenItem } from './serialize.js';

const AuditItem = Type.Object({
  id: Type.Integer(),
  occurred_at: Type.String(),
  actor: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]), label: Type.Union([Type.String(), Type.Null()]) }),
  action: Type.String(),
  target: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  before: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  after: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]),
  surface: Type.Union([Type.String(), Type.Null()]),
});

export async function tokenRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['admin: api tokens'];

  app.post('/api/admin/api-tokens', {
    schema: {
      tags, summary: 'Create an admin API token (the secret is returned once)', body: CreateTokenBody,
      response: { 201: Envelope(TokenItem, { token: Type.String() }) },
    },
  }, async (req, reply) => {
    const { token, secret } = await core.tokens.create(req.principal!, requestContext(req, 'admin'), {
      name: req.body.name, kind: 'admin', expiresAt: req.body.expires_at ?? null,
    });
    reply.code(201).header('cache-control', 'no-store');
    return { ok: true, created: true, updated: false, deleted: false, token: secret, item: tokenItem(token) };
  });

  app.get('/api/admin/api-tokens', {
    schema: { tags, summary: 'List admin API tokens (never their secrets)', response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(TokenItem) }) } },
  }, async (_req, reply) => sendStreamedList(reply, {
    // Streamed (docs/limits.md): admin tokens are created by hand but nothing bounds their number.
    envelope: { ok: true, items: [] }, key: 'items', itemSchema: TokenItem,
    batches: core.tokens.listBatches({ kind: 'admin' }, 500), toItem: tokenItem,
  }));

  app.delete('/api/admin/api-tokens/:id', {
    schema: { tags, summary: 'Delete an admin API token', params: IdParams, response: { 200: Envelope(TokenItem) } },
  }, async (req) => {
    const token = await core.tokens.delete(req.principal!, requestContext(req, 'admin'), req.params.id, { kind: 'admin' });
    return { ok: true, created: false, updated: false, deleted: true, item: tokenItem(token) };
  });

  app.get('/api/admin/audit-events', {
    schema: {
      tags: ['admin: audit'], summary: 'Query the audit log (newest first, cursor = next_cursor)', querystring: AuditQuery,
      response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(AuditItem), next_cursor: Type.Union([Type.Integer(), Type.Null()]) }) },
    },
  }, async (req) => {
    const q = req.query;
    const page = await core.audit.list({
      actions: q.action ? q.action.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
      targetType: q.target_type, targetId: q.target_id, actorType: q.actor_type, actorId: q.actor_id,
      from: q.from ? isoDate('from', q.from) : undefined,
      to: q.to ? isoDate('to', q.to) : undefined,
      before: q.cursor, limit: q.limit ?? 100,
    });
    return { ok: true, items: page.items, next_cursor: page.nextCursor };
  });
}

/** A date-time the schema accepted but Date cannot hold (a leap second, year 275760+) is a 400, not a 500. */
function isoDate(field: string, value: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(field, 'invalid_format', `${field} must be an ISO-8601 date-time`, { constraints: { format: 'date-time' } });
  return new Date(t).toISOString();
}
