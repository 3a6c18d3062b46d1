// Seed 000's own client examples, run as printed on the page with only the host changed and real cookie and
// CSRF values added (issue 2, item 5): curl, JavaScript (fetch), Python (requests); Go and Ruby when installed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, signIn, type AdminSession } from './helpers/admin.js';
import { baseEnv, hasCommand, ROOT, run } from './helpers/process.js';

// The examples are kept as printed on the page, one file each, in test/fixtures/seed-000/ (the page is the
// admin surface's published "update a user" reference; docs/admin.md describes that contract).
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'seed-000');
const example = (file: string): string => fs.readFileSync(path.join(FIXTURES, file), 'utf8').replace(/\n$/, '');

const CURL = example('curl.sh');
const PYTHON = example('python.py');
const JAVASCRIPT = example('javascript.mjs');
const GO = example('go.go');
const RUBY = example('ruby.rb');
const PAGE_URL = 'https://mail.haltman.io/api/admin/users/123';

// Checked once: the toolchains are not installed for this test.
const HAVE = { python3: await hasCommand('python3'), curl: await hasCommand('curl'), go: await hasCommand('go'), ruby: await hasCommand('ruby') };
const missing = (tool: keyof typeof HAVE) => (HAVE[tool] ? false : `${tool} is not installed on this machine; this test does not install toolchains`);

for (const { engine, skip } of engines()) {
  describe(`seed 000 client examples [${engine}]`, { skip }, () => {
    let s: TestServer;
    let admin: AdminSession;
    let target: { id: number };
    before(async () => {
      s = await startServer(engine);
      admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
    after(async () => s?.close());

    /** A fresh non-self target for each example (the example sends a password, and an admin may not set their own here). */
    async function newTarget() {
      // The examples all set the same email and username: free them from the previous target first.
      if (target) {
        const moved = await http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { email: `moved.${target.id}@example.com`, username: `moved-${target.id}` } });
        assert.equal(moved.status, 200, moved.text);
      }
      target = await createUser(s.url, { password: 'before-example-1' });
      assert.notEqual(target.id, admin.userId);
      return target;
    }

    const url = (id: number) => `${s.url}/api/admin/users/${id}`;

    /** The documented effect of the example body on the target. */
    async function assertApplied(id: number) {
      const got = await http(s.url, `/api/admin/users/${id}`, { token: ADMIN_TOKEN });
      assert.equal(got.status, 200);
      assert.equal(got.body.item.username, 'John Doe');
      assert.equal(got.body.item.email, 'user@example.com');
      assert.equal(got.body.item.is_active, 1);
      assert.equal(got.body.item.is_admin, true);
      const signin = await http(s.url, '/api/auth/sign-in', { body: { identifier: 'user@example.com', password: 'example_string' } });
      assert.equal(signin.status, 200, 'the example password is in force');
    }

    it('curl, with the exact flags plus -b for the __Host-access cookie', { skip: missing('curl') }, async () => {
      const t = await newTarget();
      const command = CURL.replace(PAGE_URL, url(t.id)).replace('YOUR_API_KEY', admin.csrf) +
        ` -b '__Host-access=${admin.access}' -s -w '\\n%{http_code}'`;
      const r = await run('sh', ['-c', command], { env: baseEnv() });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.pop(), '200', r.stdout);
      const body = JSON.parse(lines.join('\n'));
      assert.equal(body.ok, true);
      assert.equal(body.updated, true);
      assert.equal(body.item.id, t.id);
      await assertApplied(t.id);
    });

    it('JavaScript, the fetch code as written plus a Cookie header (Node has no cookie jar)', async () => {
      const t = await newTarget();
      const code = JAVASCRIPT.replace(PAGE_URL, url(t.id)).replace(
        '"X-CSRF-Token": "YOUR_API_KEY"',
        `"X-CSRF-Token": ${JSON.stringify(admin.csrf)},\n"Cookie": ${JSON.stringify(`__Host-access=${admin.access}`)}`,
      );
      assert.notEqual(code, JAVASCRIPT);
      const logged: unknown[] = [];
      const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
      // The snippet runs unchanged in an async function with fetch from this process and a console that records.
      await new AsyncFunction('console', 'fetch', code)({ log: (...xs: unknown[]) => logged.push(...xs) }, fetch);
      assert.equal(logged.length, 1);
      const data = logged[0] as any;
      assert.equal(data.ok, true, JSON.stringify(data));
      assert.equal(data.item.id, t.id);
      await assertApplied(t.id);
    });

    it('Python requests, with a Cookie header', { skip: missing('python3') }, async () => {
      const t = await newTarget();
      const snippet = PYTHON.replace(PAGE_URL, url(t.id)).replace(
        '"X-CSRF-Token": "YOUR_API_KEY"',
        `"X-CSRF-Token": ${JSON.stringify(admin.csrf)},\n"Cookie": ${JSON.stringify(`__Host-access=${admin.access}`)}`,
      );
      // The page writes JSON's `true` inside a Python dict; defining it first makes the snippet runnable as printed.
      const script = `true = True  # the page's snippet uses JSON true in a Python dict\n${snippet}\nprint("STATUS", response.status_code)\n`;
      const r = await run('python3', ['-'], { env: baseEnv(), input: script });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /STATUS 200/);
      assert.match(r.stdout, /'ok': True/);
      assert.match(r.stdout, new RegExp(`'id': ${t.id}\\b`));
      await assertApplied(t.id);
    });

    it('Go net/http, with a Cookie header', { skip: missing('go') }, async () => {
      const t = await newTarget();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-go-'));
      try {
        const program = GO.replace(PAGE_URL, url(t.id)).replace('YOUR_API_KEY', admin.csrf).replace(
          'client := &http.Client{}',
          `req.Header.Set("Cookie", "__Host-access=${admin.access}")\nclient := &http.Client{}`,
        );
        // As printed, the page's program imports encoding/json without using it, which Go refuses to
        // compile; one blank use is appended (nothing else of the program changes).
        fs.writeFileSync(path.join(dir, 'main.go'), `${program}\nvar _ = json.Marshal\n`);
        const r = await run('go', ['run', 'main.go'], { cwd: dir, env: baseEnv({ GOFLAGS: '-mod=mod', GO111MODULE: 'off' }), timeoutMs: 120_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Response Status: 200/);
        await assertApplied(t.id);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('Ruby net/http, with a Cookie header', { skip: missing('ruby') }, async () => {
      const t = await newTarget();
      const program = RUBY.replace(PAGE_URL, url(t.id)).replace('YOUR_API_KEY', admin.csrf)
        // The host changed to plain http: TLS only when the URL says https.
        .replace('http.use_ssl = true', "http.use_ssl = uri.scheme == 'https'")
        .replace("request['X-CSRF-Token']", `request['Cookie'] = '__Host-access=${admin.access}'\nrequest['X-CSRF-Token']`);
      const r = await run('ruby', ['-'], { env: baseEnv(), input: program });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).ok, true);
      await assertApplied(t.id);
    });

    it('the fixtures are the page\'s examples as printed', () => {
      for (const text of [CURL, PYTHON, JAVASCRIPT, GO, RUBY]) {
        assert.ok(text.includes('mail.haltman.io/api/admin/users/123'));
        assert.ok(text.includes('YOUR_API_KEY'));
        assert.ok(text.includes('"is_admin": true'));
      }
    });
  });
}
