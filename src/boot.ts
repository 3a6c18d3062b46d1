// The one start-up sequence: configuration → store → migrations → core (with its first admin and init token)
// → HTTP application. The server (src/main.ts) and the tests (test/helpers/harness.ts) both start here, so
// what they run is wired the same way.
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from './app.js';
import { bootstrap, createCore, type Core } from './core/index.js';
import type { Config } from './platform/config.js';
import { openStore, waitForPostgres, type Store, type WaitOptions } from './store/db.js';
import { migrateToLatest } from './store/migrate.js';

export interface StoreBootOptions {
  /**
   * Wait for a PostgreSQL server that is not up yet (GATEHOUSE_DB_WAIT seconds), reporting each retry here.
   * Absent: no waiting (tests, whose server is up).
   */
  onDbRetry?: WaitOptions['onRetry'];
  /** The PostgreSQL pool size instead of GATEHOUSE_PG_POOL (tests run several nodes against one server). */
  pgPoolSize?: number;
}

export interface BootOptions extends StoreBootOptions {
  /** The Fastify logger (default: the configuration's, app.ts loggerOptions). */
  logger?: FastifyServerOptions['logger'];
  /** Create the first admin and the init API token from the configuration (default true). */
  bootstrap?: boolean;
}

/** Opens the store the configuration names (PostgreSQL, waited for when asked; else embedded SQLite). */
export async function openConfiguredStore(config: Config, opts: StoreBootOptions = {}): Promise<Store> {
  if (config.databaseUrl && opts.onDbRetry) {
    await waitForPostgres(config.databaseUrl, { seconds: config.dbWaitSeconds, onRetry: opts.onDbRetry });
  }
  return openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    sqliteSynchronous: config.sqliteSynchronous,
    pgPoolSize: opts.pgPoolSize ?? config.pgPoolSize,
    pgReadLanes: config.pgReadLanes,
    pgPreparedStatements: config.pgPreparedStatements,
  });
}

export interface BootedCore {
  store: Store;
  core: Core;
  /** Whether this start created the first admin. */
  adminCreated: boolean;
}

/** Store, migrations and core. The store is closed again when a later step fails. */
export async function bootCore(config: Config, opts: BootOptions = {}): Promise<BootedCore> {
  const store = await openConfiguredStore(config, opts);
  try {
    await migrateToLatest(store);
    const core = await createCore(config, store);
    const { adminCreated } = opts.bootstrap === false ? { adminCreated: false } : await bootstrap(core);
    return { store, core, adminCreated };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

export interface Booted extends BootedCore {
  app: FastifyInstance;
}

/** Everything a server needs, up to the application (not yet listening). */
export async function boot(config: Config, opts: BootOptions = {}): Promise<Booted> {
  const booted = await bootCore(config, opts);
  try {
    const app = await buildApp(booted.core, { logger: opts.logger });
    return { ...booted, app };
  } catch (err) {
    await booted.core.bans.stop().catch(() => {});
    await booted.store.close().catch(() => {});
    throw err;
  }
}
