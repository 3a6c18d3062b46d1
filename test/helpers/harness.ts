// Test harness: a real Gatehouse over real HTTP on a fresh database of the chosen engine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { boot } from '../../src/boot.js';
import type { Core } from '../../src/core/index.js';
import { parseConfig } from '../../src/platform/config.js';
import type { Store } from '../../src/store/db.js';
import type { Engine } from '../../src/store/sql.js';

export const ADMIN_EMAIL = 'root@example.com';
export const ADMIN_PASSWORD = 'root-password-1';
export const ADMIN_TOKEN = 'gha_test_admin_token_0123456789abcdef';

const PG_URL = process.env.GATEHOUSE_TEST_PG_URL;

/** The engines this run covers, with the reason when PostgreSQL is skipped. */
export function engines(): Array<{ engine: Engine; skip: string | false }> {
  return [
    { engine: 'sqlite', skip: false },
    {
      engine: 'postgres',
      skip: PG_URL ? false : 'PostgreSQL not reachable: set DATABASE_URL to a server whose user may CREATE DATABASE (see test/run.mjs)',
    },
  ];
}

export interface Database {
  engine: Engine;
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A fresh, empty database: a new directory for SQLite, a new database on the PostgreSQL server. */
export async function freshDatabase(engine: Engine): Promise<Database> {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-test-'));
    return { engine, env: { DATA_DIR: dir }, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  if (!PG_URL) throw new Error('PostgreSQL tests need GATEHOUSE_TEST_PG_URL (npm test sets it when a server is reachable)');
  const name = `gatehouse_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    engine,
    env: { DATABASE_URL: url.toString() },
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestServer {
  url: string;
  engine: Engine;
  core: Core;
  app: FastifyInstance;
  store: Store;
  db: Database;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse a database (a second node on the same store). */
  db?: Database;
  /** Run the outbox dispatcher (mail and webhook delivery); off by default so other tests stay fast. */
  dispatch?: boolean;
}

export async function startServer(engine: Engine, opts: StartOptions = {}): Promise<TestServer> {
  const db = opts.db ?? (await freshDatabase(engine));
  const config = parseConfig({
    GATEHOUSE_ADMIN_EMAIL: ADMIN_EMAIL,
    GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    GATEHOUSE_ADMIN_USERNAME: 'root',
    GATEHOUSE_INIT_API_TOKEN: ADMIN_TOKEN,
    GATEHOUSE_SQLITE_SYNCHRONOUS: 'NORMAL',
    LOG_LEVEL: 'silent',
    ...db.env,
    ...opts.env,
  });
  const { store, core, app } = await boot(config, { pgPoolSize: 10, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  if (opts.dispatch) await core.outbox.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    engine,
    core,
    app,
    store,
    db,
    close: async () => {
      await core.outbox.stop();
      core.mail.close();
      await app.close();
      await store.close();
      if (!opts.db) await db.drop();
    },
  };
}
