// Operations (issue 2, item 6): health and readiness, OpenAPI 3.1 and /docs, request ids, the gatehouse
// command (--help, migrate, create-admin) as real processes, graceful shutdown on SIGTERM, and logs that
// never carry a password, cookie or token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONFIG_VARIABLES } from '../src/platform/config.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, freshDatabase, startServer, type Database, type TestServer } from './helpers/harness.js';
import { cookieHeader, http } from './helpers/http.js';
import { signIn } from './helpers/admin.js';
import { baseEnv, freePort, runGatehouse, spawnGatehouse, waitForOk } from './helpers/process.js';

describe('gatehouse --help', () => {
  it('lists every configuration variable and the commands', async () => {
    const r = await runGatehouse(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const v of CONFIG_VARIABLES) assert.ok(r.stdout.includes(v.name), `--help lists ${v.name}`);
    for (const cmd of ['serve', 'migrate', 'create-admin']) assert.ok(r.stdout.includes(cmd), `--help lists ${cmd}`);
  });
});

for (const { engine, skip } of engines()) {
  describe(`ops endpoints [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('/healthz and /readyz answer 200', async () => {
      const h = await http(s.url, '/healthz');
      assert.equal(h.status, 200);
      assert.equal(h.body.status, 'ok');
      const r = await http(s.url, '/readyz');
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'ok');
      assert.equal(r.body.store, engine);
    });

    it('/openapi.json is OpenAPI 3.1 and documents PATCH /api/admin/users/{id} with its request schema', async () => {
      const r = await http(s.url, '/openapi.json');
      assert.equal(r.status, 200);
      const doc = r.body;
      assert.match(doc.openapi, /^3\.1\./);
      assert.ok(doc.info?.title);
      const op = doc.paths?.['/api/admin/users/{id}']?.patch;
      assert.ok(op, 'PATCH /api/admin/users/{id} is listed');
      const idParam = op.parameters.find((p: any) => p.name === 'id' && p.in === 'path');
      assert.ok(idParam?.required);
      assert.equal(idParam.schema.type, 'integer');
      let schema = op.requestBody?.content?.['application/json']?.schema;
      if (schema?.$ref) schema = doc.components.schemas[schema.$ref.split('/').pop()];
      assert.ok(schema?.properties, 'the request body schema is there');
      assert.equal(schema.properties.username.minLength, 1);
      assert.equal(schema.properties.username.maxLength, 64);
      assert.equal(schema.properties.password.minLength, 8);
      assert.equal(schema.properties.password.maxLength, 128);
      assert.ok(schema.properties.email);
      assert.ok(schema.properties.is_active);
      assert.ok(schema.properties.is_admin);
      assert.ok(op.responses['200'], 'the 200 response is documented');
      for (const path of ['/api/auth/sign-in', '/api/admin/users', '/api/admin/api-tokens']) assert.ok(doc.paths[path], `${path} is listed`);
      // Secrets never appear as response fields.
      assert.ok(!/password_hash|token_hash/.test(JSON.stringify(doc)));
    });

    it('when the store goes away: /readyz 503, /healthz 200, requests 503 with Retry-After in the documented shape without internals', async () => {
      const t = await startServer(engine);
      try {
        await t.store.db.destroy();
        const ready = await http(t.url, '/readyz');
        assert.equal(ready.status, 503);
        assert.equal(ready.body.status, 'unavailable');
        assert.equal((await http(t.url, '/healthz')).status, 200, 'liveness does not depend on the store');
        // A closed store is the store being unavailable (as when the node shuts down under a running request):
        // 503, to be retried, never a 500.
        const res = await http(t.url, '/api/admin/users', { token: ADMIN_TOKEN });
        assert.equal(res.status, 503, res.text);
        assert.equal(res.headers.get('retry-after'), '1');
        assert.deepEqual(Object.keys(res.body).sort(), ['code', 'error', 'message']);
        assert.equal(res.body.error, 'service_unavailable');
        assert.ok(!/select|sqlite|postgres|destroyed|\.ts:|at /i.test(res.text), `no internals: ${res.text}`);
        const signin = await http(t.url, '/api/auth/sign-in', { body: { identifier: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
        assert.equal(signin.status, 503, signin.text);
        assert.equal(signin.body.error, 'service_unavailable');
      } finally {
        await t.app.close();
        await t.db.drop();
      }
    });

    it('/docs serves an HTML API reference', async () => {
      const res = await fetch(`${s.url}/docs`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await res.text(), /<html/i);
    });

    it('echoes a request id in x-request-id, honouring a sane client-sent one', async () => {
      const a = await http(s.url, '/healthz');
      const b = await http(s.url, '/healthz');
      const idA = a.headers.get('x-request-id');
      assert.ok(idA && idA.length >= 8);
      assert.notEqual(idA, b.headers.get('x-request-id'));
      const mine = await http(s.url, '/healthz', { headers: { 'x-request-id': 'client-req-123' } });
      assert.equal(mine.headers.get('x-request-id'), 'client-req-123');
      // Errors carry it too, and the audit event of a change records it.
      const err = await http(s.url, '/api/admin/users/abc', { headers: { 'x-request-id': 'client-err-1' } });
      assert.equal(err.headers.get('x-request-id'), 'client-err-1');
      const bad = await http(s.url, '/api/admin/users/%ff', { token: ADMIN_TOKEN, headers: { 'x-request-id': 'client-bad-url' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.headers.get('x-request-id'), 'client-bad-url');
      // Ids that could forge log lines or are too long are replaced.
      for (const evil of ['has space', 'x'.repeat(200), 'a"b', 'line\\nbreak']) {
        const r = await http(s.url, '/healthz', { headers: { 'x-request-id': evil } });
        const got = r.headers.get('x-request-id');
        assert.ok(got && got !== evil, `replaced: ${evil.slice(0, 20)}`);
      }
      const made = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, headers: { 'x-request-id': 'client-create-1' }, body: { email: 'reqid@example.com', password: 'password-123' } });
      assert.equal(made.status, 201);
      const ev = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${made.body.item.id}&action=user.created`, { token: ADMIN_TOKEN });
      assert.equal(ev.body.items[0].request_id, 'client-create-1');
    });
  });

  describe(`gatehouse commands [${engine}]`, { skip }, () => {
    let db: Database;
    let env: Record<string, string>;
    before(async () => {
      db = await freshDatabase(engine);
      env = baseEnv({ ...db.env, LOG_LEVEL: 'silent' });
    });
    after(async () => db?.drop());

    it('migrate applies the migrations once, then says up to date', async () => {
      // On PostgreSQL several nodes may migrate at once: two processes race on the fresh database.
      const racers = engine === 'postgres' ? 2 : 1;
      const first = await Promise.all(Array.from({ length: racers }, () => runGatehouse(['migrate'], { env })));
      for (const r of first) assert.equal(r.code, 0, r.stderr);
      assert.equal(first.filter((r) => /^applied: .*0001_core/m.test(r.stdout)).length, 1, first.map((r) => r.stdout).join(' | '));
      const again = await runGatehouse(['migrate'], { env });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /up to date/);
    });

    it('create-admin creates an admin who can sign in; a duplicate or a missing argument fails cleanly', async () => {
      const made = await runGatehouse(['create-admin', '--email', 'Cli.Admin@Example.com', '--username', 'cli-admin', '--password-stdin'], { env, input: 'cli-admin-pass-1\n' });
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /created admin cli\.admin@example\.com \(id \d+\)/);
      assert.ok(!made.stdout.includes('cli-admin-pass-1') && !made.stderr.includes('cli-admin-pass-1'));
      // Each spawn costs about a second of CPU (tsx), so the engine-independent cases run on SQLite only.
      if (engine === 'sqlite') {
        // --help: "the password comes from GATEHOUSE_ADMIN_PASSWORD or, with --password-stdin, standard input".
        const fromEnv = await runGatehouse(['create-admin', '--email', 'env.admin@example.com'], { env: { ...env, GATEHOUSE_ADMIN_PASSWORD: 'env-admin-pass-1' } });
        assert.equal(fromEnv.code, 0, fromEnv.stderr);
        assert.match(fromEnv.stdout, /created admin env\.admin@example\.com/);
        const dup = await runGatehouse(['create-admin', '--email', 'cli.admin@example.com', '--password-stdin'], { env, input: 'another-pass-1' });
        assert.equal(dup.code, 1);
        assert.match(dup.stderr, /cannot create admin: .*email/);
        assert.ok(!/at .+\.ts:\d+/.test(dup.stderr), 'no stack trace');
        const noEmail = await runGatehouse(['create-admin', '--password-stdin'], { env, input: 'x-pass-123' });
        assert.equal(noEmail.code, 2);
        assert.match(noEmail.stderr, /--email/);
      }

      // The admin made by the command signs in on a server over the same store.
      const srv = await startServer(engine, { db, env: { GATEHOUSE_ADMIN_EMAIL: '', GATEHOUSE_ADMIN_PASSWORD: '' } });
      try {
        if (engine === 'sqlite') await signIn(srv.url, 'env.admin@example.com', 'env-admin-pass-1');
        const a = await signIn(srv.url, 'cli-admin', 'cli-admin-pass-1');
        const me = await http(srv.url, '/api/auth/session', { cookie: a.cookie });
        assert.equal(me.body.user.is_admin, true);
        assert.equal(me.body.user.root_role, 'Owner');
      } finally {
        await srv.close();
      }
    });
  });

  describe(`gatehouse serve as a process [${engine}]`, { skip }, () => {
    let db: Database;
    let proc: ReturnType<typeof spawnGatehouse>;
    let base: string;
    before(async () => {
      db = await freshDatabase(engine);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      proc = spawnGatehouse(['serve'], baseEnv({
        ...db.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'trace',
        GATEHOUSE_ADMIN_EMAIL: ADMIN_EMAIL, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        GATEHOUSE_INIT_API_TOKEN: ADMIN_TOKEN, GATEHOUSE_HASH_CONCURRENCY: '1', GATEHOUSE_SQLITE_SYNCHRONOUS: 'NORMAL',
      }));
      await waitForOk(`${base}/readyz`);
    });
    after(async () => {
      if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
      await db?.drop();
    });

    it('logs structured lines with the request id and never a password, cookie or token', async () => {
      const secrets: string[] = [ADMIN_PASSWORD, ADMIN_TOKEN];
      const a = await signIn(base, ADMIN_EMAIL, ADMIN_PASSWORD);
      secrets.push(a.access, a.refresh, a.csrf);
      const user = await http(base, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: 'logged@example.com', password: 'Created-Pass-Secret-1' } });
      assert.equal(user.status, 201);
      secrets.push('Created-Pass-Secret-1');
      const patched = await http(base, `/api/admin/users/${user.body.item.id}`, {
        method: 'PATCH', cookie: a.cookie, headers: { 'x-csrf-token': a.csrf, 'x-request-id': 'log-check-patch' }, body: { password: 'Patched-Pass-Secret-2' },
      });
      assert.equal(patched.status, 200, patched.text);
      secrets.push('Patched-Pass-Secret-2');
      const tok = await http(base, '/api/admin/api-tokens', { token: ADMIN_TOKEN, body: { name: 'log-check' } });
      assert.equal(tok.status, 201);
      secrets.push(tok.body.token);
      assert.equal((await http(base, '/api/admin/users', { token: tok.body.token })).status, 200);
      const refreshed = await http(base, '/api/auth/refresh', { method: 'POST', cookie: a.cookie, headers: { 'x-csrf-token': a.csrf } });
      assert.equal(refreshed.status, 200);
      secrets.push(refreshed.cookies['__Host-access'], refreshed.cookies['__Host-refresh']);
      // A failed sign-in and a refresh-token reuse (which logs a warning) with their secrets.
      assert.equal((await http(base, '/api/auth/sign-in', { body: { identifier: ADMIN_EMAIL, password: 'Wrong-Pass-Secret-3' } })).status, 401);
      secrets.push('Wrong-Pass-Secret-3');
      assert.equal((await http(base, '/api/auth/refresh', { method: 'POST', cookie: cookieHeader({ '__Host-refresh': a.refresh }) })).status, 401);
      await new Promise((r) => setTimeout(r, 100)); // let the log lines flush

      const text = proc.out.text;
      const lines = text.split('\n').filter(Boolean);
      assert.ok(lines.length > 10, 'the server logs');
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `a JSON log line: ${line.slice(0, 200)}`);
      assert.ok(lines.some((l) => l.includes('"reqId":"log-check-patch"')), 'request lines carry the request id');
      for (const secret of secrets) {
        assert.ok(secret && secret.length >= 8);
        assert.ok(!text.includes(secret), `the log contains a secret (${secret.slice(0, 6)}…)`);
      }
      assert.ok(!/\$argon2/.test(text), 'no password hash in the log');
      assert.ok(!/authorization|"cookie"|set-cookie|x-csrf-token/i.test(text), 'no credential headers in the log');
    });

    it('shuts down gracefully on SIGTERM: in-flight requests finish, then the process exits 0', async () => {
      const before = proc.out.text.length;
      // Sign-ins hash one at a time here (GATEHOUSE_HASH_CONCURRENCY=1), so these stay in flight for a while.
      const inflight = Array.from({ length: 6 }, (_, i) =>
        http(base, '/api/auth/sign-in', { headers: { 'x-request-id': `inflight-${i}` }, body: { identifier: ADMIN_EMAIL, password: ADMIN_PASSWORD } }));
      const deadline = Date.now() + 5000;
      while ((proc.out.text.slice(before).match(/"reqId":"inflight-\d"[^\n]*incoming request/g) ?? []).length < 6) {
        if (Date.now() > deadline) throw new Error('the requests were not received');
        await new Promise((r) => setTimeout(r, 2));
      }
      proc.child.kill('SIGTERM');
      const results = await Promise.all(inflight);
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
      const exit = await Promise.race([proc.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
      assert.notEqual(exit, 'timeout', 'the process exits');
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.match(proc.out.text, /shutting down/);
      await assert.rejects(fetch(`${base}/healthz`), 'nothing listens any more');
    });
  });
}
