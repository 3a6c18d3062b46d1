// gatehouse import --existing update and the credential policy (a replaced password hash ends the sessions),
// the streamed Keycloak reader, and a CLI command left waiting on something that never comes (exit 3, not 0
// in silence). Split from cli.test.ts, whose two engines already take most of a file's time budget on a
// loaded machine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { SYSTEM_CONTEXT, SYSTEM_PRINCIPAL } from '../src/core/context.js';
import { engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { baseEnv, runGatehouse } from './helpers/process.js';

function lines(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

function results(stdout: string): { rows: any[]; summary: any } {
  const all = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const last = all.pop();
  assert.ok(last?.summary, `the last line is the summary: ${stdout.slice(-300)}`);
  return { rows: all, summary: last.summary };
}

for (const { engine, skip } of engines()) {
  describe(`gatehouse import --existing update, Keycloak streamed, unfinished commands [${engine}]`, { skip }, () => {
    let s: TestServer;
    let env: Record<string, string>;
    let n = 0;
    const email = (tag: string) => `${tag}-${++n}@cli-update.example.com`;
    const gh = (args: string[], input?: string) => runGatehouse(args, { env, input, timeoutMs: 120_000 });
    const signIn = async (login: string, password: string) => (await http(s.url, '/api/auth/login', { body: { email: login, password } })).status;

    before(async () => {
      s = await startServer(engine);
      env = baseEnv({ ...s.db.env, LOG_LEVEL: 'silent' });
    });
    after(async () => s?.close());

    it('import --existing update replaces the password hash: the imported password signs in, the old one no longer does, and the sessions end', async () => {
      const e = email('rehash');
      await s.core.users.create(SYSTEM_PRINCIPAL, SYSTEM_CONTEXT, { email: e, password: 'old-password-1' });
      const login = await http(s.url, '/api/auth/login', { body: { email: e, password: 'old-password-1' } });
      assert.equal(login.status, 200, login.text);
      const cookie = `neptun-session=${login.cookies['neptun-session']}`;
      assert.equal((await http(s.url, '/api/auth/check', { method: 'HEAD', cookie })).status, 200);

      const row = { email: e, name: 'Re Hashed', password_hash: bcrypt.hashSync('imported-password-1', 4) };
      const upd = await gh(['import', '--existing', 'update'], lines([row]));
      assert.equal(upd.code, 0, upd.stdout + upd.stderr);
      const r = results(upd.stdout).rows[0];
      assert.equal(r.status, 'updated', upd.stdout);
      assert.ok(r.changed.includes('password_hash'), upd.stdout);
      assert.ok(!upd.stdout.includes('$2'), 'no hash in the report');
      assert.equal((await http(s.url, '/api/auth/check', { method: 'HEAD', cookie })).status, 401, 'a password change ends the sessions');
      assert.equal(await signIn(e, 'old-password-1'), 401);
      assert.equal(await signIn(e, 'imported-password-1'), 200);
      const audit = await s.store.db.selectFrom('audit_events').select(['after_data']).where('action', '=', 'user.updated').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      assert.match(audit.after_data!, /"changed":\[[^\]]*"password"/);
      assert.doesNotMatch(audit.after_data!, /\$2[aby]\$/, 'no hash in the audit event');

      // A row without a hash leaves the hash alone.
      const keep = await gh(['import', '--existing', 'update'], lines([{ email: e, name: 'Kept Hash' }]));
      assert.equal(results(keep.stdout).rows[0].status, 'updated', keep.stdout);
      assert.ok(!results(keep.stdout).rows[0].changed.includes('password_hash'));
      assert.equal(await signIn(e, 'imported-password-1'), 200);
    });

    it('a Keycloak input is streamed: a realm export with users between other keys, a list, users one after another; a document that breaks off ends with an unreadable row', async () => {
      const user = (tag: string) => ({ id: `kc-${tag}`, username: `kc-${tag}-${engine}`, email: email(`kc-${tag}`), enabled: true });
      const realm = `{"id":"r","realm":"stream","roles":{"realm":[{"name":"x"}]},"users":[${JSON.stringify(user('a'))},${JSON.stringify({ ...user('svc'), serviceAccountClientId: 'c' })},${JSON.stringify(user('b'))}],"clients":[{"id":"c","users":[1,2]}]}`;
      const r1 = await gh(['import', '--format', 'keycloak', '--dry-run'], realm);
      assert.equal(r1.code, 0, r1.stdout + r1.stderr);
      assert.deepEqual(results(r1.stdout).rows.map((r) => [r.source, r.status, r.source_id]), [[1, 'created', 'kc-a'], [2, 'skipped', 'kc-svc'], [3, 'created', 'kc-b']]);
      const r2 = await gh(['import', '--format', 'keycloak', '--dry-run'], JSON.stringify([user('c'), user('d')]));
      assert.deepEqual(results(r2.stdout).rows.map((r) => r.status), ['created', 'created'], r2.stdout);
      const r3 = await gh(['import', '--format', 'keycloak', '--dry-run'], lines([user('e'), user('f')]));
      assert.deepEqual(results(r3.stdout).rows.map((r) => r.status), ['created', 'created'], r3.stdout);
      const broken = await gh(['import', '--format', 'keycloak'], `{"realm":"cut","users":[${JSON.stringify(user('g'))},{"username":"kc-h`);
      assert.equal(broken.code, 1, broken.stdout + broken.stderr);
      const b = results(broken.stdout);
      assert.deepEqual(b.rows.map((r) => [r.source, r.status, r.reason ?? null]), [[1, 'created', null], [2, 'error', 'unreadable']]);
      assert.equal(b.summary.created, 1, 'the users before the break are imported');
    });

    it('a command left waiting on something that never comes exits 3 with a message, not 0 in silence', async () => {
      // Standard output that reports a full buffer and never drains: the import waits for 'drain' with nothing
      // else left to run, the case in which node would end the process with code 0 and no word.
      const stuck = await runGatehouse(['import'], {
        env: { ...env, NODE_OPTIONS: '--import=data:text/javascript,process.stdout.write=()=>false' },
        input: lines([{ email: email('stuck') }]),
        timeoutMs: 60_000,
      });
      assert.equal(stuck.code, 3, stuck.stderr);
      assert.match(stuck.stderr, /gatehouse import: stopped before it finished/);
    });
  });
}
