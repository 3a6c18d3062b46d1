// The client examples of the bans page (admin surface, test/fixtures/seed-001) and of the directory page's
// curl example (test/fixtures/seed-003), run as printed with only the host and the credentials filled in.
// The bans page's body bans an "email" whose value is `example_string`, which is no mailbox: every client
// gets the admin surface's 400 naming `ban_value`, and nothing is written. The same programs with a real
// mailbox in its place update the ban.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { signIn, type AdminSession } from './helpers/admin.js';
import { addMember, createClient, createRole, createTenant, passwordToken } from './helpers/directory.js';
import { createUser } from './helpers/admin.js';
import { baseEnv, hasCommand, ROOT, run } from './helpers/process.js';

const fixture = (page: string, file: string): string => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', page, file), 'utf8').trimEnd();
const BANS_URL = 'https://mail.haltman.io/api/admin/bans/123';

const HAVE = { curl: await hasCommand('curl'), python3: await hasCommand('python3'), go: await hasCommand('go'), ruby: await hasCommand('ruby') };
const missing = (tool: keyof typeof HAVE) => (HAVE[tool] ? false : `${tool} is not installed on this machine; this test does not install toolchains`);

for (const { engine, skip } of engines()) {
  describe(`seed 001 and 003 client examples [${engine}]`, { skip }, () => {
    let s: TestServer;
    let admin: AdminSession;
    before(async () => {
      s = await startServer(engine);
      admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
    after(async () => s?.close());

    let n = 0;
    async function newBan(): Promise<number> {
      const res = await http(s.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'name', ban_value: `seedban${process.pid}x${++n}` } });
      assert.equal(res.status, 201, res.text);
      return res.body.item.id;
    }

    /** The example program for this ban, with the host, CSRF token and cookie filled in, and optionally a real mailbox. */
    function program(file: string, id: number, mailbox?: string): string {
      let text = fixture('seed-001', file).replace(BANS_URL, `${s.url}/api/admin/bans/${id}`).replace('YOUR_API_KEY', admin.csrf);
      if (mailbox) text = text.replace('"ban_value": "example_string"', `"ban_value": "${mailbox}"`);
      return text;
    }

    async function assertUnchanged(id: number) {
      const got = await http(s.url, `/api/admin/bans/${id}`, { token: ADMIN_TOKEN });
      assert.equal(got.body.item.ban_type, 'name', 'nothing of the refused write landed');
      assert.equal(got.body.item.revoked_at, null);
    }

    async function assertApplied(id: number, mailbox: string) {
      const got = await http(s.url, `/api/admin/bans/${id}`, { token: ADMIN_TOKEN });
      assert.equal(got.body.item.ban_type, 'email');
      assert.equal(got.body.item.ban_value, mailbox);
      assert.equal(got.body.item.reason, 'example_string');
      assert.notEqual(got.body.item.revoked_at, null);
      assert.equal(got.body.item.active, false);
    }

    const cookie = () => `__Host-access=${admin.access}`;

    /** Runs one client; returns the status and the parsed body where the program prints one. */
    async function runClient(kind: string, id: number, mailbox?: string): Promise<{ status: number; body?: any }> {
      if (kind === 'curl') {
        const r = await run('sh', ['-c', `${program('curl.sh', id, mailbox)} -b '${cookie()}' -s -w '\\n%{http_code}'`], { env: baseEnv() });
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split('\n');
        const status = Number(lines.pop());
        return { status, body: JSON.parse(lines.join('\n')) };
      }
      if (kind === 'javascript') {
        const code = program('javascript.mjs', id, mailbox).replace('"X-CSRF-Token": ', `"Cookie": ${JSON.stringify(cookie())},\n"X-CSRF-Token": `);
        const logged: any[] = [];
        let status = 0;
        const recordingFetch = async (...a: Parameters<typeof fetch>) => {
          const res = await fetch(...a);
          status = res.status;
          return res;
        };
        const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
        await new AsyncFunction('console', 'fetch', code)({ log: (...xs: unknown[]) => logged.push(...xs) }, recordingFetch);
        return { status, body: logged[0] };
      }
      if (kind === 'python') {
        const snippet = program('python.py', id, mailbox).replace('"X-CSRF-Token": ', `"Cookie": ${JSON.stringify(cookie())},\n"X-CSRF-Token": `);
        // The page writes JSON's `true` inside a Python dict; defining it first makes the snippet runnable as printed.
        const r = await run('python3', ['-'], { env: baseEnv(), input: `true = True\n${snippet}\nprint("STATUS", response.status_code)\n` });
        assert.equal(r.code, 0, r.stderr);
        return { status: Number(/STATUS (\d+)/.exec(r.stdout)![1]) };
      }
      if (kind === 'go') {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-go-'));
        try {
          const text = program('go.go', id, mailbox).replace('client := &http.Client{}', `req.Header.Set("Cookie", "${cookie()}")\nclient := &http.Client{}`);
          // The page's program imports encoding/json without using it, which Go refuses to compile: one blank use is appended.
          fs.writeFileSync(path.join(dir, 'main.go'), `${text}\nvar _ = json.Marshal\n`);
          const r = await run('go', ['run', 'main.go'], { cwd: dir, env: baseEnv({ GOFLAGS: '-mod=mod', GO111MODULE: 'off' }), timeoutMs: 120_000 });
          assert.equal(r.code, 0, r.stderr);
          return { status: Number(/Response Status: (\d+)/.exec(r.stdout)![1]) };
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
      const text = program('ruby.rb', id, mailbox)
        .replace('http.use_ssl = true', "http.use_ssl = uri.scheme == 'https'")
        .replace("request['X-CSRF-Token']", `request['Cookie'] = '${cookie()}'\nrequest['X-CSRF-Token']`);
      const r = await run('ruby', ['-'], { env: baseEnv(), input: `${text}\nputs "STATUS #{response.code}"\n` });
      assert.equal(r.code, 0, r.stderr);
      const [json, statusLine] = r.stdout.trim().split('\nSTATUS ');
      return { status: Number(statusLine), body: JSON.parse(json) };
    }

    const clients: Array<[string, false | string]> = [
      ['curl', missing('curl')], ['javascript', false], ['python', missing('python3')], ['go', missing('go')], ['ruby', missing('ruby')],
    ];
    for (const [kind, skipReason] of clients) {
      it(`bans page, ${kind}: as printed → 400 naming ban_value, nothing written; with a real mailbox → 200`, { skip: skipReason }, async () => {
        const id = await newBan();
        const bad = await runClient(kind, id);
        assert.equal(bad.status, 400);
        if (bad.body) {
          assert.equal(bad.body.error, 'invalid_params');
          assert.equal(bad.body.field, 'ban_value');
        }
        await assertUnchanged(id);
        const mailbox = `spam.${kind}.${process.pid}@example.com`;
        const ok = await runClient(kind, id, mailbox);
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        if (ok.body) assert.equal(ok.body.item.id, id);
        await assertApplied(id, mailbox);
      });
    }

    it('directory page, curl as printed (id, token and one role of the tenant filled in)', { skip: missing('curl') }, async () => {
      const tenant = await createTenant(s.url);
      const role = await createRole(s.url, tenant.id, 'Staff', ['users.view']);
      const managerRole = await createRole(s.url, tenant.id, 'Manager', ['users.view', 'users.update', 'roles.assign']);
      const client = await createClient(s.url);
      const manager = await createUser(s.url, { password: 'manager-password-1' });
      await addMember(s.url, tenant.id, manager.id, [managerRole.id]);
      const target = await createUser(s.url, { password: 'target-password-1' });
      await addMember(s.url, tenant.id, target.id);
      const token = (await passwordToken(s.url, client, manager.email, 'manager-password-1')).access_token;
      const command = fixture('seed-003', 'curl.sh')
        .replace('https://dev.flextell.ai/api/v1/users/{id}', `${s.url}/api/v1/users/${target.id}`)
        .replace('<token>', token)
        .replace(/"role_ids": \[\s*123\s*\]/, `"role_ids": [${role.id}]`)
        .trimEnd();
      const r = await run('sh', ['-c', `${command} -s -w '\\n%{http_code}' --header 'X-Tenant: ${tenant.id}'`], { env: baseEnv() });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.pop(), '200', r.stdout);
      const body = JSON.parse(lines.join('\n'));
      assert.equal(body.data.id, target.id);
      assert.equal(body.data.email, 'jsmith@example.com');
      assert.deepEqual(body.data.roles.map((x: { id: number }) => x.id), [role.id]);
      // The page's password `<string>` (8 characters, confirmed) is now the target's.
      await passwordToken(s.url, client, 'jsmith@example.com', '<string>');
    });
  });
}
