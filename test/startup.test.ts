// Start-up errors name the variable and the fix, in one line, without a stack trace or a password: the real
// `gatehouse serve` process, its exit code and its output (issue 21).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { engines, freshDatabase, type Database } from './helpers/harness.js';
import { baseEnv, freePort, runGatehouse, spawnGatehouse, waitForOk } from './helpers/process.js';

const PASSWORD = 'hunter2-not-for-logs';

/** The lines of a failed start: exactly one, no stack frame, no password. */
function oneLine(text: string): string {
  const lines = text.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  assert.doesNotMatch(text, /^\s+at /m, 'no stack trace');
  assert.ok(!text.includes(PASSWORD), 'the password never appears');
  return lines[0]!;
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-startup-'));
}

describe('DATABASE_URL with an unsupported scheme', () => {
  for (const [value, got] of [
    [`mysql://gate:${PASSWORD}@db.example:3306/gatehouse`, 'got a mysql:// URL'],
    ['not-a-url', 'got a value that is not a URL'],
  ] as const) {
    it(`${value.split(':')[0]}: refused at configuration, one line naming DATABASE_URL and the accepted forms`, async () => {
      const r = await runGatehouse(['serve'], { env: baseEnv({ DATABASE_URL: value, PORT: String(await freePort()) }) });
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      const line = oneLine(r.stderr);
      assert.match(line, /^configuration error: DATABASE_URL must be a PostgreSQL URL, postgres:\/\/user:password@host:5432\/database or postgresql:\/\/…/);
      assert.ok(line.includes(got), line);
      assert.match(line, /unset DATABASE_URL to use the embedded SQLite store under DATA_DIR/);
    });
  }

  it('postgres:// and postgresql:// (any case) are accepted: migrate reaches the server', async () => {
    // A closed port with no wait: the failure is the connection, not the configuration.
    const port = await freePort();
    for (const scheme of ['postgres', 'PostgreSQL']) {
      const r = await runGatehouse(['migrate'], { env: baseEnv({ DATABASE_URL: `${scheme}://gate@127.0.0.1:${port}/db`, GATEHOUSE_DB_WAIT: '0' }) });
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), /^gatehouse: cannot reach the PostgreSQL server at 127\.0\.0\.1:\d+ \(DATABASE_URL\)/);
    }
  });

  it('GATEHOUSE_DB_WAIT must be a whole number of seconds', async () => {
    const r = await runGatehouse(['serve'], { env: baseEnv({ GATEHOUSE_DB_WAIT: 'soon' }) });
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /^configuration error: GATEHOUSE_DB_WAIT must be an integer between 0 and 3600, got "soon"$/);
  });
});

describe('an unreachable PostgreSQL server', () => {
  it('is retried with backoff for GATEHOUSE_DB_WAIT seconds, each retry logged, then one line naming the host', async () => {
    const port = await freePort(); // nothing listens there
    const started = Date.now();
    const proc = spawnGatehouse(['serve'], baseEnv({
      DATABASE_URL: `postgresql://gate:${PASSWORD}@127.0.0.1:${port}/gatehouse`,
      GATEHOUSE_DB_WAIT: '2',
      PORT: String(await freePort()),
    }));
    // The wait is timed from the first retry line, so the time tsx takes to load the sources is not counted.
    let firstRetry: number | undefined;
    const poll = setInterval(() => {
      if (firstRetry === undefined && proc.out.text.includes('retry 1 ')) firstRetry = Date.now();
    }, 10);
    const exit = await proc.exited;
    clearInterval(poll);
    const ended = Date.now();
    assert.equal(exit.code, 1);
    assert.ok(firstRetry !== undefined, proc.out.text);
    const waited = (ended - firstRetry) / 1000;
    assert.ok(waited >= 1.5 && waited < 4, `waited ${waited} s after the first retry (GATEHOUSE_DB_WAIT=2), ${(ended - started) / 1000} s in all`);
    const lines = proc.out.text.split('\n').filter(Boolean);
    assert.doesNotMatch(proc.out.text, /^\s+at /m, 'no stack trace');
    assert.ok(!proc.out.text.includes(PASSWORD), 'the password never appears');
    const retries = lines.slice(0, -1);
    assert.ok(retries.length >= 3, `backoff from 0.25 s: at least three retries in 2 s, got:\n${proc.out.text}`);
    retries.forEach((line, i) => assert.match(line, new RegExp(`^gatehouse: PostgreSQL at 127\\.0\\.0\\.1:${port} not reachable \\(.*ECONNREFUSED.*\\); retry ${i + 1} in \\d+\\.\\d\\d s \\(GATEHOUSE_DB_WAIT=2\\)$`)));
    // The pauses grow: 0.25 s, 0.5 s, 1 s … (the last one cut at the deadline).
    const pauses = retries.map((l) => Number(/in (\d+\.\d\d) s/.exec(l)![1]));
    assert.deepEqual(pauses.slice(0, 2), [0.25, 0.5]);
    assert.ok(pauses.every((p, i) => i === 0 || p >= pauses[i - 1]! || i === pauses.length - 1), `${pauses}`);
    assert.match(lines.at(-1)!, new RegExp(`^gatehouse: cannot reach the PostgreSQL server at 127\\.0\\.0\\.1:${port} \\(DATABASE_URL\\) after 2 s \\(GATEHOUSE_DB_WAIT\\): .*ECONNREFUSED.*; check that the server runs and DATABASE_URL names it, or wait longer with GATEHOUSE_DB_WAIT$`));
  });

  it('GATEHOUSE_DB_WAIT=0 tries once', async () => {
    const port = await freePort();
    const r = await runGatehouse(['serve'], { env: baseEnv({ DATABASE_URL: `postgresql://gate:${PASSWORD}@127.0.0.1:${port}/gatehouse`, GATEHOUSE_DB_WAIT: '0' }) });
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /after 0 s \(GATEHOUSE_DB_WAIT\)/);
  });
});

const pg = engines().find((e) => e.engine === 'postgres')!;

describe('a PostgreSQL server that becomes reachable during the wait [postgres]', { skip: pg.skip }, () => {
  let db: Database;
  let proxy: net.Server | undefined;
  after(async () => {
    proxy?.close();
    await db?.drop();
  });

  it('is waited for: the server starts once it answers', async () => {
    db = await freshDatabase('postgres');
    const target = new URL(db.env.DATABASE_URL!);
    const proxyPort = await freePort();
    const url = new URL(target);
    url.host = `127.0.0.1:${proxyPort}`;
    const port = await freePort();
    const proc = spawnGatehouse(['serve'], baseEnv({ DATABASE_URL: url.toString(), GATEHOUSE_DB_WAIT: '60', PORT: String(port) }));
    try {
      // The "server" comes up once the first retries are logged: a TCP relay to the real one.
      const deadline = Date.now() + 30_000;
      while (!proc.out.text.includes('retry 2 ')) {
        assert.ok(Date.now() < deadline, `no retries logged:\n${proc.out.text}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      proxy = net.createServer((socket) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      await new Promise<void>((resolve) => proxy!.listen(proxyPort, '127.0.0.1', resolve));
      await waitForOk(`http://127.0.0.1:${port}/healthz`, 60_000);
      assert.match(proc.out.text, /store ready/);
      assert.ok(!proc.out.text.includes('cannot reach'), proc.out.text);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('an error that waiting cannot fix (a missing database) fails at once, naming the host and DATABASE_URL', async () => {
    const url = new URL(process.env.GATEHOUSE_TEST_PG_URL!);
    url.pathname = '/gatehouse_no_such_database';
    url.password = PASSWORD;
    const started = Date.now();
    const r = await runGatehouse(['serve'], { env: baseEnv({ DATABASE_URL: url.toString(), GATEHOUSE_DB_WAIT: '30' }) });
    assert.equal(r.code, 1);
    assert.ok(Date.now() - started < 25_000, 'no 30 s wait');
    assert.match(oneLine(r.stderr), new RegExp(`^gatehouse: cannot use the PostgreSQL server at ${url.hostname.replace(/\./g, '\\.')}:${url.port || 5432} \\(DATABASE_URL\\): .*gatehouse_no_such_database.*; check the user, password and database name in DATABASE_URL$`));
  });
});

describe('DATA_DIR problems name the path', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('a file, not a directory', async () => {
    const dir = tmpDir();
    dirs.push(dir);
    const file = path.join(dir, 'store');
    fs.writeFileSync(file, 'not a directory');
    for (const dataDir of [file, path.join(file, 'below')]) {
      const r = await runGatehouse(['serve'], { env: baseEnv({ DATA_DIR: dataDir }) });
      assert.equal(r.code, 1);
      assert.equal(oneLine(r.stderr), `gatehouse: DATA_DIR ${dataDir} is not a directory (or lies under a file): point DATA_DIR at a directory this user can write, or make this one writable`);
    }
  });

  it('a directory this user cannot write, and one it cannot create', async () => {
    const dir = tmpDir();
    dirs.push(dir);
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked);
    // As root every directory is writable: the server then runs as nobody on a directory root owns.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(locked, 0o555);
    const uid = asNobody.uid ?? process.getuid!();
    const env = baseEnv({ DATA_DIR: locked, TMPDIR: os.tmpdir() });
    const r = await runGatehouse(['serve'], { env, ...asNobody });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(oneLine(r.stderr), `gatehouse: DATA_DIR ${locked} is not writable by this user (uid ${uid}, EACCES): point DATA_DIR at a directory this user can write, or make this one writable`);
    const below = path.join(locked, 'store');
    const r2 = await runGatehouse(['serve'], { env: { ...env, DATA_DIR: below }, ...asNobody });
    assert.equal(r2.code, 1, r2.stderr);
    assert.equal(oneLine(r2.stderr), `gatehouse: DATA_DIR ${below} cannot be created (EACCES): point DATA_DIR at a directory this user can write, or make this one writable`);
  });

  it('a store file SQLite cannot open names the file', async () => {
    const dir = tmpDir();
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'gatehouse.db'), 'this is not an SQLite database, just text long enough to have a header');
    const r = await runGatehouse(['serve'], { env: baseEnv({ DATA_DIR: dir }) });
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), new RegExp(`^gatehouse: cannot open the embedded store ${path.join(dir, 'gatehouse.db').replace(/[.\\/]/g, '\\$&')} \\(DATA_DIR\\): file is not a database \\(SQLITE_NOTADB\\); check that this user can write it and that it is a Gatehouse store, or point DATA_DIR at another directory$`));
  });
});

for (const { engine, skip } of engines()) {
  describe(`starting without an admin [${engine}]`, { skip }, () => {
    let db: Database;
    after(async () => db?.drop());

    it('logs one line saying how to create one; with GATEHOUSE_ADMIN_* set, none', async () => {
      db = await freshDatabase(engine);
      const hint = /no admin exists: create one with `gatehouse create-admin --email you@example.com --password-stdin`, or start with GATEHOUSE_ADMIN_EMAIL and GATEHOUSE_ADMIN_PASSWORD set/;
      const serve = async (extra: Record<string, string>) => {
        const port = await freePort();
        const proc = spawnGatehouse(['serve'], baseEnv({ ...db.env, PORT: String(port), ...extra }));
        try {
          await waitForOk(`http://127.0.0.1:${port}/healthz`, 60_000);
          // The line comes before the listen: it is in the output by now.
          return proc.out.text;
        } finally {
          proc.child.kill('SIGTERM');
          await proc.exited;
        }
      };
      const without = await serve({});
      const hints = without.split('\n').filter((l) => hint.test(l));
      assert.equal(hints.length, 1, without);
      assert.equal(JSON.parse(hints[0]!).level, 40, 'a warning');
      const withAdmin = await serve({ GATEHOUSE_ADMIN_EMAIL: 'first@example.com', GATEHOUSE_ADMIN_PASSWORD: 'first-admin-pass-1' });
      assert.doesNotMatch(withAdmin, hint);
      assert.match(withAdmin, /first admin created/);
      // The admin exists from now on: a later start without the variables says nothing either.
      assert.doesNotMatch(await serve({}), hint);
    });
  });
}
