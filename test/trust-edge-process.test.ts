// Platform edge, as real processes (issue 16, findings 4, 5 and 7): secret query parameters never reach the
// request log; one server per DATA_DIR (a second refuses to start, naming the first; a lock left by a killed
// process is no lock); GATEHOUSE_TRUST_PROXY=true is refused at start, saying why.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, freshDatabase, type Database } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { baseEnv, freePort, runGatehouse, spawnGatehouse, waitForOk } from './helpers/process.js';
import { ConfigError, parseConfig } from '../src/platform/config.js';

const STRONG = 'Str0ng-pass!word';

function serverEnv(db: Database, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return baseEnv({
    ...db.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info',
    GATEHOUSE_ADMIN_EMAIL: ADMIN_EMAIL, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD, GATEHOUSE_INIT_API_TOKEN: ADMIN_TOKEN,
    GATEHOUSE_HASH_CONCURRENCY: '1', GATEHOUSE_SQLITE_SYNCHRONOUS: 'NORMAL', ...extra,
  });
}

async function stop(proc: ReturnType<typeof spawnGatehouse> | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill(signal);
    await proc.exited;
  }
}

/** A raw request with a Host header of our choosing (fetch will not send one). */
function withHost(base: string, pathname: string, host: string, body: unknown, auth: string): Promise<{ status: number; body: any }> {
  const url = new URL(base + pathname);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
      headers: { host, authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

for (const { engine, skip } of engines()) {
  describe(`request logs and links [${engine}]`, { skip }, () => {
    let db: Database;
    let proc: ReturnType<typeof spawnGatehouse>;
    let base: string;
    before(async () => {
      db = await freshDatabase(engine);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      proc = spawnGatehouse(['serve'], serverEnv(db, port, { GATEHOUSE_PUBLIC_URL: 'https://id.example.com/' }));
      await waitForOk(`${base}/readyz`);
    });
    after(async () => {
      await stop(proc);
      await db?.drop();
    });

    it('an invite link comes from GATEHOUSE_PUBLIC_URL whatever Host says, and its token never reaches the request log', async () => {
      const made = await withHost(base, '/api/admin/user-admin', 'evil.example', { email: 'invited@example.com', rootRole: 'Viewer' }, ADMIN_TOKEN);
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const link = new URL(made.body.inviteLink);
      assert.equal(link.origin, 'https://id.example.com', made.body.inviteLink);
      const token = link.searchParams.get('token')!;
      assert.ok(token && token.length > 16);

      const validated = await http(base, `/auth/reset/validate?token=${encodeURIComponent(token)}&lang=en`, { headers: { 'x-request-id': 'invite-log-check' } });
      assert.equal(validated.status, 200, validated.text);
      // Other secret parameters, spelled as clients spell them.
      const others = ['code=oauth-code-secret-1', 'access_token=access-secret-2', 'refresh_token=refresh-secret-3', 'password=pw-secret-4', 'client_secret=client-secret-5', 'api%5Fkey=key-secret-6'];
      await http(base, `/auth/reset/validate?${others.join('&')}`);
      // Pino writes asynchronously: give the lines a moment to arrive.
      await new Promise((r) => setTimeout(r, 300));
      const log = proc.out.text;
      const line = log.split('\n').find((l) => l.includes('invite-log-check') && l.includes('"url"'));
      assert.ok(line, `the request was logged:\n${log.slice(-2000)}`);
      assert.match(line!, /\/auth\/reset\/validate\?token=\[REDACTED\]&lang=en/);
      assert.ok(!log.includes(token), 'the invite token is not in the log');
      for (const secret of ['oauth-code-secret-1', 'access-secret-2', 'refresh-secret-3', 'pw-secret-4', 'client-secret-5', 'key-secret-6']) {
        assert.ok(!log.includes(secret), `${secret} is not in the log`);
      }
    });
  });
}

describe('one server per DATA_DIR', () => {
  let dir: string;
  const procs: Array<ReturnType<typeof spawnGatehouse>> = [];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-lock-'));
  });
  after(async () => {
    for (const p of procs) await stop(p);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a second process on the same DATA_DIR refuses to start and names the first; a killed holder leaves no lock', async () => {
    const db: Database = { engine: 'sqlite', env: { DATA_DIR: dir }, drop: async () => {} };
    const port1 = await freePort();
    const first = spawnGatehouse(['serve'], serverEnv(db, port1));
    procs.push(first);
    await waitForOk(`http://127.0.0.1:${port1}/readyz`);

    const port2 = await freePort();
    const second = spawnGatehouse(['serve'], serverEnv(db, port2));
    procs.push(second);
    const exit = await Promise.race([second.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 15_000))]);
    assert.notEqual(exit, 'running', 'the second server must not start');
    assert.notEqual((exit as { code: number | null }).code, 0);
    assert.match(second.out.text, new RegExp(`DATA_DIR .* is in use by process ${first.child.pid}\\b`), second.out.text);
    // The first one still serves, alone.
    assert.equal((await http(`http://127.0.0.1:${port1}`, '/api/admin/users?limit=1', { token: ADMIN_TOKEN })).status, 200);

    // kill -9: no chance to clean up. The pid file stays behind, naming a dead process; the lock went with it.
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(fs.existsSync(path.join(dir, 'gatehouse.pid')), 'the dead holder left its pid file');
    const port3 = await freePort();
    const third = spawnGatehouse(['serve'], serverEnv(db, port3));
    procs.push(third);
    await waitForOk(`http://127.0.0.1:${port3}/readyz`);
    assert.equal((await http(`http://127.0.0.1:${port3}`, '/api/admin/users?limit=1', { token: ADMIN_TOKEN })).status, 200);
    // A clean stop gives the store back: the next start needs no cleanup.
    await stop(third, 'SIGTERM');
    const port4 = await freePort();
    const fourth = spawnGatehouse(['serve'], serverEnv(db, port4));
    procs.push(fourth);
    await waitForOk(`http://127.0.0.1:${port4}/readyz`);
  });
});

describe('several servers on one PostgreSQL database', { skip: engines()[1].skip }, () => {
  it('all start: the DATA_DIR lock is the embedded store\'s alone', async () => {
    const db = await freshDatabase('postgres');
    const procs: Array<ReturnType<typeof spawnGatehouse>> = [];
    try {
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        // Both also share a DATA_DIR, which PostgreSQL servers do not use.
        procs.push(spawnGatehouse(['serve'], serverEnv(db, port, { DATA_DIR: path.join(os.tmpdir(), 'gatehouse-shared-unused') })));
        await waitForOk(`http://127.0.0.1:${port}/readyz`);
      }
    } finally {
      for (const p of procs) await stop(p);
      await db.drop();
    }
  });
});

describe('GATEHOUSE_TRUST_PROXY at start', () => {
  it('refuses a bare true, saying why; takes a hop count or addresses/CIDRs', async () => {
    const r = await runGatehouse(['serve'], { env: baseEnv({ GATEHOUSE_TRUST_PROXY: 'true', DATA_DIR: path.join(os.tmpdir(), 'gatehouse-unused') }) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /GATEHOUSE_TRUST_PROXY=true is refused: .*any client could name its own address/);
    for (const value of ['TRUE', 'yes', 'on']) assert.throws(() => parseConfig({ GATEHOUSE_TRUST_PROXY: value }), /GATEHOUSE_TRUST_PROXY=true is refused/);
    for (const value of ['10.0.0.0/33', 'proxy.example', '1.2.3.4/8/1', '33']) assert.throws(() => parseConfig({ GATEHOUSE_TRUST_PROXY: value }), ConfigError, value);
    assert.equal(parseConfig({ GATEHOUSE_TRUST_PROXY: '2' }).trustProxy, 2);
    assert.equal(parseConfig({ GATEHOUSE_TRUST_PROXY: 'false' }).trustProxy, false);
    assert.deepEqual(parseConfig({ GATEHOUSE_TRUST_PROXY: '10.0.0.5, 192.168.0.0/16,::1' }).trustProxy, ['10.0.0.5', '192.168.0.0/16', '::1']);
  });
});
