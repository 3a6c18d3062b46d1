// Webhook subscriptions: an admin subscribes a URL to event types named after the audit actions
// (`user.updated`, `ban.created`, …; `user.*` for a namespace; `*` for all). Every audited change writes
// one outbox message per matching active subscription in the change's own transaction (the audit
// listener below), and the outbox dispatcher POSTs it, signed as Standard Webhooks says.
//
// Subscription cache: each node keeps the list of active subscriptions in memory, read again at most
// SUBSCRIPTION_TTL_MS after the last read and at once after a change made on this node. A subscription
// created, changed or deleted on another node is therefore seen here up to that long later: events of that
// moment may miss a new subscription, and a deleted or disabled one may still get messages queued, which
// the dispatcher drops (it re-reads the webhook before sending).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Executor } from '../../store/sql.js';
import { nowIso, parseJson, toBool, toIso } from '../../store/sql.js';
import { recordAudit, setAuditListener, type AuditListener, type AuditRow } from '../audit/index.js';
import type { Principal, RequestContext } from '../context.js';
import type { CoreDeps } from '../deps.js';
import { invalid, notFound } from '../errors.js';
import {
  deleteWebhookMessages, killWebhookMessages, newMessageId, Sealer, type NewOutboxRow, type Outbox, type OutboxRow, type SendResult, type Sender,
} from '../outbox/index.js';
import { newWebhookSecret, signatureOf } from './sign.js';
import {
  activeSubscriptions, createWebhookStore, deleteWebhook, disableIfFailingSince, insertWebhook, updateWebhook, type WebhookRow, type WebhookStore,
} from './store.js';
import { checkTarget, guardedLookup, isPrivateAddress } from './target.js';

export const SUBSCRIPTION_TTL_MS = 2000;

/** The audit actions events are named after (a subscription may also name others this release does not emit yet). */
export const KNOWN_EVENT_TYPES = [
  'user.created', 'user.imported', 'user.updated', 'user.deleted', 'user.invite_created', 'user.sessions_revoked', 'user.password_reset_requested',
  'user.email_verified', 'session.created', 'session.revoked', 'ban.created', 'ban.updated', 'ban.deleted',
  'alias.created', 'alias.updated', 'alias.deleted', 'alias.disabled_by_ban', 'api_token.created', 'api_token.deleted',
  'tenant.created', 'tenant.updated', 'tenant.deleted', 'tenant.member_added', 'tenant.member_removed',
  'tenant_role.created', 'tenant_role.updated', 'tenant_role.deleted', 'oauth_client.created', 'oauth_client.deleted', 'oauth_client.secret_rotated',
  'oauth.signing_key_rotated', 'webhook.created', 'webhook.updated', 'webhook.deleted', 'webhook.secret_rotated', 'webhook.disabled',
];

const EVENT_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|\*))*)$/;

export interface Webhook {
  id: number;
  url: string;
  events: string[];
  active: boolean;
  description: string | null;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookInput {
  url?: string;
  events?: string[];
  active?: boolean;
  description?: string | null;
}

function toWebhook(r: WebhookRow): Webhook {
  return {
    id: Number(r.id),
    url: r.url,
    events: parseJson<string[]>(r.events, []),
    active: toBool(r.active),
    description: r.description,
    disabledReason: r.disabled_reason,
    failingSince: toIso(r.failing_since),
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
  };
}

/** The audit view of a webhook (never its secret). */
function auditView(w: Webhook) {
  return { id: w.id, url: w.url, events: w.events, active: w.active, description: w.description };
}

interface Subscription {
  id: number;
  matches(type: string): boolean;
}

function matcher(events: string[]): (type: string) => boolean {
  if (events.includes('*')) return () => true;
  const exact = new Set(events.filter((e) => !e.endsWith('.*')));
  const prefixes = events.filter((e) => e.endsWith('.*')).map((e) => e.slice(0, -1));
  return (type) => exact.has(type) || prefixes.some((p) => type.startsWith(p));
}

/** The body of a delivery: Standard Webhooks' {type, timestamp, data}, data = the audit event (secrets already removed). */
function bodyOf(event: AuditRow): string {
  return `{"type":${JSON.stringify(event.action)},"timestamp":${JSON.stringify(event.occurred_at)},"data":{` +
    `"action":${JSON.stringify(event.action)},` +
    `"actor":${JSON.stringify({ type: event.actor_type, id: event.actor_id, label: event.actor_label })},` +
    `"target":${JSON.stringify({ type: event.target_type, id: event.target_id })},` +
    `"before":${event.before_data ?? 'null'},"after":${event.after_data ?? 'null'},` +
    `"request_id":${JSON.stringify(event.request_id)},"surface":${JSON.stringify(event.surface)}}}`;
}

export class WebhooksService implements AuditListener, Sender {
  private subs: Subscription[] | undefined;
  private subsAt = 0;
  private loading: Promise<Subscription[]> | undefined;
  private readonly sealer: Sealer;
  private readonly rows: WebhookStore;
  /** The webhooks of the batch being sent (prepare), read in one query; send falls back to its own read. */
  private batch = new Map<number, WebhookRow>();
  /** Kept-alive connections to receivers (the target check runs on each new connection's lookup). */
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 32 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 32 }),
  };

  constructor(private readonly deps: CoreDeps, private readonly outbox: Outbox) {
    this.sealer = new Sealer(deps.secret, 'webhook-secret-seal');
    this.rows = createWebhookStore(deps.store);
  }

  /** Hooks into the audit log of this store and registers as the outbox's webhook sender. */
  install(): void {
    setAuditListener(this.deps.store.db, this);
    this.outbox.register('webhook', this);
  }

  // --- the audit listener ---

  async rowsFor(ex: Executor, event: AuditRow): Promise<readonly NewOutboxRow[]> {
    const subs = Date.now() - this.subsAt < SUBSCRIPTION_TTL_MS && this.subs ? this.subs : await this.load(ex);
    if (subs.length === 0) return [];
    let body: string | undefined;
    const rows: NewOutboxRow[] = [];
    for (const s of subs) {
      if (!s.matches(event.action)) continue;
      body ??= bodyOf(event);
      rows.push({ id: newMessageId(), kind: 'webhook', webhook_id: s.id, event_type: event.action, payload: body });
    }
    return rows;
  }

  write(ex: Executor, rows: readonly NewOutboxRow[]): Promise<void> {
    return this.outbox.enqueue(ex, rows);
  }

  written(): void {
    this.outbox.nudge();
  }

  /** Reads the active subscriptions through the event's executor (inside its transaction: SQLite has one connection). */
  private load(ex: Executor): Promise<Subscription[]> {
    this.loading ??= activeSubscriptions(ex)
      .then((rows) => {
        this.subs = rows.map((r) => ({ id: Number(r.id), matches: matcher(parseJson<string[]>(r.events, [])) }));
        this.subsAt = Date.now();
        return this.subs;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private invalidate(): void {
    this.subsAt = 0;
  }

  // --- administration ---

  async list(): Promise<Webhook[]> {
    return (await this.rows.list()).map(toWebhook);
  }

  async get(id: number): Promise<Webhook> {
    const row = await this.rows.find(id);
    if (!row) throw notFound('webhook');
    return toWebhook(row);
  }

  private validateEvents(events: string[]): string[] {
    if (events.length === 0) throw invalid('events', 'too_few', 'Subscribe to at least one event type (or "*")', { constraints: { minItems: 1 } });
    for (const e of events) {
      if (!EVENT_PATTERN.test(e)) {
        throw invalid('events', 'invalid_value', `Unknown event type "${e}": use audit action names such as user.updated, a namespace such as user.*, or *`, {
          constraints: { enum: ['*', ...KNOWN_EVENT_TYPES] },
        });
      }
    }
    return [...new Set(events)];
  }

  async create(principal: Principal, ctx: RequestContext, input: Required<Pick<WebhookInput, 'url' | 'events'>> & WebhookInput): Promise<{ webhook: Webhook; secret: string }> {
    const url = (await checkTarget(input.url, this.deps.config.delivery.webhookAllowPrivate)).toString();
    const events = this.validateEvents(input.events);
    const secret = newWebhookSecret();
    const now = nowIso();
    const webhook = await this.rows.transaction(async (trx) => {
      const w = toWebhook(await insertWebhook(trx, {
        url, events: JSON.stringify(events), active: input.active === false ? 0 : 1, description: input.description ?? null,
        secret_sealed: this.sealer.seal(secret), failing_since: null, disabled_reason: null, created_at: now, updated_at: now,
      }));
      await recordAudit(trx, principal, ctx, { action: 'webhook.created', targetType: 'webhook', targetId: w.id, after: auditView(w) });
      return w;
    });
    this.invalidate();
    return { webhook, secret };
  }

  async update(principal: Principal, ctx: RequestContext, id: number, patch: WebhookInput): Promise<Webhook> {
    if (Object.values(patch).every((v) => v === undefined)) {
      throw invalid('body', 'empty_patch', 'Nothing to update: send at least one of url, events, active, description');
    }
    const url = patch.url !== undefined ? (await checkTarget(patch.url, this.deps.config.delivery.webhookAllowPrivate)).toString() : undefined;
    const events = patch.events !== undefined ? this.validateEvents(patch.events) : undefined;
    const webhook = await this.rows.transaction(async (trx) => {
      const row = await this.rows.lock(trx, id);
      if (!row) throw notFound('webhook');
      const before = toWebhook(row);
      const reactivated = patch.active === true && !before.active;
      const updated = await updateWebhook(trx, id, {
        ...(url !== undefined ? { url } : {}),
        ...(events !== undefined ? { events: JSON.stringify(events) } : {}),
        ...(patch.active !== undefined ? { active: patch.active ? 1 : 0 } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        // Turned on again by an admin: the failure streak and the reason it was disabled are history.
        ...(reactivated ? { disabled_reason: null, failing_since: null } : {}),
        ...(patch.active === false && before.active ? { disabled_reason: 'disabled by an administrator' } : {}),
        updated_at: nowIso(),
      });
      const after = toWebhook(updated!);
      await recordAudit(trx, principal, ctx, { action: 'webhook.updated', targetType: 'webhook', targetId: id, before: auditView(before), after: auditView(after) });
      return after;
    });
    this.invalidate();
    return webhook;
  }

  async delete(principal: Principal, ctx: RequestContext, id: number): Promise<Webhook> {
    const webhook = await this.rows.transaction(async (trx) => {
      const row = await this.rows.lock(trx, id);
      if (!row) throw notFound('webhook');
      await deleteWebhook(trx, id);
      await deleteWebhookMessages(trx, id);
      const w = toWebhook(row);
      await recordAudit(trx, principal, ctx, { action: 'webhook.deleted', targetType: 'webhook', targetId: id, before: auditView(w) });
      return w;
    });
    this.invalidate();
    return webhook;
  }

  /** A new signing secret (returned once); deliveries sent from now on are signed with it. */
  async rotateSecret(principal: Principal, ctx: RequestContext, id: number): Promise<{ webhook: Webhook; secret: string }> {
    const secret = newWebhookSecret();
    const webhook = await this.rows.transaction(async (trx) => {
      const row = await updateWebhook(trx, id, { secret_sealed: this.sealer.seal(secret), updated_at: nowIso() });
      if (!row) throw notFound('webhook');
      const w = toWebhook(row);
      await recordAudit(trx, principal, ctx, { action: 'webhook.secret_rotated', targetType: 'webhook', targetId: id, after: { id } });
      return w;
    });
    return { webhook, secret };
  }

  deliveries(id: number, q: { before?: number; limit: number; status?: 'pending' | 'delivered' | 'dead' }) {
    return this.outbox.list({ webhookId: id, kind: 'webhook', before: q.before, limit: q.limit, status: q.status });
  }

  async replay(webhookId: number, messageId: string): Promise<OutboxRow> {
    await this.get(webhookId);
    return this.outbox.replay(messageId, (m) => m.kind === 'webhook' && Number(m.webhook_id) === webhookId);
  }

  // --- the sender ---

  async prepare(messages: readonly OutboxRow[]): Promise<void> {
    const ids = [...new Set(messages.map((m) => Number(m.webhook_id)).filter((id) => id > 0))];
    this.batch = new Map((await this.rows.findMany(ids)).map((w) => [Number(w.id), w]));
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  async send(message: OutboxRow): Promise<SendResult> {
    const id = message.webhook_id === null ? null : Number(message.webhook_id);
    const hook = id === null ? undefined : this.batch.get(id) ?? (await this.rows.find(id));
    if (!hook) return { ok: false, status: null, error: 'the webhook was deleted', permanent: true };
    if (!toBool(hook.active)) return { ok: false, status: null, error: `the webhook is disabled${hook.disabled_reason ? `: ${hook.disabled_reason}` : ''}`, permanent: true };
    const secret = this.sealer.unseal(hook.secret_sealed);
    if (secret === null) return { ok: false, status: null, error: 'the webhook secret cannot be unsealed (server secret changed?)', permanent: true };
    const timestamp = Math.floor(Date.now() / 1000);
    const body = message.payload;
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Gatehouse-Webhooks/1',
      'webhook-id': message.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureOf(secret, message.id, timestamp, body),
    };
    const cfg = this.deps.config.delivery;
    try {
      const status = await post(hook.url, headers, body, cfg.webhookTimeoutMs, cfg.webhookAllowPrivate, this.agents);
      if (status >= 200 && status < 300) return { ok: true, status };
      return { ok: false, status, error: `the receiver answered HTTP ${status}` };
    } catch (err) {
      return { ok: false, status: null, error: (err as Error).message || 'request failed' };
    }
  }

  /** Keeps each webhook's failure streak; a webhook failing for longer than the limit is disabled with the reason. */
  async after(message: OutboxRow, result: SendResult): Promise<void> {
    if (message.webhook_id === null) return;
    const id = Number(message.webhook_id);
    if (result.ok) {
      // The usual case (no failure streak, known from the batch's read) costs no statement.
      const known = this.batch.get(id);
      return known && known.failing_since === null ? undefined : this.rows.clearFailing(id);
    }
    if (result.ok === false && result.permanent) return;
    const now = nowIso();
    await this.rows.startFailing(id, now);
    const limit = this.deps.config.delivery.webhookDisableAfterSeconds;
    const cutoff = new Date(Date.now() - limit * 1000).toISOString();
    const reason = `disabled at ${now}: every delivery failed for more than ${limit} s (last: ${result.error.slice(0, 200)})`;
    const disabled = await this.rows.transaction(async (trx) => {
      const done = await disableIfFailingSince(trx, id, cutoff, reason, now);
      if (done) {
        await killWebhookMessages(trx, id, 'the webhook was disabled after failing deliveries; replay once it is fixed and active');
        await recordAudit(trx, { kind: 'system', label: 'system' }, { ip: '127.0.0.1', userAgent: null, requestId: 'outbox', surface: 'system' }, {
          action: 'webhook.disabled', targetType: 'webhook', targetId: id, after: { id, reason },
        });
      }
      return done;
    });
    if (disabled) this.invalidate();
  }
}

/** POSTs a body and resolves with the status; no redirects followed; the response body is read and dropped. */
function post(
  target: string, headers: Record<string, string>, body: string, timeoutMs: number, allowPrivate: boolean,
  agents: { http: http.Agent; https: https.Agent },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(target);
    // A literal address is connected to without a lookup: checked here instead.
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (!allowPrivate && net.isIP(host) && isPrivateAddress(host)) {
      reject(new Error(`refused: ${host} is not a public address`));
      return;
    }
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup(allowPrivate) as never,
      agent: url.protocol === 'https:' ? agents.https : agents.http,
    }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

