// The operator commands on single records (issue 21, CLI): users, tokens and bans, acting through the core on
// the store a running server reads; what they change is checked over HTTP. Split from cli.test.ts (export and
// import), so neither file comes near the runner's per-file time limit on a loaded machine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_CONTEXT, SYSTEM_PRINCIPAL } from '../src/core/context.js';
import { ROOT_ROLES } from '../src/core/roles/index.js';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { baseEnv, runGatehouse } from './helpers/process.js';

for (const { engine, skip } of engines()) {
  describe(`gatehouse users / tokens / bans [${engine}]`, { skip }, () => {
    let s: TestServer;
    let env: Record<string, string>;
    let n = 0;
    const email = (tag: string) => `${tag}-${++n}@cli-commands.example.com`;
    const gh = (args: string[], input?: string) => runGatehouse(args, { env, input, timeoutMs: 120_000 });
    const signIn = async (login: string, password: string) => (await http(s.url, '/api/auth/login', { body: { email: login, password } })).status;

    before(async () => {
      s = await startServer(engine);
      env = baseEnv({ ...s.db.env, LOG_LEVEL: 'silent' });
    });
    after(async () => s?.close());

    it('users create / get / update / list / delete act on the store the server reads', async () => {
      const e = email('cliuser');
      const made = await gh(['users', 'create', '--email', e, '--name', 'Cli User', '--root-role', 'viewer', '--password-stdin'], 'cli-user-pass-1\n');
      assert.equal(made.code, 0, made.stderr);
      const user = JSON.parse(made.stdout);
      assert.equal(user.email, e);
      assert.equal(user.rootRoleId, ROOT_ROLES.Viewer);
      assert.ok(!/hash/i.test(made.stdout), 'no hash in the output');
      assert.equal(await signIn(e, 'cli-user-pass-1'), 200);

      const got = await gh(['users', 'get', String(user.id)]);
      assert.equal(JSON.parse(got.stdout).name, 'Cli User');
      const upd = await gh(['users', 'update', String(user.id), '--name', 'Renamed', '--active', 'false']);
      assert.equal(upd.code, 0, upd.stderr);
      const viaHttp = await http(s.url, `/api/admin/users/${user.id}`, { token: ADMIN_TOKEN });
      assert.equal(viaHttp.status, 200, viaHttp.text);
      assert.equal(viaHttp.body.item.name, 'Renamed');
      assert.equal(viaHttp.body.item.is_active, 0);
      assert.notEqual(await signIn(e, 'cli-user-pass-1'), 200, 'a deactivated user cannot sign in');

      const list = await gh(['users', 'list', '--q', 'cliuser', '--limit', '10']);
      assert.ok(JSON.parse(list.stdout).items.some((u: any) => u.id === user.id));

      const dup = await gh(['users', 'create', '--email', e]);
      assert.equal(dup.code, 1);
      assert.equal(JSON.parse(dup.stdout).error.kind, 'conflict');
      const bad = await gh(['users', 'get', 'abc']);
      assert.equal(bad.code, 2);

      const del = await gh(['users', 'delete', String(user.id)]);
      assert.equal(del.code, 0, del.stderr);
      assert.equal((await http(s.url, `/api/admin/users/${user.id}`, { token: ADMIN_TOKEN })).status, 404);
      const missing = await gh(['users', 'get', String(user.id)]);
      assert.equal(missing.code, 1);
      assert.equal(JSON.parse(missing.stdout).error.kind, 'not_found');
    });

    it('tokens create / revoke: the secret works over HTTP until revoked', async () => {
      const made = await gh(['tokens', 'create', '--name', 'cli token']);
      assert.equal(made.code, 0, made.stderr);
      const token = JSON.parse(made.stdout);
      assert.match(token.secret, /^gha_/);
      assert.equal((await http(s.url, '/api/admin/users', { token: token.secret })).status, 200);
      const revoked = await gh(['tokens', 'revoke', String(token.id)]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.ok(!revoked.stdout.includes(token.secret));
      assert.equal((await http(s.url, '/api/admin/users', { token: token.secret })).status, 401);
      assert.equal((await gh(['tokens', 'revoke', String(token.id)])).code, 1, 'revoking twice: not found');
    });

    it('bans create / list / revoke: a banned email cannot sign in until the ban is revoked', async () => {
      const e = email('banned');
      await s.core.users.create(SYSTEM_PRINCIPAL, SYSTEM_CONTEXT, { email: e, password: 'banned-pass-1' });
      assert.equal(await signIn(e, 'banned-pass-1'), 200);
      const made = await gh(['bans', 'create', '--type', 'email', '--value', e, '--reason', 'cli test']);
      assert.equal(made.code, 0, made.stderr);
      const ban = JSON.parse(made.stdout).ban;
      assert.equal(ban.banValue, e);
      assert.equal(await signIn(e, 'banned-pass-1'), 403);
      const list = await gh(['bans', 'list', '--type', 'email', '--active', 'true']);
      assert.ok(JSON.parse(list.stdout).items.some((b: any) => b.id === ban.id));
      const rev = await gh(['bans', 'revoke', String(ban.id), '--reason', 'done']);
      assert.equal(rev.code, 0, rev.stderr);
      assert.ok(JSON.parse(rev.stdout).ban.revokedAt);
      assert.equal(await signIn(e, 'banned-pass-1'), 200);
      assert.equal((await gh(['bans', 'create', '--type', 'planet', '--value', 'x'])).code, 2);
    });
  });
}
