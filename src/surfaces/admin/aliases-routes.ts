// /api/admin/aliases: forwarding addresses (address → goto), the resource bans act on.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, invalid, aliasEtag, type Alias, MAX_ID } from '../../core/index.js';
import { requestContext } from '../context.js';
import { decodeIdCursor, encodeIdCursor } from './serialize.js';
import { Envelope, IdParams, IfMatchHeaders, NullableInt, NullableString } from './schemas.js';

// Like users' is_active on this surface (and the mail stack's alias table), active reads as 1/0.
const ActiveFlag = Type.Union([Type.Boolean(), Type.Literal(0), Type.Literal(1)], { description: 'true/false (1/0 accepted)' });
const toFlag = (v: boolean | 0 | 1 | undefined) => (v === undefined ? undefined : v === true || v === 1);

export const AliasItem = Type.Object({
  id: Type.Integer(),
  address: Type.String(),
  goto: Type.String(),
  active: Type.Integer({ description: '1 when active, 0 when deactivated' }),
  user_id: NullableInt(),
  created: Type.String({ format: 'date-time' }),
  modified: Type.String({ format: 'date-time' }),
});

const CreateAliasBody = Type.Object(
  {
    address: Type.String({ minLength: 1, maxLength: 320, description: 'Format: email. The forwarding address' }),
    goto: Type.String({ minLength: 1, maxLength: 320, description: 'Format: email. The destination mailbox' }),
    active: Type.Optional(ActiveFlag),
    user_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: MAX_ID }), Type.Null()])),
  },
  { additionalProperties: false },
);

const PatchAliasBody = Type.Object(
  {
    address: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    goto: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    active: Type.Optional(ActiveFlag),
    user_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: MAX_ID }), Type.Null()])),
  },
  { additionalProperties: false },
);

const ListAliasesQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 320, description: 'Prefix of the address (case-insensitive)' })),
  goto: Type.Optional(Type.String({ maxLength: 320, description: 'Text the destination mailbox contains (case-insensitive), as the product filters' })),
  address: Type.Optional(Type.String({ maxLength: 320, description: 'Text the address contains (case-insensitive)' })),
  domain: Type.Optional(Type.String({ maxLength: 253, description: "Text the address's domain contains (case-insensitive)" })),
  handle: Type.Optional(Type.String({ maxLength: 64, description: "Text the address's local part contains (case-insensitive)" })),
  active: Type.Optional(Type.Boolean()),
  user_id: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ID })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 64 })),
});

export function aliasItem(a: Alias) {
  return { id: a.id, address: a.address, goto: a.goto, active: a.active ? 1 : 0, user_id: a.userId, created: a.created, modified: a.modified };
}

/** The id of a next_cursor of this list; 400 for anything else. */
function decodeCursor(cursor: string): number {
  const id = decodeIdCursor('a', cursor);
  if (id === undefined) throw invalid('cursor', 'invalid_cursor', 'cursor must be a next_cursor value from a previous page');
  return id;
}

export async function aliasesRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['admin: aliases'];

  app.get('/api/admin/aliases', {
    schema: {
      tags, summary: 'List aliases (cursor pagination, address prefix search)', querystring: ListAliasesQuery,
      response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(AliasItem), next_cursor: NullableString(), limit: Type.Integer() }) },
    },
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 50;
    const page = await core.aliases.list({
      q: q.q || undefined, gotoContains: q.goto || undefined, active: q.active, userId: q.user_id,
      addressContains: q.address || undefined, domainContains: q.domain || undefined, handleContains: q.handle || undefined,
      afterId: q.cursor ? decodeCursor(q.cursor) : undefined, limit,
    });
    return { ok: true, items: page.items.map(aliasItem), next_cursor: page.nextCursor ? encodeIdCursor('a', page.nextCursor) : null, limit };
  });

  app.post('/api/admin/aliases', {
    schema: { tags, summary: 'Create an alias (refused when an active ban matches it)', body: CreateAliasBody, response: { 201: Envelope(AliasItem) } },
  }, async (req, reply) => {
    const b = req.body;
    const alias = await core.aliases.create(req.principal!, requestContext(req, 'admin'), {
      address: b.address, goto: b.goto, active: toFlag(b.active), userId: b.user_id,
    });
    reply.code(201).header('etag', aliasEtag(alias)).header('location', `/api/admin/aliases/${alias.id}`);
    return { ok: true, created: true, updated: false, deleted: false, item: aliasItem(alias) };
  });

  app.get('/api/admin/aliases/:id', {
    schema: { tags, summary: 'Get an alias', params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), item: AliasItem }) } },
  }, async (req, reply) => {
    const alias = await core.aliases.getAlias(req.params.id);
    reply.header('etag', aliasEtag(alias));
    return { ok: true, item: aliasItem(alias) };
  });

  app.patch('/api/admin/aliases/:id', {
    schema: {
      tags, summary: 'Update an alias: only the fields sent change', params: IdParams, headers: IfMatchHeaders, body: PatchAliasBody,
      response: { 200: Envelope(AliasItem) },
    },
  }, async (req, reply) => {
    const b = req.body ?? {};
    const { alias } = await core.aliases.update(req.principal!, requestContext(req, 'admin'), req.params.id, {
      address: b.address, goto: b.goto, active: toFlag(b.active), userId: b.user_id,
    }, { ifMatch: req.headers['if-match'] });
    reply.header('etag', aliasEtag(alias));
    return { ok: true, created: false, updated: true, deleted: false, item: aliasItem(alias) };
  });

  app.delete('/api/admin/aliases/:id', {
    schema: {
      tags, summary: 'Delete an alias: as the product does, it is deactivated and its address stays taken (deleted is false when it already was inactive)',
      params: IdParams, headers: IfMatchHeaders, response: { 200: Envelope(AliasItem) },
    },
  }, async (req, reply) => {
    const { alias, deleted } = await core.aliases.delete(req.principal!, requestContext(req, 'admin'), req.params.id, { ifMatch: req.headers['if-match'] });
    reply.header('etag', aliasEtag(alias));
    return { ok: true, created: false, updated: false, deleted, item: aliasItem(alias) };
  });
}
