// The one place that reads the environment. Everything else receives a Config.
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
  trustProxy: boolean;
  bodyLimit: number;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  sessionTtlSeconds: number;
  login: { maxFailuresPerAccount: number; maxFailuresPerAddress: number; windowSeconds: number };
  argon2: Argon2Params;
  hashConcurrency: number;
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
  { name: 'GATEHOUSE_TRUST_PROXY', meaning: 'true to take the client address from X-Forwarded-For', default: 'false' },
  { name: 'GATEHOUSE_BODY_LIMIT', meaning: 'largest accepted request body in bytes', default: '65536' },
  { name: 'GATEHOUSE_ACCESS_TTL', meaning: 'admin access-cookie lifetime in seconds (also caps OAuth access tokens, which live at most 300)', default: '600' },
  { name: 'GATEHOUSE_REFRESH_TTL', meaning: 'refresh-token (session family) lifetime in seconds', default: '2592000' },
  { name: 'GATEHOUSE_SESSION_TTL', meaning: 'opaque cookie-session lifetime in seconds (account and user-admin surfaces)', default: '1209600' },
  { name: 'GATEHOUSE_LOGIN_MAX_FAILURES', meaning: 'failed sign-ins per account within the window before 429', default: '10' },
  { name: 'GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS', meaning: 'failed sign-ins per client address within the window before 429', default: '50' },
  { name: 'GATEHOUSE_LOGIN_WINDOW', meaning: 'sign-in throttling window in seconds', default: '900' },
  { name: 'GATEHOUSE_ARGON2_MEMORY', meaning: 'argon2id memory cost in KiB (OWASP minimum 19456)', default: '19456' },
  { name: 'GATEHOUSE_ARGON2_TIME', meaning: 'argon2id iterations (OWASP minimum 2)', default: '2' },
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
    trustProxy: bool(env, 'GATEHOUSE_TRUST_PROXY', false),
    bodyLimit: int(env, 'GATEHOUSE_BODY_LIMIT', 65536, 1024, 64 * 1024 * 1024),
    accessTtlSeconds: int(env, 'GATEHOUSE_ACCESS_TTL', 600, 1, 86400),
    refreshTtlSeconds: int(env, 'GATEHOUSE_REFRESH_TTL', 30 * 86400, 60, 365 * 86400),
    sessionTtlSeconds: int(env, 'GATEHOUSE_SESSION_TTL', 14 * 86400, 60, 365 * 86400),
    login: {
      maxFailuresPerAccount: int(env, 'GATEHOUSE_LOGIN_MAX_FAILURES', 10, 1, 1_000_000),
      maxFailuresPerAddress: int(env, 'GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS', 50, 1, 1_000_000),
      windowSeconds: int(env, 'GATEHOUSE_LOGIN_WINDOW', 900, 1, 86400),
    },
    argon2: { memoryCost, timeCost, parallelism: 1 },
    hashConcurrency: int(env, 'GATEHOUSE_HASH_CONCURRENCY', Math.max(1, os.availableParallelism() - 1), 1, 64),
  };
}

export function configHelp(): string {
  const rows = CONFIG_VARIABLES.map((v) => `  ${v.name.padEnd(42)} ${v.meaning} (default: ${v.default})`);
  return rows.join('\n');
}
