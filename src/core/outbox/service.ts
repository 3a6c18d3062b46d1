// The transactional outbox: mail and webhook messages are written by the transaction of the change that
// causes them (enqueue takes that transaction), and a dispatcher on every node sends them at least once,
// never inside a database transaction. Each message keeps one id for life (receivers drop duplicates by it);
// a failed attempt is retried with exponential backoff and jitter up to a limit, then the message is dead
// (kept, listed and replayable by an admin). See docs/delivery.md.
import { randomBytes } from 'node:crypto';
import type { DeliveryConfig } from '../../platform/config.js';
import type { Store } from '../../store/db.js';
import type { Executor } from '../../store/sql.js';
import { nowIso } from '../../store/sql.js';
import { conflict, notFound } from '../errors.js';
import { createOutboxStore, insertOutboxRows, type MessageQuery, type NewOutboxRow, type OutboxRow, type OutboxStore } from './store.js';

/** The result of one delivery attempt. */
export type SendResult =
  | { ok: true; status: number | null; /** replaces the stored payload (a mail's secret content is dropped once sent) */ payload?: string }
  | { ok: false; status: number | null; error: string; /** no later attempt can succeed: dead at once */ permanent?: boolean };

/** Sends messages of one kind. Called outside any transaction; must end within the lease (it is given a deadline). */
export interface Sender {
  /** Called once per claimed batch before its messages are sent (webhooks: read their webhooks in one query). */
  prepare?(messages: readonly OutboxRow[]): Promise<void>;
  send(message: OutboxRow): Promise<SendResult>;
  /** Told of each outcome after it is recorded (webhooks: failing_since, disabling). */
  after?(message: OutboxRow, result: SendResult): Promise<void>;
  /** Releases connections (the dispatcher stopped). */
  close?(): void;
}

/** A message id: unique, URL-safe, the same on every attempt and replay. */
export function newMessageId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

/** Delay before attempt `attempts + 1`: base·2^(attempts−1), capped, times a random factor in [0.5, 1) (jitter). */
export function backoffMs(cfg: Pick<DeliveryConfig, 'backoffBaseMs' | 'backoffMaxMs'>, attempts: number, random = Math.random()): number {
  const exp = Math.min(cfg.backoffMaxMs, cfg.backoffBaseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  return Math.max(1, Math.round(exp * (0.5 + random / 2)));
}

/** Delivered messages are kept this long (the delivery log), then deleted; dead ones stay until replayed. */
export const DELIVERED_RETENTION_DAYS = 30;
const PURGE_EVERY_MS = 3_600_000;

/** How long after a local enqueue the dispatcher looks (at most the poll interval). */
const NUDGE_DELAY_MS = 200;
/** Messages claimed (and sent concurrently) at once by one node. */
const BATCH = 32;

export class Outbox {
  readonly node = `node_${randomBytes(6).toString('hex')}`;
  private readonly senders = new Map<string, Sender>();
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private purgeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private again = false;

  /** Where the dispatcher reports dead letters and failed passes (serve points it at the server log). */
  log: (level: 'warn' | 'info', msg: string, data?: Record<string, unknown>) => void = () => {};

  private readonly rows: OutboxStore;

  constructor(store: Store, private readonly cfg: DeliveryConfig) {
    this.rows = createOutboxStore(store);
  }

  register(kind: 'mail' | 'webhook', sender: Sender): void {
    this.senders.set(kind, sender);
  }

  /** Writes messages in the caller's transaction; the dispatcher of this node looks for them soon after. */
  async enqueue(ex: Executor, rows: readonly NewOutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await insertOutboxRows(ex, rows);
    this.nudge();
  }

  /**
   * Asks for a dispatch pass shortly (the enqueuing transaction has committed by then, or the next poll
   * finds it). Not at once: under a stream of changes one pass then sends many messages, with a few
   * statements for all of them, instead of a pass and its statements per message.
   */
  nudge(): void {
    if (!this.started || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(Math.min(this.cfg.pollMs, NUDGE_DELAY_MS));
  }

  /** Starts dispatching on this node. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // Claims this process held before a crash (SQLite: the one writing process); none on PostgreSQL.
    const n = await this.rows.releaseOwnStaleClaims();
    if (n > 0) this.log('info', 'outbox: released claims of a previous run', { messages: n });
    this.schedule(0);
    this.purgeTimer = setInterval(() => {
      this.purgeDelivered(new Date(Date.now() - DELIVERED_RETENTION_DAYS * 86_400_000)).catch((err) =>
        this.log('warn', 'outbox: purge failed', { err: (err as Error).message }));
    }, PURGE_EVERY_MS);
    this.purgeTimer.unref?.();
  }

  /** Deletes the messages delivered before `before` (in slices of 1000); returns how many. */
  async purgeDelivered(before: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.rows.purgeDelivered(before.toISOString(), 1000);
      total += n;
      if (n < 1000 || this.stopped) return total;
    }
  }

  /** Stops dispatching and waits for the attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    for (const sender of this.senders.values()) sender.close?.();
  }

  /** Runs a pass in `ms`, unless one is already due sooner (a stream of nudges must not keep postponing it). */
  private schedule(ms: number): void {
    if (this.stopped) return;
    const due = Date.now() + ms;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.pass().finally(() => {
        this.running = undefined;
        const more = this.again;
        this.again = false;
        this.schedule(more ? Math.min(this.cfg.pollMs, NUDGE_DELAY_MS) : this.cfg.pollMs);
      });
    }, ms);
    this.timer.unref?.();
  }

  /** One pass: claim due messages and send them, until none are due or the node stops. */
  private async pass(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        const now = Date.now();
        const claimed = await this.rows.claimDue(this.node, new Date(now).toISOString(), new Date(now + this.cfg.leaseMs).toISOString(), BATCH);
        if (claimed.length === 0) return;
        await this.dispatch(claimed);
        if (claimed.length < BATCH) return;
      }
    } catch (err) {
      // The store unreachable or closing: try again on the next pass.
      if (!this.stopped) this.log('warn', 'outbox: dispatch pass failed', { err: (err as Error).message });
    }
  }

  /** Sends a claimed batch and records every outcome (the plain successes in one statement). */
  private async dispatch(claimed: OutboxRow[]): Promise<void> {
    for (const [kind, sender] of this.senders) {
      const mine = claimed.filter((m) => m.kind === kind);
      if (mine.length > 0 && sender.prepare) {
        try {
          await sender.prepare(mine);
        } catch {
          // Each send reads what it needs itself then.
        }
      }
    }
    const results = await Promise.all(claimed.map((m) => this.send(m)));
    const recorded = new Set<number>();
    // Successes that keep their payload, grouped by status code: one UPDATE per group.
    const plain = new Map<number | null, number[]>();
    for (const [i, m] of claimed.entries()) {
      const r = results[i];
      if (r.ok && r.payload === undefined) {
        const list = plain.get(r.status) ?? [];
        list.push(Number(m.seq));
        plain.set(r.status, list);
      }
    }
    for (const [status, seqs] of plain) for (const seq of await this.rows.markDelivered(seqs, this.node, status)) recorded.add(seq);
    await Promise.all(claimed.map(async (m, i) => {
      const r = results[i];
      if (r.ok && r.payload === undefined) return;
      if (await this.record(m, r)) recorded.add(Number(m.seq));
    }));
    await Promise.all(claimed.map(async (m, i) => {
      const sender = this.senders.get(m.kind);
      if (!recorded.has(Number(m.seq)) || !sender?.after) return;
      try {
        await sender.after(m, results[i]);
      } catch (err) {
        this.log('warn', 'outbox: after-send bookkeeping failed', { id: m.id, err: (err as Error).message });
      }
    }));
  }

  private async send(message: OutboxRow): Promise<SendResult> {
    const sender = this.senders.get(message.kind);
    if (!sender) return { ok: false, status: null, error: `no sender for ${message.kind} messages on this node` };
    try {
      return await sender.send(message);
    } catch (err) {
      // A message whose sending throws (a poisoned payload) fails alone; the others go on.
      return { ok: false, status: null, error: `send failed: ${(err as Error).message}` };
    }
  }

  /** Records one outcome while this node still holds the claim: delivered, retried later, or dead. */
  private async record(message: OutboxRow, result: SendResult): Promise<boolean> {
    const attempts = Number(message.attempts);
    if (result.ok) {
      return this.rows.finishAttempt(Number(message.seq), this.node, { status: 'delivered', lastError: null, lastStatus: result.status, payload: result.payload });
    }
    const dead = result.permanent === true || attempts >= this.cfg.maxAttempts;
    const done = await this.rows.finishAttempt(Number(message.seq), this.node, {
      status: dead ? 'dead' : 'pending',
      nextAttemptAt: dead ? undefined : new Date(Date.now() + backoffMs(this.cfg, attempts)).toISOString(),
      lastError: result.error.slice(0, 1000),
      lastStatus: result.status,
    });
    if (dead && done) this.log('warn', 'outbox: message dead-lettered', { id: message.id, kind: message.kind, attempts, error: result.error.slice(0, 200) });
    return done;
  }

  list(q: MessageQuery) {
    return this.rows.list(q);
  }

  find(id: string) {
    return this.rows.find(id);
  }

  /** Replays a message (dead, delivered or pending): due now with a fresh attempt budget, the same id. */
  async replay(id: string, guard?: (m: OutboxRow) => boolean): Promise<OutboxRow> {
    const m = await this.rows.find(id);
    if (!m || (guard && !guard(m))) throw notFound('message');
    const r = await this.rows.requeue(id, nowIso());
    if (!r) throw conflict('id', 'in_flight', 'The message is being sent right now; replay it once that attempt has ended');
    this.nudge();
    return r;
  }
}
