// The gatehouse command: serve (default), migrate, create-admin, --help.
import { parseArgs } from 'node:util';
import { boot, bootCore, openConfiguredStore, type StoreBootOptions } from './boot.js';
import { SYSTEM_CONTEXT, SYSTEM_PRINCIPAL } from './core/context.js';
import { isDomainError } from './core/errors.js';
import { ROOT_ROLES } from './core/roles/index.js';
import { configHelp, ConfigError, parseConfig, type Config } from './platform/config.js';
import { StoreOpenError } from './store/db.js';
import { DataDirLockedError, lockDataDir } from './store/lock.js';
import { migrateToLatest } from './store/migrate.js';
import { schedulePurge } from './core/maintenance/index.js';
import { CLI_COMMANDS, CLI_USAGE, runCli } from './cli/index.js';

const USAGE = `gatehouse — user administration server

Usage:
  gatehouse [serve]                 start the server (migrations run first)
  gatehouse migrate                 apply pending migrations and exit
  gatehouse create-admin --email E [--username U] [--password-stdin]
                                    create an admin (root role Owner); the password comes from
                                    GATEHOUSE_ADMIN_PASSWORD or, with --password-stdin, standard input
${CLI_USAGE}  gatehouse --help                  this text

Environment:
${configHelp()}
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** A PostgreSQL server that is not up yet (compose, a reboot) is waited for, GATEHOUSE_DB_WAIT seconds. */
function waitingFor(config: Config): StoreBootOptions {
  return {
    onDbRetry: ({ attempt, delayMs, reason, host }) => process.stderr.write(
      `gatehouse: PostgreSQL at ${host} not reachable (${reason}); retry ${attempt} in ${(delayMs / 1000).toFixed(2)} s (GATEHOUSE_DB_WAIT=${config.dbWaitSeconds})\n`,
    ),
  };
}

async function serve(config: Config): Promise<void> {
  // One server per embedded store: a second process on this DATA_DIR stops here, naming the first.
  const lock = config.databaseUrl ? undefined : lockDataDir(config.dataDir);
  const { store, core, app, adminCreated } = await boot(config, waitingFor(config));
  if (adminCreated) app.log.info({ email: config.admin?.email }, 'first admin created');
  else if ((await core.users.countActiveAdmins()) === 0) {
    app.log.warn('no admin exists: create one with `gatehouse create-admin --email you@example.com --password-stdin`, ' +
      'or start with GATEHOUSE_ADMIN_EMAIL and GATEHOUSE_ADMIN_PASSWORD set');
  }
  app.log.info({ store: store.engine, location: store.location, surfaces: [...config.surfaces] }, 'store ready');
  if (config.delivery.smtpUrl) {
    app.log.info({ from: config.delivery.mailFrom, publicUrl: config.publicUrl, templatesOverridden: core.mail.templates.overridden }, 'mail: sending through SMTP');
  } else {
    app.log.info('mail: GATEHOUSE_SMTP_URL is not set, no mail is sent (invites hand out links; password-reset requests are accepted and dropped)');
  }
  let stopping = false;
  const stopPurge = schedulePurge(store, {
    throttleWindowSeconds: config.login.windowSeconds,
    everySeconds: 600,
    log: (msg, data) => app.log.info(data, msg),
  });
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => process.exit(1), 15_000);
    timer.unref();
    stopPurge();
    await core.outbox.stop();
    core.mail.close();
    await app.close();
    await store.close();
    lock?.release();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
  // Mail and webhook delivery (docs/delivery.md): every node dispatches; claims keep them from sending one message twice at once.
  core.outbox.log = (level, msg, data) => app.log[level](data ?? {}, msg);
  await core.outbox.start();
}

async function main(argv: string[]): Promise<number> {
  // The operator commands parse their own options (src/cli/, docs/cli.md).
  if (CLI_COMMANDS.has(argv[0]) && !argv.includes('--help') && !argv.includes('-h')) return runCli(argv, parseConfig(process.env));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      email: { type: 'string' },
      username: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
  });
  const command = positionals[0] ?? 'serve';
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  // create-admin names its admin with --email; GATEHOUSE_ADMIN_PASSWORD alone is its documented password source,
  // so the first-admin pair check (both or neither) does not apply to it.
  const config = parseConfig(command === 'create-admin' ? { ...process.env, GATEHOUSE_ADMIN_EMAIL: undefined, GATEHOUSE_ADMIN_PASSWORD: undefined } : process.env);
  switch (command) {
    case 'serve':
      await serve(config);
      return -1; // keep running
    case 'migrate': {
      const store = await openConfiguredStore(config, waitingFor(config));
      const result = await migrateToLatest(store);
      const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date\n');
      await store.close();
      return 0;
    }
    case 'create-admin': {
      if (!values.email) {
        process.stderr.write('create-admin needs --email\n');
        return 2;
      }
      const password = values['password-stdin'] ? await readStdin() : process.env.GATEHOUSE_ADMIN_PASSWORD;
      if (!password) {
        process.stderr.write('create-admin needs a password: GATEHOUSE_ADMIN_PASSWORD or --password-stdin\n');
        return 2;
      }
      const { store, core } = await bootCore(config, { ...waitingFor(config), bootstrap: false });
      try {
        const user = await core.users.create(SYSTEM_PRINCIPAL, { ...SYSTEM_CONTEXT, requestId: 'cli' }, {
          email: values.email, username: values.username ?? null, password, rootRoleId: ROOT_ROLES.Owner, emailVerified: true,
        });
        process.stdout.write(`created admin ${user.email} (id ${user.id})\n`);
        return 0;
      } catch (err) {
        if (isDomainError(err)) {
          process.stderr.write(`cannot create admin: ${err.message}${err.field ? ` (${err.field})` : ''}\n`);
          return 1;
        }
        throw err;
      } finally {
        await store.close();
      }
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    if (err instanceof ConfigError) process.stderr.write(`configuration error: ${err.message}\n`);
    else if (err instanceof DataDirLockedError) process.stderr.write(`gatehouse: ${err.message}\n`);
    else if (err instanceof StoreOpenError) process.stderr.write(`gatehouse: ${err.message}\n`);
    else process.stderr.write(`gatehouse: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
