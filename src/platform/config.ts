// The one place that reads the environment. Everything else receives a Config.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SURFACES = ['admin', 'account', 'directory', 'useradmin'] as const;
export type SurfaceName = (typeof SURFACES)[number];

export interface Argon2Params {
  memoryCost: number; // KiB
  timeCost: number;
  parallelism: number;
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  /** How long start-up waits for an unreachable PostgreSQL server, retrying with backoff (GATEHOUSE_DB_WAIT). */
  dbWaitSeconds: number;
  dataDir: string;
  /** Server secret; when unset a random one is generated once and kept in the store (shared by every node). */
  secret: string | undefined;
  admin: { email: string; password: string; username: string | undefined } | undefined;
  initApiToken: string | undefined;
  surfaces: ReadonlySet<SurfaceName>;
  logLevel: string;
  /** SQLite durability: FULL keeps every acknowledged commit through power loss; NORMAL trades that for speed. */
  sqliteSynchronous: 'FULL' | 'NORMAL';
  pgPoolSize: number;
  pgReadLanes: number;
  /** Named prepared statements on PostgreSQL (off behind poolers that cannot keep them). */
  pgPreparedStatements: boolean;
  /**
   * Which proxies may name the client in X-Forwarded-For: false (none), a hop count, or their addresses /
   * CIDRs (Fastify's trustProxy). The client address is the rightmost entry not added by a trusted proxy.
   */
  trustProxy: false | number | string[];
  /** The origin (scheme://host[:port], no trailing slash) of links the server builds; undefined = http://HOST:<listening port>. */
  publicUrl: string | undefined;
  /** open: anyone may create an account with POST /api/auth/sign-up; closed: 403. */
  signup: 'open' | 'closed';
  /** Sign-ups per client address (IPv6 by /64) within the login window before 429. */
  signupMaxPerAddress: number;
  /** When set, GET /metrics needs "Authorization: Bearer <this>". */
  metricsToken: string | undefined;
  bodyLimit: number;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  sessionTtlSeconds: number;
  /** How long a user-admin invite link (a one-time token to set the first password) stays valid, in seconds. */
  inviteTtlSeconds: number;
  login: { maxFailuresPerAccount: number; maxFailuresPerAddress: number; windowSeconds: number };
  argon2: Argon2Params;
  hashConcurrency: number;
  delivery: DeliveryConfig;
  /** Built-in HTTPS (GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY, PEM): the certificate chain and its private key; undefined = plain HTTP. */
  tls: TlsConfig | undefined;
}

export interface TlsConfig {
  cert: Buffer;
  key: Buffer;
}

/** The outbox (mail and webhooks): see docs/delivery.md. */
export interface DeliveryConfig {
  /** smtp:// or smtps://user:pass@host:port; undefined = no mail is sent (flows answer as without mail). */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** A folder whose `<template>.subject.txt|.txt|.html` files replace the built-in mail templates. */
  mailTemplatesDir: string | undefined;
  /** Attempts per message before it is dead-lettered. */
  maxAttempts: number;
  /** Delay before the second attempt in ms; each later one doubles it (with jitter), capped at backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long a node's claim on a message lasts (a crashed node's claims expire after it), ms. */
  leaseMs: number;
  /** How often the dispatcher looks for due messages, ms. */
  pollMs: number;
  /** One webhook request's time limit, ms (kept below the lease). */
  webhookTimeoutMs: number;
  /** A webhook whose deliveries fail without a success for this long is disabled, seconds. */
  webhookDisableAfterSeconds: number;
  /** Allow webhook targets on loopback, private, link-local and metadata addresses. */
  webhookAllowPrivate: boolean;
}

export interface ConfigVariable {
  name: string;
  meaning: string;
  default: string;
}

/** Every variable Gatehouse reads; `gatehouse --help` prints this table. */
export const CONFIG_VARIABLES: ConfigVariable[] = [
  { name: 'PORT', meaning: 'TCP port to listen on', default: '8080' },
  { name: 'HOST', meaning: 'address to listen on', default: '127.0.0.1' },
  { name: 'DATABASE_URL', meaning: 'PostgreSQL connection string; unset = embedded SQLite under DATA_DIR', default: 'unset' },
  { name: 'GATEHOUSE_DB_WAIT', meaning: 'seconds to wait at start for an unreachable PostgreSQL server, retrying with backoff, before exiting with an error; 0 tries once', default: '30' },
  { name: 'DATA_DIR', meaning: 'directory of the embedded SQLite store', default: './data' },
  { name: 'GATEHOUSE_SECRET', meaning: 'server secret (CSRF HMAC, access-token signing); generated once and kept in the store if unset', default: 'generated' },
  { name: 'GATEHOUSE_ADMIN_EMAIL', meaning: 'with GATEHOUSE_ADMIN_PASSWORD: create this first admin (root role Owner) at start when no admin exists', default: 'unset' },
  { name: 'GATEHOUSE_ADMIN_PASSWORD', meaning: 'password of that first admin', default: 'unset' },
  { name: 'GATEHOUSE_ADMIN_USERNAME', meaning: 'username of that first admin', default: 'admin' },
  { name: 'GATEHOUSE_INIT_API_TOKEN', meaning: 'create an admin API token with exactly this secret at start (automation, CI); at least 16 characters', default: 'unset' },
  { name: 'GATEHOUSE_SURFACES', meaning: 'comma-separated surfaces to serve: admin,account,directory,useradmin', default: 'all four' },
  { name: 'LOG_LEVEL', meaning: 'pino log level (fatal, error, warn, info, debug, trace, silent)', default: 'info' },
  { name: 'GATEHOUSE_SQLITE_SYNCHRONOUS', meaning: 'FULL (durable through power loss) or NORMAL (faster, may lose the last commits on power loss)', default: 'FULL' },
  { name: 'GATEHOUSE_PG_POOL_SIZE', meaning: 'PostgreSQL connections per node', default: '10' },
  { name: 'GATEHOUSE_PG_READ_LANES', meaning: 'PostgreSQL connections per node shared by the credential checks of concurrent requests (and the reads sent with them), in addition to the pool; 0 to check on pool connections (always so with GATEHOUSE_PG_PREPARED_STATEMENTS=false)', default: '2' },
  { name: 'GATEHOUSE_PG_PREPARED_STATEMENTS', meaning: 'false to send every statement unnamed (behind a pooler in transaction mode that cannot keep prepared statements, such as PgBouncer before 1.21)', default: 'true' },
  { name: 'GATEHOUSE_TRUST_PROXY', meaning: 'the proxies in front of Gatehouse, whose X-Forwarded-For entries are believed: a hop count (1 = one proxy) or a comma list of their addresses/CIDRs; the client address is the rightmost entry no trusted proxy added. "true" is refused (it would let any client choose its own address)', default: 'false' },
  { name: 'GATEHOUSE_PUBLIC_URL', meaning: 'the origin clients reach Gatehouse at (https://id.example.com): links the server builds (invite links, pagination, links in mail) and the origin cookie-authenticated writes must come from; never taken from the Host header', default: 'http://HOST:PORT (https:// with GATEHOUSE_TLS_CERT)' },
  { name: 'GATEHOUSE_TLS_CERT', meaning: 'PEM file of the certificate (chain) to serve HTTPS with, together with GATEHOUSE_TLS_KEY (both or neither); unreadable, malformed or mismatched files stop the start', default: 'unset (plain HTTP)' },
  { name: 'GATEHOUSE_TLS_KEY', meaning: 'PEM file of the private key of GATEHOUSE_TLS_CERT (unencrypted)', default: 'unset' },
  { name: 'GATEHOUSE_SIGNUP', meaning: 'open: anyone may create an account (POST /api/auth/sign-up); closed: sign-up answers 403', default: 'open' },
  { name: 'GATEHOUSE_SIGNUP_MAX_PER_ADDRESS', meaning: 'sign-ups per client address (IPv6 grouped by /64) within GATEHOUSE_LOGIN_WINDOW before 429', default: '20' },
  { name: 'GATEHOUSE_METRICS_TOKEN', meaning: 'when set, GET /metrics needs "Authorization: Bearer <token>" (at least 16 characters)', default: 'unset (public)' },
  { name: 'GATEHOUSE_BODY_LIMIT', meaning: 'largest accepted request body in bytes', default: '65536' },
  { name: 'GATEHOUSE_ACCESS_TTL', meaning: 'admin access-cookie lifetime in seconds (also caps OAuth access tokens, which live at most 300)', default: '600' },
  { name: 'GATEHOUSE_REFRESH_TTL', meaning: 'refresh-token (session family) lifetime in seconds', default: '2592000' },
  { name: 'GATEHOUSE_SESSION_TTL', meaning: 'opaque cookie-session lifetime in seconds (account and user-admin surfaces)', default: '1209600' },
  { name: 'GATEHOUSE_INVITE_TTL', meaning: 'how long an invite link (user-admin inviteLink, a one-time token to set the first password) stays valid: seconds, or hours with an h suffix (48h)', default: '168h' },
  { name: 'GATEHOUSE_LOGIN_MAX_FAILURES', meaning: 'failed sign-ins per account within the window before 429', default: '10' },
  { name: 'GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS', meaning: 'failed sign-ins per client address within the window before 429', default: '50' },
  { name: 'GATEHOUSE_LOGIN_WINDOW', meaning: 'sign-in throttling window in seconds', default: '900' },
  { name: 'GATEHOUSE_ARGON2_MEMORY', meaning: 'argon2id memory cost in KiB (OWASP minimum 19456)', default: '19456' },
  { name: 'GATEHOUSE_ARGON2_TIME', meaning: 'argon2id iterations (OWASP minimum 2)', default: '2' },
  { name: 'GATEHOUSE_SMTP_URL', meaning: 'mail server, smtp://user:pass@host:port or smtps://…; unset = no mail is sent', default: 'unset' },
  { name: 'GATEHOUSE_MAIL_FROM', meaning: 'From address of the mail the server sends', default: 'Gatehouse <noreply@localhost>' },
  { name: 'GATEHOUSE_MAIL_TEMPLATES', meaning: 'folder of mail templates overriding the built-in ones (<name>.subject.txt, <name>.txt, <name>.html)', default: 'unset' },
  { name: 'GATEHOUSE_OUTBOX_MAX_ATTEMPTS', meaning: 'delivery attempts of one mail or webhook message before it is dead-lettered', default: '30' },
  { name: 'GATEHOUSE_OUTBOX_BACKOFF_BASE_MS', meaning: 'delay before a failed message is tried again, doubled on each failure (with jitter)', default: '10000' },
  { name: 'GATEHOUSE_OUTBOX_BACKOFF_MAX_MS', meaning: 'longest delay between two attempts of a message', default: '3600000' },
  { name: 'GATEHOUSE_OUTBOX_LEASE_MS', meaning: 'how long a node holds a message it is sending; a crashed node\'s messages are sent again after it', default: '60000' },
  { name: 'GATEHOUSE_OUTBOX_POLL_MS', meaning: 'how often each node looks for messages due', default: '1000' },
  { name: 'GATEHOUSE_WEBHOOK_TIMEOUT_MS', meaning: 'time limit of one webhook request', default: '10000' },
  { name: 'GATEHOUSE_WEBHOOK_DISABLE_AFTER', meaning: 'seconds of failing deliveries (no success) after which a webhook is disabled', default: '86400' },
  { name: 'GATEHOUSE_WEBHOOK_ALLOW_PRIVATE', meaning: 'true to allow webhook targets on loopback, private, link-local and metadata addresses', default: 'false' },
  { name: 'GATEHOUSE_HASH_CONCURRENCY', meaning: 'password hashes and checks (argon2id, imported bcrypt) computed at once; the rest wait in a queue (one core is left to serve everything else)', default: 'cores - 1, at least 1' },
];

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** GATEHOUSE_TRUST_PROXY: false, a hop count, or proxy addresses/CIDRs. A bare true is refused. */
function trustProxyOf(raw: string | undefined): false | number | string[] {
  const value = (raw ?? '').trim();
  if (value === '' || /^(0|false|no|off)$/i.test(value)) return false;
  if (/^(true|yes|on)$/i.test(value)) {
    throw new ConfigError(
      'GATEHOUSE_TRUST_PROXY=true is refused: it would believe every X-Forwarded-For entry, so any client could name its own ' +
      'address (dodging per-address throttles and ip bans, forging the audit log). Give the number of proxies in front of ' +
      'Gatehouse (e.g. 1) or their addresses/CIDRs (e.g. 10.0.0.5,192.168.0.0/16)',
    );
  }
  if (/^[0-9]+$/.test(value)) {
    const hops = Number(value);
    if (hops > 32) throw new ConfigError(`GATEHOUSE_TRUST_PROXY: a hop count must be at most 32, got "${raw}"`);
    return hops;
  }
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const family = net.isIP(address);
    const max = family === 4 ? 32 : 128;
    const bitsOk = bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= max);
    if (!family || !bitsOk || extra !== undefined) {
      throw new ConfigError(`GATEHOUSE_TRUST_PROXY: "${entry}" is neither a hop count nor an IP address or CIDR`);
    }
  }
  return entries;
}

/** GATEHOUSE_PUBLIC_URL: an http(s) origin, kept without a trailing slash. */
function publicUrlOf(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`GATEHOUSE_PUBLIC_URL must be an http(s) URL such as https://id.example.com, got "${raw}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash) {
    throw new ConfigError(`GATEHOUSE_PUBLIC_URL must be an http(s) URL without credentials, query or fragment, got "${raw}"`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * A duration: whole seconds (`3600`, `3600s`) or whole hours (`48h`), within [min, max] seconds; unset or
 * empty gives the default.
 */
function duration(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const m = /^(\d{1,9})\s*([sh]?)$/i.exec(raw);
  if (!m) throw new ConfigError(`${name} must be whole seconds (3600 or 3600s) or hours (48h), got "${raw}"`);
  const seconds = Number(m[1]) * (m[2].toLowerCase() === 'h' ? 3600 : 1);
  if (seconds < min || seconds > max) throw new ConfigError(`${name} must be between ${min} seconds and ${max / 3600} hours, got "${raw}"`);
  return seconds;
}

/** The URL schemes DATABASE_URL may use: PostgreSQL's two (node-postgres reads both). */
const DATABASE_URL_SCHEMES = ['postgres:', 'postgresql:'];

/**
 * DATABASE_URL must be a PostgreSQL URL; anything else (mysql://…, a bare host name) is refused here, in one
 * line naming the variable and the accepted forms, instead of reaching node-postgres, which takes any text
 * for a connection string. The message shows the scheme at most, never the value (it may hold a password).
 */
function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL?.trim();
  if (!raw) return undefined;
  let scheme: string | undefined;
  try {
    scheme = new URL(raw).protocol;
  } catch {
    scheme = undefined;
  }
  if (scheme === undefined || !DATABASE_URL_SCHEMES.includes(scheme.toLowerCase())) {
    const got = scheme === undefined ? 'a value that is not a URL' : `a ${scheme}// URL`;
    throw new ConfigError(
      `DATABASE_URL must be a PostgreSQL URL, postgres://user:password@host:5432/database or postgresql://…, got ${got}; ` +
      'unset DATABASE_URL to use the embedded SQLite store under DATA_DIR',
    );
  }
  return raw;
}

/**
 * Where the server is reached from outside: GATEHOUSE_PUBLIC_URL, else its own scheme, host and port (the port
 * the request came in on, when there is one). Links in responses and mail are built on it, never on `Host`.
 */
export function baseUrlOf(config: Pick<Config, 'publicUrl' | 'host' | 'port' | 'tls'>, port: number = config.port): string {
  if (config.publicUrl) return config.publicUrl;
  const host = net.isIPv6(config.host) ? `[${config.host}]` : config.host;
  return `${config.tls ? 'https' : 'http'}://${host}:${port}`;
}

export function parseConfig(env: Env = process.env): Config {
  const surfacesRaw = env.GATEHOUSE_SURFACES?.trim();
  const surfaces = new Set<SurfaceName>();
  if (!surfacesRaw) SURFACES.forEach((s) => surfaces.add(s));
  else {
    for (const part of surfacesRaw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
      const name = part === 'user-admin' ? 'useradmin' : part;
      if (!(SURFACES as readonly string[]).includes(name)) {
        throw new ConfigError(`GATEHOUSE_SURFACES: unknown surface "${part}" (known: ${SURFACES.join(', ')})`);
      }
      surfaces.add(name as SurfaceName);
    }
  }
  const adminEmail = env.GATEHOUSE_ADMIN_EMAIL?.trim();
  const adminPassword = env.GATEHOUSE_ADMIN_PASSWORD;
  if ((adminEmail && !adminPassword) || (!adminEmail && adminPassword)) {
    throw new ConfigError('GATEHOUSE_ADMIN_EMAIL and GATEHOUSE_ADMIN_PASSWORD must be set together');
  }
  const initApiToken = env.GATEHOUSE_INIT_API_TOKEN || undefined;
  if (initApiToken !== undefined && initApiToken.length < 16) {
    throw new ConfigError('GATEHOUSE_INIT_API_TOKEN must be at least 16 characters');
  }
  const secret = env.GATEHOUSE_SECRET || undefined;
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError('GATEHOUSE_SECRET must be at least 32 characters');
  }
  const sync = (env.GATEHOUSE_SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase();
  if (sync !== 'FULL' && sync !== 'NORMAL') {
    throw new ConfigError('GATEHOUSE_SQLITE_SYNCHRONOUS must be FULL or NORMAL');
  }
  const signup = (env.GATEHOUSE_SIGNUP?.trim() || 'open').toLowerCase();
  if (signup !== 'open' && signup !== 'closed') throw new ConfigError(`GATEHOUSE_SIGNUP must be open or closed, got "${env.GATEHOUSE_SIGNUP}"`);
  const metricsToken = env.GATEHOUSE_METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) throw new ConfigError('GATEHOUSE_METRICS_TOKEN must be at least 16 characters');
  const smtpUrl = env.GATEHOUSE_SMTP_URL?.trim() || undefined;
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^/]/i.test(smtpUrl)) {
    throw new ConfigError('GATEHOUSE_SMTP_URL must be an smtp:// or smtps:// URL');
  }
  const leaseMs = int(env, 'GATEHOUSE_OUTBOX_LEASE_MS', 60_000, 1000, 86_400_000);
  const delivery: DeliveryConfig = {
    smtpUrl,
    mailFrom: env.GATEHOUSE_MAIL_FROM?.trim() || 'Gatehouse <noreply@localhost>',
    mailTemplatesDir: env.GATEHOUSE_MAIL_TEMPLATES ? path.resolve(env.GATEHOUSE_MAIL_TEMPLATES) : undefined,
    maxAttempts: int(env, 'GATEHOUSE_OUTBOX_MAX_ATTEMPTS', 30, 1, 1000),
    backoffBaseMs: int(env, 'GATEHOUSE_OUTBOX_BACKOFF_BASE_MS', 10_000, 10, 86_400_000),
    backoffMaxMs: int(env, 'GATEHOUSE_OUTBOX_BACKOFF_MAX_MS', 3_600_000, 10, 7 * 86_400_000),
    leaseMs,
    pollMs: int(env, 'GATEHOUSE_OUTBOX_POLL_MS', 1000, 10, 3_600_000),
    // A request must end before its claim does, or another node could send the message at the same time.
    webhookTimeoutMs: Math.min(int(env, 'GATEHOUSE_WEBHOOK_TIMEOUT_MS', 10_000, 100, 600_000), Math.floor(leaseMs / 2)),
    webhookDisableAfterSeconds: int(env, 'GATEHOUSE_WEBHOOK_DISABLE_AFTER', 86_400, 1, 365 * 86_400),
    webhookAllowPrivate: bool(env, 'GATEHOUSE_WEBHOOK_ALLOW_PRIVATE', false),
  };
  const memoryCost = int(env, 'GATEHOUSE_ARGON2_MEMORY', 19456, 19456, 4 * 1024 * 1024);
  const timeCost = int(env, 'GATEHOUSE_ARGON2_TIME', 2, 2, 100);
  return {
    port: int(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    databaseUrl: databaseUrl(env),
    dbWaitSeconds: int(env, 'GATEHOUSE_DB_WAIT', 30, 0, 3600),
    dataDir: path.resolve(env.DATA_DIR || './data'),
    secret,
    admin: adminEmail && adminPassword
      ? { email: adminEmail, password: adminPassword, username: env.GATEHOUSE_ADMIN_USERNAME?.trim() || undefined }
      : undefined,
    initApiToken,
    surfaces,
    logLevel: env.LOG_LEVEL || 'info',
    sqliteSynchronous: sync,
    pgPoolSize: int(env, 'GATEHOUSE_PG_POOL_SIZE', 10, 1, 1000),
    pgReadLanes: int(env, 'GATEHOUSE_PG_READ_LANES', 2, 0, 64),
    pgPreparedStatements: bool(env, 'GATEHOUSE_PG_PREPARED_STATEMENTS', true),
    trustProxy: trustProxyOf(env.GATEHOUSE_TRUST_PROXY),
    publicUrl: publicUrlOf(env.GATEHOUSE_PUBLIC_URL),
    signup,
    signupMaxPerAddress: int(env, 'GATEHOUSE_SIGNUP_MAX_PER_ADDRESS', 20, 1, 1_000_000),
    metricsToken,
    bodyLimit: int(env, 'GATEHOUSE_BODY_LIMIT', 65536, 1024, 64 * 1024 * 1024),
    accessTtlSeconds: int(env, 'GATEHOUSE_ACCESS_TTL', 600, 1, 86400),
    refreshTtlSeconds: int(env, 'GATEHOUSE_REFRESH_TTL', 30 * 86400, 60, 365 * 86400),
    sessionTtlSeconds: int(env, 'GATEHOUSE_SESSION_TTL', 14 * 86400, 60, 365 * 86400),
    inviteTtlSeconds: duration(env, 'GATEHOUSE_INVITE_TTL', 7 * 86400, 60, 90 * 86400),
    login: {
      maxFailuresPerAccount: int(env, 'GATEHOUSE_LOGIN_MAX_FAILURES', 10, 1, 1_000_000),
      maxFailuresPerAddress: int(env, 'GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS', 50, 1, 1_000_000),
      windowSeconds: int(env, 'GATEHOUSE_LOGIN_WINDOW', 900, 1, 86400),
    },
    argon2: { memoryCost, timeCost, parallelism: 1 },
    hashConcurrency: int(env, 'GATEHOUSE_HASH_CONCURRENCY', Math.max(1, os.availableParallelism() - 1), 1, 64),
    delivery,
    tls: tlsOf(env),
  };
}

/** Reads a PEM file named by an environment variable; a one-line error naming the variable when it cannot. */
function readPem(env: Env, name: string): Buffer {
  const file = env[name]!.trim();
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY: both or neither; each must parse, and the key must be the certificate's. */
function tlsOf(env: Env): TlsConfig | undefined {
  const certSet = Boolean(env.GATEHOUSE_TLS_CERT?.trim());
  const keySet = Boolean(env.GATEHOUSE_TLS_KEY?.trim());
  if (!certSet && !keySet) return undefined;
  if (!certSet || !keySet) throw new ConfigError(`GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY must be set together (${certSet ? 'GATEHOUSE_TLS_KEY' : 'GATEHOUSE_TLS_CERT'} is unset)`);
  const cert = readPem(env, 'GATEHOUSE_TLS_CERT');
  const key = readPem(env, 'GATEHOUSE_TLS_KEY');
  let x509: crypto.X509Certificate;
  try {
    x509 = new crypto.X509Certificate(cert);
  } catch {
    throw new ConfigError(`GATEHOUSE_TLS_CERT: ${env.GATEHOUSE_TLS_CERT!.trim()} holds no PEM certificate`);
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch {
    throw new ConfigError(`GATEHOUSE_TLS_KEY: ${env.GATEHOUSE_TLS_KEY!.trim()} holds no unencrypted PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError('GATEHOUSE_TLS_KEY: the private key does not match the certificate in GATEHOUSE_TLS_CERT');
  }
  return { cert, key };
}

export function configHelp(): string {
  const rows = CONFIG_VARIABLES.map((v) => `  ${v.name.padEnd(42)} ${v.meaning} (default: ${v.default})`);
  return rows.join('\n');
}
