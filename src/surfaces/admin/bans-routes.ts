// /api/admin/bans: seed 001 (PATCH) and its neighbours, plus each ban's history from the audit log.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, invalid, BAN_TYPES, banEtag, isBanActive, type Ban, type BanPatch, type BanWriteResult, foldKey } from '../../core/index.js';
import { requestContext } from '../context.js';
import { decodeIdCursor, encodeIdCursor } from './serialize.js';
import { Envelope, IdParams, IfMatchHeaders, NullableString } from './schemas.js';

const BanType = Type.Union(BAN_TYPES.map((t) => Type.Literal(t)), { description: 'email, domain, ip or name (any case: trimmed and lower-cased first)' });
const Text255 = NullableString({ maxLength: 255, description: 'At most 255 characters; null or "" clears' });
const ExpiresAt = NullableString({ maxLength: 64, description: 'Format: date-time (RFC 3339); null or "" clears (never expires)' });

export const BanItem = Type.Object({
  id: Type.Integer(),
  ban_type: Type.String(),
  ban_value: Type.String(),
  reason: NullableString(),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: NullableString({ format: 'date-time' }),
  revoked_at: NullableString({ format: 'date-time' }),
  revoked_reason: NullableString(),
  active: Type.Boolean({ description: 'Not revoked and not expired, computed when read' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});

const BanEffects = {
  disabled_aliases: Type.Optional(Type.Integer({ description: 'Number of aliases deactivated when disable_matching_aliases was true.' })),
  message: Type.Optional(Type.String()),
  sessions_revoked: Type.Optional(Type.Integer({ description: 'Sessions ended when revoke_sessions was true.' })),
};

const CreateBanEffects = {
  disabled_aliases: Type.Integer({ description: 'Number of aliases deactivated (0 unless disable_matching_aliases was true).' }),
  message: Type.String({ description: '"Ban created." or "Ban created. Also, N matching aliases were disabled."' }),
  sessions_revoked: Type.Optional(Type.Integer({ description: 'Sessions ended when revoke_sessions was true.' })),
};

const Flags = {
  disable_matching_aliases: Type.Optional(Type.Boolean({ description: 'Deactivate every active alias the ban matches (not for ip bans)' })),
  revoke_sessions: Type.Optional(Type.Boolean({ description: 'End the sessions of the users the ban matches (ip: sessions opened from a covered address)' })),
};

const CreateBanBody = Type.Object(
  {
    ban_type: BanType,
    ban_value: Type.String({ minLength: 1, maxLength: 320 }),
    reason: Type.Optional(Text255),
    expires_at: Type.Optional(ExpiresAt),
    revoked: Type.Optional(Type.Union([Type.Boolean(), Type.Literal(0), Type.Literal(1)], { description: 'true/false (1/0 accepted, as the product takes them)' })),
    revoked_reason: Type.Optional(Text255),
    ...Flags,
  },
  { additionalProperties: false },
);

// The create fields, every one optional (seed 001: only the fields sent change).
const PatchBanBody = Type.Partial(CreateBanBody, { additionalProperties: false });

const ListBansQuery = Type.Object({
  type: Type.Optional(BanType),
  ban_type: Type.Optional(BanType),
  active: Type.Optional(Type.Boolean({ description: 'true/false (1/0 accepted)' })),
  q: Type.Optional(Type.String({ maxLength: 320, description: 'Prefix of the (normalised) ban value' })),
  ban_value: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Text the ban value contains (case-insensitive), as the product filters' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 64 })),
});

const HistoryQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.Integer({ minimum: 1 })),
});

const HistoryItem = Type.Object({
  id: Type.Integer(),
  occurred_at: Type.String({ format: 'date-time' }),
  action: Type.String(),
  actor: Type.Object({ type: Type.String(), id: NullableString(), label: NullableString() }),
  before: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  after: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  ip: NullableString(),
  user_agent: NullableString(),
  request_id: NullableString(),
  surface: NullableString(),
});

export function banItem(b: Ban) {
  return {
    id: b.id,
    ban_type: b.banType,
    ban_value: b.banValue,
    reason: b.reason,
    created_at: b.createdAt,
    expires_at: b.expiresAt,
    revoked_at: b.revokedAt,
    revoked_reason: b.revokedReason,
    active: isBanActive(b),
    updated_at: b.updatedAt,
    version: b.version,
  };
}

/** "Also, 2 matching aliases were disabled." (the product's wording, after "Ban created." on a create). */
function aliasesSentence(n: number): string {
  return `Also, ${n} matching ${n === 1 ? 'alias was' : 'aliases were'} disabled.`;
}

/**
 * A create always carries disabled_aliases (0 unless disable_matching_aliases was true) and message
 * ("Ban created." or "Ban created. Also, N matching aliases were disabled."), as the product answers.
 */
function createEffects(r: BanWriteResult, disableAsked: boolean) {
  const n = r.disabledAliases ?? 0;
  return {
    disabled_aliases: n,
    message: disableAsked ? `Ban created. ${aliasesSentence(n)}` : 'Ban created.',
    ...(r.sessionsRevoked !== undefined ? { sessions_revoked: r.sessionsRevoked } : {}),
  };
}

/** An update carries disabled_aliases and message only when disable_matching_aliases was sent (the product's update has neither). */
function updateEffects(r: BanWriteResult) {
  return {
    ...(r.disabledAliases !== undefined ? { disabled_aliases: r.disabledAliases, message: `Ban updated. ${aliasesSentence(r.disabledAliases)}` } : {}),
    ...(r.sessionsRevoked !== undefined ? { sessions_revoked: r.sessionsRevoked } : {}),
  };
}

const flag = (v: boolean | 0 | 1 | undefined) => (v === undefined ? undefined : v === true || v === 1);

/** ban_type (body) and type/ban_type (query) are trimmed and lower-cased before validation, as the product does. */
function lowerBanType(container: unknown, keys: string[]): void {
  if (!container || typeof container !== 'object') return;
  const c = container as Record<string, unknown>;
  for (const k of keys) if (typeof c[k] === 'string') c[k] = (c[k] as string).trim().toLowerCase();
}

/** The id of a next_cursor of this list; 400 for anything else. */
function decodeCursor(cursor: string): number {
  const id = decodeIdCursor('b', cursor);
  if (id === undefined) throw invalid('cursor', 'invalid_cursor', 'cursor must be a next_cursor value from a previous page');
  return id;
}

export async function bansRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['admin: bans'];

  app.addHook('preValidation', async (req) => {
    lowerBanType(req.body, ['ban_type']);
    lowerBanType(req.query, ['type', 'ban_type']);
  });

  app.get('/api/admin/bans', {
    schema: {
      tags, summary: 'List bans, newest first (filter by type, active, value prefix; cursor pagination)', querystring: ListBansQuery,
      response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(BanItem), next_cursor: NullableString(), limit: Type.Integer() }) },
    },
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 50;
    const page = await core.bans.list({
      type: q.type ?? q.ban_type,
      active: q.active,
      valuePrefix: q.q ? foldKey(q.q.trim()) || undefined : undefined,
      valueContains: q.ban_value?.trim().toLowerCase() || undefined,
      beforeId: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit,
    });
    return { ok: true, items: page.items.map(banItem), next_cursor: page.nextCursor ? encodeIdCursor('b', page.nextCursor) : null, limit };
  });

  app.post('/api/admin/bans', {
    schema: { tags, summary: 'Create a ban', body: CreateBanBody, response: { 201: Envelope(BanItem, CreateBanEffects) } },
  }, async (req, reply) => {
    const b = req.body;
    const result = await core.bans.create(req.principal!, requestContext(req, 'admin'), {
      banType: b.ban_type, banValue: b.ban_value, reason: b.reason, expiresAt: b.expires_at, revoked: flag(b.revoked),
      revokedReason: b.revoked_reason, disableMatchingAliases: b.disable_matching_aliases, revokeSessions: b.revoke_sessions,
    });
    reply.code(201).header('etag', banEtag(result.ban)).header('location', `/api/admin/bans/${result.ban.id}`);
    return { ok: true, created: true, updated: false, deleted: false, ...createEffects(result, b.disable_matching_aliases === true), item: banItem(result.ban) };
  });

  app.get('/api/admin/bans/:id', {
    schema: { tags, summary: 'Get a ban', params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), item: BanItem }) } },
  }, async (req, reply) => {
    const ban = await core.bans.getBan(req.params.id);
    reply.header('etag', banEtag(ban));
    return { ok: true, item: banItem(ban) };
  });

  app.get('/api/admin/bans/:id/history', {
    schema: {
      tags, summary: "A ban's history from the audit log: who created, changed, revoked and deleted it (newest first)",
      params: IdParams, querystring: HistoryQuery,
      response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(HistoryItem), next_cursor: Type.Union([Type.Integer(), Type.Null()]) }) },
    },
  }, async (req) => {
    const page = await core.bans.history(req.params.id, { before: req.query.cursor, limit: req.query.limit ?? 100 });
    return { ok: true, items: page.items, next_cursor: page.nextCursor };
  });

  app.patch('/api/admin/bans/:id', {
    schema: {
      tags, summary: 'Update a ban (seed 001): only the fields sent change', params: IdParams, headers: IfMatchHeaders, body: PatchBanBody,
      response: { 200: Envelope(BanItem, BanEffects) },
    },
  }, async (req, reply) => {
    const b = req.body ?? {};
    const patch: BanPatch = {
      banType: b.ban_type, banValue: b.ban_value, reason: b.reason, expiresAt: b.expires_at, revoked: flag(b.revoked),
      revokedReason: b.revoked_reason, disableMatchingAliases: b.disable_matching_aliases, revokeSessions: b.revoke_sessions,
    };
    const result = await core.bans.update(req.principal!, requestContext(req, 'admin'), req.params.id, patch, { ifMatch: req.headers['if-match'] });
    reply.header('etag', banEtag(result.ban));
    return { ok: true, created: false, updated: true, deleted: false, ...updateEffects(result), item: banItem(result.ban) };
  });

  app.delete('/api/admin/bans/:id', {
    schema: { tags, summary: 'Delete a ban (its history stays in the audit log)', params: IdParams, headers: IfMatchHeaders, response: { 200: Envelope(BanItem) } },
  }, async (req) => {
    const ban = await core.bans.delete(req.principal!, requestContext(req, 'admin'), req.params.id, { ifMatch: req.headers['if-match'] });
    return { ok: true, created: false, updated: false, deleted: true, item: banItem(ban) };
  });
}
