// The per-node cache of ip bans, so that the check on every request costs no database round trip.
//
// Correctness across nodes:
// - every ban change bumps bans_state.version in its own transaction;
// - PostgreSQL: the change also sends NOTIFY at commit; each node LISTENs on a dedicated connection and
//   reloads at once. A periodic version check covers a lost connection or a missed notification;
// - SQLite: the version row is checked about once a second (a local read, microseconds);
// - the node that made the change reloads before it answers, so its own next request sees it;
// - expiry is judged in memory against the clock on every check, so an expired ban stops at once.
import pg from 'pg';
import { toIso } from '../../store/sql.js';
import { IpIndex, parseIp, parseRange, type IpAddress } from './ip.js';
import type { BanRow, BansStore } from './store.js';

export const BANS_CHANNEL = 'gatehouse_bans';
/** Remembered verdicts per client address (cleared when full and on every reload). */
const VERDICTS_MAX = 50_000;

/** What a refused request is told (docs/contracts.md: {ban_type, ban_value, reason, banned_at}). */
export interface BanNotice {
  ban_type: string;
  ban_value: string;
  reason: string | null;
  banned_at: string;
  expires_at: string | null;
}

interface Entry {
  notice: BanNotice;
  expiresMs: number; // Infinity when it never expires
}

export function noticeOf(row: { ban_type: string; ban_value: string; reason: string | null; created_at: Date | string; expires_at: Date | string | null }): BanNotice {
  return {
    ban_type: row.ban_type,
    ban_value: row.ban_value,
    reason: row.reason,
    banned_at: toIso(row.created_at)!,
    expires_at: toIso(row.expires_at),
  };
}

export interface IpBanCacheOptions {
  /** How often the version row is read when no faster signal is available (ms). */
  pollMs?: number;
  /** PostgreSQL with a live LISTEN connection: the version check is only a fallback (ms). */
  listenPollMs?: number;
}

export class IpBanCache {
  private index = new IpIndex<Entry>();
  private verdicts = new Map<string, Entry | null>();
  private version = -1;
  private loaded = false;
  private loading: Promise<void> | undefined;
  private dirty = false;
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private listener: pg.Client | undefined;
  private listening = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly pollMs: number;
  private readonly listenPollMs: number;
  /** Counters for tests and metrics. */
  readonly stats = { reloads: 0, versionChecks: 0, notifications: 0 };

  constructor(
    private readonly bans: BansStore,
    private readonly databaseUrl: string | undefined,
    opts: IpBanCacheOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 1000;
    this.listenPollMs = opts.listenPollMs ?? 10_000;
  }

  get ready(): boolean {
    return this.loaded && this.started;
  }

  /**
   * The active ban covering `ip`, from memory. Only valid once `ready` (call `ensureLoaded` first).
   * `ip` is a client address as Node reports it (IPv4, IPv6 or mapped IPv6).
   */
  match(ip: string, at?: number): BanNotice | undefined {
    if (this.index.size === 0) return undefined;
    // Verdicts per address string: "no ban" stays true until the next reload (expiry only lifts bans);
    // a remembered ban is re-judged once it has expired (a wider range may still cover the address).
    const known = this.verdicts.get(ip);
    if (known === null) return undefined;
    const nowMs = at ?? Date.now();
    if (known !== undefined && known.expiresMs > nowMs) return known.notice;
    const addr: IpAddress | undefined = parseIp(ip);
    const found = addr ? this.index.find(addr, (e) => e.expiresMs > nowMs) : undefined;
    if (this.verdicts.size >= VERDICTS_MAX) this.verdicts.clear();
    this.verdicts.set(ip, found ?? null);
    return found?.notice;
  }

  /** Loads the cache (once) and starts following changes. */
  async ensureLoaded(): Promise<void> {
    if (!this.started) this.start();
    if (!this.loaded) await this.reload();
  }

  /**
   * This node changed the bans: reload before answering, so its own next request sees the change. A cache
   * that has not started yet loads (and starts following changes) on its first check instead.
   */
  async changed(): Promise<void> {
    if (!this.started || this.stopped) return;
    await this.reload().catch(() => {});
  }

  /** Reloads now; concurrent calls share one reload, and a call during a reload forces another one. */
  reload(): Promise<void> {
    if (this.loading) {
      this.dirty = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.dirty = false;
          await this.loadOnce();
        } while (this.dirty && !this.stopped);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async loadOnce(): Promise<void> {
    // Version first: a change landing between the two reads leaves us with newer rows under an older
    // version, which only causes one extra reload.
    const version = await this.bans.readVersion();
    const rows = await this.bans.unrevokedOfType('ip');
    this.index = buildIndex(rows);
    this.verdicts = new Map();
    this.version = version;
    this.loaded = true;
    this.stats.reloads++;
  }

  private async checkVersion(): Promise<void> {
    if (this.stopped || this.loading) return;
    this.stats.versionChecks++;
    const version = await this.bans.readVersion();
    if (version !== this.version) await this.reload();
  }

  private start(): void {
    this.started = true;
    this.schedulePoll();
    if (this.bans.shared && this.databaseUrl) void this.listen();
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    const delay = this.listening ? this.listenPollMs : this.pollMs;
    this.timer = setTimeout(() => {
      this.checkVersion()
        .catch(() => {})
        .finally(() => this.schedulePoll());
    }, delay);
    this.timer.unref();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.databaseUrl });
    this.listener = client;
    const lost = () => {
      if (this.listener !== client) return;
      this.listening = false;
      this.listener = undefined;
      client.end().catch(() => {});
      if (this.stopped) return;
      this.reconnectTimer = setTimeout(() => void this.listen(), 1000);
      this.reconnectTimer.unref();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (msg) => {
      if (msg.channel !== BANS_CHANNEL) return;
      this.stats.notifications++;
      // A reload already under way may have read the version before this commit: make it go round again.
      if (this.loading) this.dirty = true;
      // Our own changes were reloaded before we answered: the version check skips them.
      else this.checkVersion().catch(() => {});
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${BANS_CHANNEL}`);
      if (this.stopped) {
        await client.end().catch(() => {});
        return;
      }
      this.listening = true;
      // Changes made while we were not listening.
      await this.reload();
    } catch {
      lost();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = undefined;
    this.listening = false;
    if (client) await client.end().catch(() => {});
    if (this.loading) await this.loading.catch(() => {});
  }
}

function buildIndex(rows: BanRow[]): IpIndex<Entry> {
  const index = new IpIndex<Entry>();
  for (const row of rows) {
    const range = parseRange(row.ban_value);
    if ('error' in range) continue;
    const expires = toIso(row.expires_at);
    index.add(range, { notice: noticeOf(row), expiresMs: expires ? Date.parse(expires) : Infinity });
  }
  return index;
}
