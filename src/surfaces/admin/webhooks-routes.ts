// /api/admin/webhooks (subscriptions, their delivery log, replay) and /api/admin/outbox (every queued mail
// and webhook message: the dead letters, and replay). Admin only. See docs/delivery.md.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, mailSummary, type OutboxRow, type Webhook, toIso } from '../../core/index.js';
import { requestContext } from '../context.js';
import { Envelope, IdParams, NullableString } from './schemas.js';

const WebhookItem = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  description: NullableString(),
  disabled_reason: NullableString({ description: 'Why the webhook is inactive (failing deliveries, an administrator)' }),
  failing_since: NullableString({ format: 'date-time', description: 'Since when every delivery failed; null after a success' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const EventList = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  minItems: 1, maxItems: 100, description: 'Audit action names (user.created, user.updated, ban.created, …), a namespace (user.*), or * for all',
});

const CreateWebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http:// or https:// URL of the receiver' }),
    events: EventList,
    active: Type.Optional(Type.Boolean({ description: 'Deliveries are sent only while active (default true on create)' })),
    description: Type.Optional(NullableString({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const PatchWebhookBody = Type.Partial(CreateWebhookBody, { additionalProperties: false });

const MessageItem = Type.Object({
  id: Type.String({ description: 'The stable message id (webhook-id header; mail Message-ID): receivers drop duplicates by it' }),
  kind: Type.String(),
  webhook_id: Type.Union([Type.Integer(), Type.Null()]),
  event_type: NullableString(),
  status: Type.String({ description: 'pending, delivered or dead' }),
  attempts: Type.Integer(),
  next_attempt_at: Type.String({ format: 'date-time' }),
  last_attempt_at: NullableString({ format: 'date-time' }),
  delivered_at: NullableString({ format: 'date-time' }),
  last_error: NullableString(),
  last_status: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status (webhook) or SMTP reply code (mail) of the last attempt' }),
  created_at: Type.String({ format: 'date-time' }),
  payload: Type.Optional(Type.Unknown({ description: 'A webhook delivery: the body sent' })),
  mail: Type.Optional(Type.Object({ to: NullableString(), template: NullableString() }, { description: 'A mail: recipient and template (never the content)' })),
});

const Status = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]);
const PageQuery = Type.Object({
  status: Type.Optional(Status),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.Integer({ minimum: 1 })),
});
const OutboxQuery = Type.Object({
  status: Type.Optional(Status),
  kind: Type.Optional(Type.Union([Type.Literal('mail'), Type.Literal('webhook')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.Integer({ minimum: 1 })),
});
const MessageParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const DeliveryParams = Type.Object({ id: IdParams.properties.id, deliveryId: Type.String({ minLength: 1, maxLength: 64 }) });
const Page = Type.Object({ ok: Type.Boolean(), items: Type.Array(MessageItem), next_cursor: Type.Union([Type.Integer(), Type.Null()]) });

function webhookItem(w: Webhook) {
  return {
    id: w.id, url: w.url, events: w.events, active: w.active, description: w.description,
    disabled_reason: w.disabledReason, failing_since: w.failingSince, created_at: w.createdAt, updated_at: w.updatedAt,
  };
}

function messageItem(m: OutboxRow) {
  let payload: unknown;
  if (m.kind === 'webhook') {
    try {
      payload = JSON.parse(m.payload);
    } catch {
      payload = null;
    }
  }
  return {
    id: m.id,
    kind: m.kind,
    webhook_id: m.webhook_id === null ? null : Number(m.webhook_id),
    event_type: m.event_type,
    status: m.status,
    attempts: Number(m.attempts),
    next_attempt_at: toIso(m.next_attempt_at)!,
    last_attempt_at: toIso(m.last_attempt_at),
    delivered_at: toIso(m.delivered_at),
    last_error: m.last_error,
    last_status: m.last_status === null ? null : Number(m.last_status),
    created_at: toIso(m.created_at)!,
    ...(m.kind === 'webhook' ? { payload } : { mail: mailSummary(m.payload) }),
  };
}

export async function webhooksRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['admin: webhooks'];

  app.get('/api/admin/webhooks', {
    config: { auth: 'admin' },
    schema: { tags, summary: 'List webhook subscriptions (never their secrets)', response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(WebhookItem) }) } },
  }, async () => ({ ok: true, items: (await core.webhooks.list()).map(webhookItem) }));

  app.post('/api/admin/webhooks', {
    config: { auth: 'admin' },
    schema: {
      tags, summary: 'Subscribe a URL to events (the signing secret is returned once)', body: CreateWebhookBody,
      response: { 201: Envelope(WebhookItem, { secret: Type.String({ description: 'whsec_…: verify each delivery\'s webhook-signature with it (Standard Webhooks)' }) }) },
    },
  }, async (req, reply) => {
    const { webhook, secret } = await core.webhooks.create(req.principal!, requestContext(req, 'admin'), req.body);
    reply.code(201).header('cache-control', 'no-store');
    return { ok: true, created: true, updated: false, deleted: false, secret, item: webhookItem(webhook) };
  });

  app.get('/api/admin/webhooks/:id', {
    config: { auth: 'admin' },
    schema: { tags, summary: 'One webhook subscription', params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), item: WebhookItem }) } },
  }, async (req) => ({ ok: true, item: webhookItem(await core.webhooks.get(req.params.id)) }));

  app.patch('/api/admin/webhooks/:id', {
    config: { auth: 'admin' },
    schema: {
      tags, summary: 'Change a webhook (active: true turns a disabled one on again and clears its reason)', params: IdParams, body: PatchWebhookBody,
      response: { 200: Envelope(WebhookItem) },
    },
  }, async (req) => {
    const webhook = await core.webhooks.update(req.principal!, requestContext(req, 'admin'), req.params.id, req.body);
    return { ok: true, created: false, updated: true, deleted: false, item: webhookItem(webhook) };
  });

  app.delete('/api/admin/webhooks/:id', {
    config: { auth: 'admin' },
    schema: { tags, summary: 'Delete a webhook and its delivery log', params: IdParams, response: { 200: Envelope(WebhookItem) } },
  }, async (req) => {
    const webhook = await core.webhooks.delete(req.principal!, requestContext(req, 'admin'), req.params.id);
    return { ok: true, created: false, updated: false, deleted: true, item: webhookItem(webhook) };
  });

  app.post('/api/admin/webhooks/:id/rotate-secret', {
    config: { auth: 'admin' },
    schema: {
      tags, summary: 'Replace the signing secret (returned once); later deliveries are signed with the new one', params: IdParams,
      response: { 200: Envelope(WebhookItem, { secret: Type.String() }) },
    },
  }, async (req, reply) => {
    const { webhook, secret } = await core.webhooks.rotateSecret(req.principal!, requestContext(req, 'admin'), req.params.id);
    reply.header('cache-control', 'no-store');
    return { ok: true, created: false, updated: true, deleted: false, secret, item: webhookItem(webhook) };
  });

  app.get('/api/admin/webhooks/:id/deliveries', {
    config: { auth: 'admin' },
    schema: { tags, summary: 'The webhook\'s deliveries, newest first (cursor = next_cursor)', params: IdParams, querystring: PageQuery, response: { 200: Page } },
  }, async (req) => {
    await core.webhooks.get(req.params.id);
    const page = await core.webhooks.deliveries(req.params.id, { status: req.query.status, before: req.query.cursor, limit: req.query.limit ?? 100 });
    return { ok: true, items: page.items.map(messageItem), next_cursor: page.nextCursor };
  });

  app.post('/api/admin/webhooks/:id/deliveries/:deliveryId/replay', {
    config: { auth: 'admin' },
    schema: { tags, summary: 'Send a delivery again (same id), with a fresh attempt budget', params: DeliveryParams, response: { 200: Type.Object({ ok: Type.Boolean(), item: MessageItem }) } },
  }, async (req) => ({ ok: true, item: messageItem(await core.webhooks.replay(req.params.id, req.params.deliveryId)) }));

  app.get('/api/admin/outbox', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin: outbox'], summary: 'Queued, delivered and dead mail and webhook messages, newest first (status=dead: the dead letters)',
      querystring: OutboxQuery, response: { 200: Page },
    },
  }, async (req) => {
    const page = await core.outbox.list({ status: req.query.status, kind: req.query.kind, before: req.query.cursor, limit: req.query.limit ?? 100 });
    return { ok: true, items: page.items.map(messageItem), next_cursor: page.nextCursor };
  });

  app.post('/api/admin/outbox/:id/replay', {
    config: { auth: 'admin' },
    schema: { tags: ['admin: outbox'], summary: 'Send a message again (same id), with a fresh attempt budget', params: MessageParams, response: { 200: Type.Object({ ok: Type.Boolean(), item: MessageItem }) } },
  }, async (req) => ({ ok: true, item: messageItem(await core.outbox.replay(req.params.id)) }));
}
