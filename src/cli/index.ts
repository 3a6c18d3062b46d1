// The operator commands beside `serve`: export, import, users, tokens, bans (docs/cli.md). Each opens the
// store with the configuration `serve` uses, applies pending migrations, and acts through the core as the
// SYSTEM principal (audit events name the actor "system", request id "cli"). Output is JSON on stdout.
import { parseArgs } from 'node:util';
import { createCore, type Core } from '../core/index.js';
import { SYSTEM_PRINCIPAL, type RequestContext } from '../core/context.js';
import { isDomainError } from '../core/errors.js';
import { BAN_TYPES, type BanType } from '../core/bans/values.js';
import { resolveRootRole } from '../core/roles/index.js';
import type { NewUser, UserPatch } from '../core/users/types.js';
import { emptyPatchError, isEmptyPatch } from '../core/users/index.js';
import type { Config } from '../platform/config.js';
import { openStore } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { exportCommand, importCommand } from './transfer.js';

export const CLI_COMMANDS = new Set(['export', 'import', 'users', 'tokens', 'bans']);

export const CLI_USAGE = `  gatehouse export [--out FILE]     every live user as JSON Lines, password hashes included (stdout without --out)
  gatehouse import [--file FILE|-] [--format gatehouse|unleash|keycloak|supabase|logto] [--dry-run] [--quiet]
                   [--existing skip|update]
                                    bring users in (stdin without --file); a JSON line per row, a summary last
  gatehouse users list [--limit N] [--after ID] [--q TEXT] | get ID | create --email E [--username U] [--name N]
                   [--root-role R] [--password-stdin] | update ID [--email E] [--username U] [--name N]
                   [--root-role R] [--active true|false] [--password-stdin] | delete ID
  gatehouse tokens create --name N [--kind admin|personal] [--user ID] [--expires-at T] | revoke ID
  gatehouse bans list [--type T] [--active true|false] [--limit N] | create --type T --value V [--reason R]
                   [--expires-at T] | revoke ID [--reason R]
`;

const CLI_CONTEXT: RequestContext = { ip: '127.0.0.1', userAgent: null, requestId: 'cli', surface: 'system' };

class UsageError extends Error {}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

function intArg(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`${what} must be a positive integer`);
  return Number(value);
}

function boolArg(value: string | undefined, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new UsageError(`${what} must be true or false`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Exit code of a command that stopped before it finished (docs/cli.md). */
export const EXIT_UNFINISHED = 3;

/**
 * Runs `argv` (its first word one of CLI_COMMANDS); the exit code. A command whose work waits on something
 * that nothing left in the process can bring (a 'drain' or 'finish' that will never come, a promise no
 * handle will settle) would otherwise end with an empty event loop, and node exits 0 without a word: the
 * 'beforeExit' guard turns that into a message and exit code 3.
 */
export async function runCli(argv: string[], config: Config): Promise<number> {
  const unfinished = () => {
    process.stderr.write(`gatehouse ${argv[0]}: stopped before it finished (it was waiting for something that can no longer happen, with nothing else left to run); what it wrote before stays written, the rest was not done\n`);
    process.exit(EXIT_UNFINISHED);
  };
  process.once('beforeExit', unfinished);
  try {
    return await runCliCommand(argv, config);
  } finally {
    process.off('beforeExit', unfinished);
  }
}

async function runCliCommand(argv: string[], config: Config): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        file: { type: 'string' },
        format: { type: 'string', default: 'gatehouse' },
        'dry-run': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        existing: { type: 'string', default: 'skip' },
        limit: { type: 'string' },
        after: { type: 'string' },
        q: { type: 'string' },
        email: { type: 'string' },
        username: { type: 'string' },
        name: { type: 'string' },
        'root-role': { type: 'string' },
        active: { type: 'string' },
        'password-stdin': { type: 'boolean', default: false },
        kind: { type: 'string', default: 'admin' },
        user: { type: 'string' },
        'expires-at': { type: 'string' },
        type: { type: 'string' },
        value: { type: 'string' },
        reason: { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteSynchronous: config.sqliteSynchronous, pgPoolSize: config.pgPoolSize, pgReadLanes: config.pgReadLanes, pgPreparedStatements: config.pgPreparedStatements });
  try {
    await migrateToLatest(store);
    const core = await createCore(config, store);
    try {
      return await dispatch(core, parsed.positionals, parsed.values);
    } finally {
      await core.hasher.close();
      await core.bans.stop();
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (isDomainError(err)) {
      // The core's refusal, as the surfaces would give it (no secret is ever in one).
      print({ error: { kind: err.kind, reason: err.reason ?? null, field: err.field ?? null, message: err.message } });
      return 1;
    }
    throw err;
  } finally {
    await store.close();
  }
}

type Values = Record<string, string | boolean | undefined>;

async function dispatch(core: Core, words: string[], v: Values): Promise<number> {
  const s = (k: string) => v[k] as string | undefined;
  const [command, verb, arg] = words;
  switch (command) {
    case 'export':
      return exportCommand(core, { out: s('out') });
    case 'import':
      if (s('existing') !== 'skip' && s('existing') !== 'update') throw new UsageError('--existing must be skip or update');
      return importCommand(core, { file: s('file'), format: s('format') ?? 'gatehouse', dryRun: v['dry-run'] === true, quiet: v.quiet === true, existing: s('existing') as 'skip' | 'update' });
    case 'users':
      return usersCommand(core, verb, arg, v);
    case 'tokens':
      if (verb === 'create') {
        const kind = s('kind');
        if (kind !== 'admin' && kind !== 'personal') throw new UsageError('--kind must be admin or personal');
        if (!s('name')) throw new UsageError('tokens create needs --name');
        const userId = s('user') === undefined ? null : intArg(s('user'), '--user');
        if (kind === 'personal' && userId === null) throw new UsageError('a personal token needs --user');
        if (userId !== null) await core.users.getUser(userId);
        const { token, secret } = await core.tokens.create(SYSTEM_PRINCIPAL, CLI_CONTEXT, { name: s('name')!, kind, userId, expiresAt: s('expires-at') ?? null });
        // The secret is shown this once, as the admin surface shows it on creation.
        print({ ...token, secret });
        return 0;
      }
      if (verb === 'revoke') {
        print(await core.tokens.delete(SYSTEM_PRINCIPAL, CLI_CONTEXT, intArg(arg, 'the token id')));
        return 0;
      }
      throw new UsageError('tokens: create --name N [--kind admin|personal] [--user ID] [--expires-at T] | revoke ID');
    case 'bans':
      if (verb === 'list') {
        const type = s('type');
        if (type !== undefined && !(BAN_TYPES as readonly string[]).includes(type)) throw new UsageError(`--type must be one of ${BAN_TYPES.join(', ')}`);
        const limit = s('limit') === undefined ? 100 : intArg(s('limit'), '--limit');
        const page = await core.bans.list({ type: type as BanType | undefined, active: boolArg(s('active'), '--active'), limit: Math.min(Math.max(limit, 1), 1000) });
        print(page);
        return 0;
      }
      if (verb === 'create') {
        const type = s('type');
        if (!type || !(BAN_TYPES as readonly string[]).includes(type)) throw new UsageError(`bans create needs --type (${BAN_TYPES.join(', ')}) and --value`);
        if (!s('value')) throw new UsageError('bans create needs --value');
        print(await core.bans.create(SYSTEM_PRINCIPAL, CLI_CONTEXT, { banType: type as BanType, banValue: s('value')!, reason: s('reason') ?? null, expiresAt: s('expires-at') ?? null }));
        return 0;
      }
      if (verb === 'revoke') {
        print(await core.bans.update(SYSTEM_PRINCIPAL, CLI_CONTEXT, intArg(arg, 'the ban id'), { revoked: true, revokedReason: s('reason') ?? null }));
        return 0;
      }
      throw new UsageError('bans: list | create --type T --value V | revoke ID');
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

async function usersCommand(core: Core, verb: string | undefined, arg: string | undefined, v: Values): Promise<number> {
  const s = (k: string) => v[k] as string | undefined;
  const password = async () => (v['password-stdin'] ? await readStdin() : undefined);
  switch (verb) {
    case 'list': {
      const limit = s('limit') === undefined ? 100 : intArg(s('limit'), '--limit');
      const page = await core.users.list({ limit: Math.min(Math.max(limit, 1), 1000), afterId: s('after') === undefined ? undefined : intArg(s('after'), '--after'), q: s('q') });
      print({ items: page.items, next_after: page.nextCursor?.id ?? null });
      return 0;
    }
    case 'get':
      print(await core.users.getUser(intArg(arg, 'the user id')));
      return 0;
    case 'create': {
      const input: NewUser = { email: s('email') ?? null, username: s('username') ?? null, name: s('name') ?? null, password: (await password()) ?? null };
      if (s('root-role') !== undefined) input.rootRoleId = resolveRootRole(s('root-role'), 'root_role');
      if (s('active') !== undefined) input.isActive = boolArg(s('active'), '--active');
      print(await core.users.create(SYSTEM_PRINCIPAL, CLI_CONTEXT, input));
      return 0;
    }
    case 'update': {
      const id = intArg(arg, 'the user id');
      const patch: UserPatch = {};
      if (s('email') !== undefined) patch.email = s('email');
      if (s('username') !== undefined) patch.username = s('username') === '' ? null : s('username');
      if (s('name') !== undefined) patch.name = s('name') === '' ? null : s('name');
      if (s('root-role') !== undefined) patch.rootRoleId = resolveRootRole(s('root-role'), 'root_role');
      if (s('active') !== undefined) patch.isActive = boolArg(s('active'), '--active');
      const pw = await password();
      if (pw !== undefined) patch.password = pw;
      if (isEmptyPatch(patch)) throw emptyPatchError();
      const result = await core.users.update(SYSTEM_PRINCIPAL, CLI_CONTEXT, id, patch, {});
      print({ ...result.user, changed: result.changed, sessions_revoked: result.sessionsRevoked });
      return 0;
    }
    case 'delete':
      print(await core.users.delete(SYSTEM_PRINCIPAL, CLI_CONTEXT, intArg(arg, 'the user id')));
      return 0;
    default:
      throw new UsageError('users: list | get ID | create | update ID | delete ID (gatehouse --help)');
  }
}
