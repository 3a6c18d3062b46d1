// Seed 002: PATCH /api/users/{user_id} (and GET, self only) over real HTTP, on each engine: the page's
// client examples as written, h3 errors with Zod v3 issues, session refresh on email/password change.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http, parseSetCookies, type Res } from './helpers/http.js';
import { createUser, signIn, uniqueEmail } from './helpers/admin.js';
import { assertH3, logIn, SESSION_COOKIE, signUp, UPDATE_BODY_MESSAGE, withToken, type AccountSession } from './account-helpers.js';

const run = promisify(execFile);
const HAS_CURL = spawnSync('curl', ['--version']).status === 0;
// The first Python on this machine that has httpx (Debian's python3-httpx installs it for /usr/bin/python3).
const PYTHON_WITH_HTTPX = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import httpx']).status === 0);
const HAS_HTTPX = PYTHON_WITH_HTTPX !== undefined;

const INVALID_EMAIL = { code: 'invalid_string', validation: 'email', message: 'Invalid email', path: ['email'] };
const SHORT_PASSWORD = {
  code: 'too_small', validation: 'min', minimum: 8, type: 'string', inclusive: true, exact: false,
  message: 'String must contain at least 8 character(s)', path: ['password'],
};
const wrongType = (field: string, received: string) => ({
  code: 'invalid_type', validation: 'type', expected: 'string', received, path: [field], message: `Expected string, received ${received}`,
});

/** The page's cURL example, with the host, cookie and id filled in. */
async function curlExample(base: string, cookie: string, userId: string | number, data = '{"email":"newemail@example.com"}'): Promise<Res> {
  const { stdout } = await run('curl', [
    '-s', '-D', '-',
    '-X', 'PATCH',
    '-H', 'Content-Type: application/json',
    '-H', `Cookie: neptun-session=${cookie}`,
    '-d', data,
    `${base}/api/users/${userId}`,
  ]);
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split).split('\r\n');
  const text = stdout.slice(split + 4);
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return { status: Number(head[0].split(' ')[1]), headers, text, body: text ? JSON.parse(text) : undefined, cookies: parseSetCookies(headers) };
}

/** The page's TypeScript example, as written but for the host. */
interface UpdateUserRequest { email?: string; password?: string }
interface UpdateUserResponse { user: { id: number; primary_email: string } }
function pageUpdateUser(host: string) {
  return async function updateUser(userId: number, data: UpdateUserRequest, sessionCookie: string): Promise<UpdateUserResponse> {
    const response = await fetch(
      `${host}/api/users/${userId}`,
      {
        method: 'PATCH',
        headers: {
          'Content-Type': 'application/json',
          'Cookie': `neptun-session=${sessionCookie}`,
        },
        body: JSON.stringify(data),
      },
    );
    if (!response.ok) {
      throw new Error(`HTTP error! status: ${response.status}`);
    }
    return await response.json();
  };
}

/** The page's Python example (httpx), as written but for the host; run only when httpx is installed. */
const PYTHON_EXAMPLE = `
import asyncio, json, sys
import httpx
from typing import Optional

async def update_user(user_id: int, email: Optional[str] = None, password: Optional[str] = None, session_cookie: str = None):
    url = f"${'{HOST}'}/api/users/{user_id}"
    data = {}
    if email is not None:
        data["email"] = email
    if password is not None:
        data["password"] = password
    async with httpx.AsyncClient() as client:
        response = await client.patch(
            url,
            json=data,
            headers={
                "Content-Type": "application/json",
                "Cookie": f"neptun-session={session_cookie}"
            }
        )
        response.raise_for_status()
        return response.json(), response.cookies.get("neptun-session")

body, cookie = asyncio.run(update_user(int(sys.argv[1]), email=sys.argv[2], session_cookie=sys.argv[3]))
print(json.dumps({"body": body, "cookie": cookie}))
`;

for (const { engine, skip } of engines()) {
  describe(`account users API [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    const patch = (me: AccountSession, body: unknown, id: number | string = me.id, extra: Record<string, string> = {}) =>
      http(s.url, `/api/users/${id}`, { method: 'PATCH', cookie: me.cookie, body, headers: extra });
    const get = (me: AccountSession, id: number | string = me.id) => http(s.url, `/api/users/${id}`, { cookie: me.cookie });
    const emailOf = async (id: number) => (await s.core.users.getUser(id)).email;

    it('runs the page’s cURL example as written (host, cookie and id filled in)', { skip: HAS_CURL ? false : 'curl not installed' }, async () => {
      const me = await signUp(s.url, uniqueEmail('curl'));
      const res = await curlExample(s.url, me.token, me.id);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { user: { id: me.id, primary_email: 'newemail@example.com' } });
      assert.ok(res.cookies[SESSION_COOKIE], 'the email change sets a new session cookie');
      // Its literal `your-user-id` path answers 400 in h3's shape.
      const literal = await curlExample(s.url, res.cookies[SESSION_COOKIE], 'your-user-id', '{"email":"other@example.com"}');
      assertH3(literal, 400, { statusMessage: 'Bad Request.', data: true });
      assert.deepEqual(literal.body.data.issues, [
        { code: 'invalid_type', validation: 'type', expected: 'number', received: 'nan', path: ['user_id'], message: 'Expected number, received nan' },
      ]);
    });

    it('runs the page’s TypeScript example as written', async () => {
      const me = await signUp(s.url, uniqueEmail('ts'));
      const updateUser = pageUpdateUser(s.url);
      const email = uniqueEmail('ts-new');
      const result = await updateUser(me.id, { email }, me.token);
      assert.deepEqual(result, { user: { id: me.id, primary_email: email } });
      await assert.rejects(updateUser(me.id, { email: 'bad' }, me.token), /HTTP error! status: 401/, 'the old cookie no longer works');
    });

    it('runs the page’s Python httpx example (or, without httpx, its request shape)', async () => {
      const me = await signUp(s.url, uniqueEmail('py'));
      const email = uniqueEmail('py-new');
      if (HAS_HTTPX) {
        const file = path.join(os.tmpdir(), `gatehouse-httpx-${process.pid}.py`);
        fs.writeFileSync(file, PYTHON_EXAMPLE.replace('{HOST}', s.url));
        try {
          const { stdout } = await run(PYTHON_WITH_HTTPX!, [file, String(me.id), email, me.token]);
          const out = JSON.parse(stdout);
          assert.deepEqual(out.body, { user: { id: me.id, primary_email: email } });
          assert.ok(out.cookie);
        } finally {
          fs.rmSync(file, { force: true });
        }
        return;
      }
      // httpx's request: json= body (json.dumps with spaces), the headers it adds, the page's two headers.
      const res = await http(s.url, `/api/users/${me.id}`, {
        method: 'PATCH',
        raw: JSON.stringify({ email }, null, 0).replace('":"', '": "'),
        headers: {
          'Content-Type': 'application/json',
          Cookie: `neptun-session=${me.token}`,
          Accept: '*/*',
          'Accept-Encoding': 'gzip, deflate',
          'User-Agent': 'python-httpx/0.27.0',
        },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { user: { id: me.id, primary_email: email } });
    });

    it('GET /api/users/{user_id} answers your own account; any other id is 404, whether it exists or not', async () => {
      const me = await signUp(s.url, uniqueEmail('self'));
      const other = await createUser(s.url);
      const mine = await get(me);
      assert.equal(mine.status, 200, mine.text);
      assert.deepEqual(mine.body, { user: { id: me.id, primary_email: me.email } });
      const theirs = await get(me, other.id);
      const nobody = await get(me, 999999);
      assertH3(theirs, 404, { statusMessage: 'Not Found' });
      assertH3(nobody, 404);
      assert.deepEqual(theirs.body, nobody.body, 'existing and unknown ids answer alike');
      assertH3(await http(s.url, `/api/users/${me.id}`), 401, { statusMessage: 'Unauthorized' });
    });

    it('changes the email, answers {user:{id, primary_email}}, and refreshes the session cookie', async () => {
      const me = await signUp(s.url, uniqueEmail('change'), 'password-change');
      const email = uniqueEmail('changed');
      const res = await patch(me, { email: `  ${email.toUpperCase()}  ` });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { user: { id: me.id, primary_email: email } });
      const line = res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`));
      assert.ok(line && /HttpOnly/i.test(line) && /SameSite=Lax/i.test(line) && /Path=\//.test(line), line);
      const fresh = withToken(me, res.cookies[SESSION_COOKIE]);
      assert.notEqual(fresh.token, me.token);
      // The old cookie value stops working everywhere; the new one works.
      assertH3(await get(me), 401);
      assertH3(await patch(me, { email: uniqueEmail('late') }), 401);
      assert.equal((await http(s.url, '/api/auth/check', { method: 'HEAD', cookie: me.cookie })).status, 401);
      assert.equal((await http(s.url, '/api/auth/check', { method: 'HEAD', cookie: fresh.cookie })).status, 200);
      const after = await get(fresh);
      assert.deepEqual(after.body, { user: { id: me.id, primary_email: email } });
      // The new email signs in; the old one no longer does.
      await logIn(s.url, email, 'password-change');
      assertH3(await http(s.url, '/api/auth/login', { body: { email: me.email, password: 'password-change' } }), 401);
      // One audit event from the core, on the account surface, naming the change.
      const events = await s.store.db.selectFrom('audit_events').selectAll()
        .where('action', '=', 'user.updated').where('target_id', '=', String(me.id)).execute();
      assert.equal(events.length, 1);
      assert.equal(events[0].surface, 'account');
      assert.equal(events[0].actor_id, String(me.id));
      assert.deepEqual(JSON.parse(events[0].after_data!).changed, ['email']);
    });

    it('changes the password: every other session of the user ends on every surface, this one is refreshed', async () => {
      const email = uniqueEmail('pw');
      const me = await signUp(s.url, email, 'password-old-1');
      const elsewhere = await logIn(s.url, email, 'password-old-1');
      const admin = await signIn(s.url, email, 'password-old-1');
      assert.equal((await http(s.url, '/api/auth/session', { cookie: admin.cookie })).status, 200);

      const res = await patch(me, { password: 'password-new-1' });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { user: { id: me.id, primary_email: email } });
      assert.ok(!res.text.includes('password-new-1'));
      const fresh = withToken(me, res.cookies[SESSION_COOKIE]);
      assert.ok(fresh.token && fresh.token !== me.token, 'this session refreshed with a new cookie');

      assert.equal((await get(fresh)).status, 200, 'this session survives under its new token');
      assertH3(await get(me), 401);
      assertH3(await get(elsewhere), 401, {}, );
      // The admin-surface session (access cookie and refresh token) is revoked too.
      assert.equal((await http(s.url, '/api/auth/session', { cookie: admin.cookie })).status, 401);
      assert.equal((await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: admin.cookie })).status, 401);

      assertH3(await http(s.url, '/api/auth/login', { body: { email, password: 'password-old-1' } }), 401);
      await logIn(s.url, email, 'password-new-1');
      const events = await s.store.db.selectFrom('audit_events').selectAll()
        .where('action', '=', 'user.updated').where('target_id', '=', String(me.id)).execute();
      assert.equal(events.length, 1);
      const after = JSON.parse(events[0].after_data!);
      assert.deepEqual(after.changed, ['password']);
      assert.equal(after.sessions_revoked, 2);
      assert.ok(!JSON.stringify(events).includes('password-new-1') && !JSON.stringify(events).includes('$argon2'));
    });

    it('changes both fields at once', async () => {
      const email = uniqueEmail('both');
      const me = await signUp(s.url, uniqueEmail('both-old'));
      const res = await patch(me, { email, password: 'password-both' });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { user: { id: me.id, primary_email: email } });
      assert.ok(res.cookies[SESSION_COOKIE]);
      assertH3(await get(me), 401);
      await logIn(s.url, email, 'password-both');
    });

    it('answers the page’s 400 for an empty body or one with no known field', async () => {
      const me = await signUp(s.url, uniqueEmail('empty'));
      for (const body of [{}, { name: 'x', primary_email: 'a@b.co' }]) {
        const res = await patch(me, body);
        assertH3(res, 400, { statusMessage: 'Bad Request.', message: UPDATE_BODY_MESSAGE, data: true });
        assert.equal(res.body.data.issues.length, 1);
        assert.deepEqual(res.body.data.issues[0].path, []);
      }
      for (const raw of ['', '{', '{"email":"a@b.co",}', 'null', '[]', '"email"']) {
        const res = await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', cookie: me.cookie, raw, headers: { 'content-type': 'application/json' } });
        assertH3(res, 400, { message: UPDATE_BODY_MESSAGE, data: true });
      }
      const none = await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', cookie: me.cookie });
      assertH3(none, 400, { message: UPDATE_BODY_MESSAGE });
      assert.equal(await emailOf(me.id), me.email);
    });

    it('reports one Zod issue per invalid field: bad email, short password, wrong types', async () => {
      const me = await signUp(s.url, uniqueEmail('issues'));
      const expect400 = async (body: unknown, issues: unknown[]) => {
        const res = await patch(me, body);
        assertH3(res, 400, { statusMessage: 'Bad Request.', message: UPDATE_BODY_MESSAGE, data: true });
        assert.deepEqual(res.body.data.issues, issues, JSON.stringify(body));
      };
      for (const email of ['not-an-email', 'a@b', 'a@localhost', '@example.com', 'a b@example.com', 'a@@example.com', '', '   ']) {
        await expect400({ email }, [INVALID_EMAIL]);
      }
      for (const password of ['', 'short', '1234567', '   ', '🔐🔐🔐🔐']) await expect400({ password }, [SHORT_PASSWORD]);
      await expect400({ email: 5 }, [wrongType('email', 'number')]);
      await expect400({ password: 12345678 }, [wrongType('password', 'number')]);
      await expect400({ email: true }, [wrongType('email', 'boolean')]);
      await expect400({ email: null }, [wrongType('email', 'null')]);
      await expect400({ password: { a: 1 } }, [wrongType('password', 'object')]);
      await expect400({ password: ['password-123'] }, [wrongType('password', 'array')]);
      // Both fields at once: an issue for each, in field order.
      await expect400({ email: 'nope', password: 'short' }, [INVALID_EMAIL, SHORT_PASSWORD]);
      await expect400({ password: 'short', email: 'a@localhost' }, [INVALID_EMAIL, SHORT_PASSWORD]);
      await expect400({ email: 1, password: false }, [wrongType('email', 'number'), wrongType('password', 'boolean')]);
      // Nothing of a partly valid body is written.
      await expect400({ email: uniqueEmail('partial'), password: 'short' }, [SHORT_PASSWORD]);
      await expect400({ email: 'bad', password: 'password-partial' }, [INVALID_EMAIL]);
      assert.equal(await emailOf(me.id), me.email);
      await logIn(s.url, me.email, 'password-123');
      assert.equal((await get(me)).status, 200, 'a refused update leaves the session alone');
    });

    it('only updates yourself: another id answers 404 and changes nothing', async () => {
      const me = await signUp(s.url, uniqueEmail('me'));
      const other = await createUser(s.url, { password: 'password-other' });
      const theirs = await patch(me, { email: uniqueEmail('hijack'), password: 'password-hijack' }, other.id);
      const nobody = await patch(me, { email: uniqueEmail('hijack') }, 2147483000);
      assertH3(theirs, 404, { statusMessage: 'Not Found' });
      assertH3(nobody, 404);
      assert.deepEqual(theirs.body, nobody.body);
      assert.equal(await emailOf(other.id), other.email);
      await logIn(s.url, other.email, 'password-other');
      // An admin is no exception on this surface.
      const root = await logIn(s.url, 'root@example.com', 'root-password-1');
      assertH3(await patch(root, { email: uniqueEmail('root-hijack') }, other.id), 404);
      assert.equal(await emailOf(other.id), other.email);
    });

    it('answers 401 without a valid session', async () => {
      const me = await signUp(s.url, uniqueEmail('unauth'));
      const body = { email: uniqueEmail('x') };
      assertH3(await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', body }), 401, { statusMessage: 'Unauthorized' });
      for (const cookie of [`${SESSION_COOKIE}=`, `${SESSION_COOKIE}=nope`, `${SESSION_COOKIE}=${me.token}x`, `session=${me.token}`]) {
        assertH3(await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', body, cookie }), 401);
      }
      // Without a session even a bad id or body is a 401 (no information before authentication).
      assertH3(await http(s.url, '/api/users/your-user-id', { method: 'PATCH', body: {} }), 401);
      assert.equal(await emailOf(me.id), me.email);
    });

    it('answers 409 (never 200 with user:null) for an email another user has, in any case', async () => {
      const me = await signUp(s.url, uniqueEmail('taken'));
      const other = await createUser(s.url);
      const res = await patch(me, { email: other.email.toUpperCase() });
      assertH3(res, 409, { statusMessage: 'Conflict' });
      assert.equal(res.cookies[SESSION_COOKIE], undefined);
      assert.equal(await emailOf(me.id), me.email);
      assert.equal((await get(me)).status, 200, 'the session is untouched');
      // Your own current email is not a conflict (and changes nothing, so no new cookie).
      const same = await patch(me, { email: me.email.toUpperCase() });
      assert.equal(same.status, 200, same.text);
      assert.deepEqual(same.body, { user: { id: me.id, primary_email: me.email } });
      assert.equal(same.cookies[SESSION_COOKIE], undefined);
    });

    it('validates user_id in h3 shape and renders unknown account paths as h3 404s', async () => {
      const me = await signUp(s.url, uniqueEmail('params'));
      const cases: Array<[string, unknown]> = [
        ['your-user-id', { code: 'invalid_type', validation: 'type', expected: 'number', received: 'nan', path: ['user_id'], message: 'Expected number, received nan' }],
        ['1.5', { code: 'invalid_type', validation: 'type', expected: 'integer', received: 'float', path: ['user_id'], message: 'Expected integer, received float' }],
        ['0', { code: 'too_small', validation: 'min', minimum: 1, type: 'number', inclusive: true, exact: false, message: 'Number must be greater than or equal to 1', path: ['user_id'] }],
        ['99999999999999999999', { code: 'too_big', validation: 'max', maximum: 2147483647, type: 'number', inclusive: true, exact: false, message: 'Number must be less than or equal to 2147483647', path: ['user_id'] }],
      ];
      for (const [id, issue] of cases) {
        for (const res of [await patch(me, { email: uniqueEmail('p') }, id), await get(me, id)]) {
          assertH3(res, 400, { statusMessage: 'Bad Request.', message: 'Invalid routeParams(user_id).', data: true });
          assert.deepEqual(res.body.data.issues, [issue], id);
        }
      }
      assertH3(await http(s.url, `/api/users/${me.id}/nothing-here`, { cookie: me.cookie }), 404, { statusMessage: 'Not Found' });
      // (DELETE /api/users/{user_id} exists, as in the product: test/fidelity-account.test.ts.)
      assertH3(await http(s.url, `/api/users/${me.id}`, { method: 'PUT', cookie: me.cookie }), 404);
      assertH3(await http(s.url, '/api/users', { cookie: me.cookie }), 404);
      assert.equal(await emailOf(me.id), me.email);
    });

    it('honours If-Match and sends an ETag', async () => {
      const me = await signUp(s.url, uniqueEmail('etag'));
      const read = await get(me);
      const etag = read.headers.get('etag');
      assert.match(etag ?? '', /^"\d+\.\d+"$/);
      const stale = await patch(me, { email: uniqueEmail('stale') }, me.id, { 'if-match': '"1.999"' });
      assertH3(stale, 412);
      const ok = await patch(me, { email: uniqueEmail('fresh') }, me.id, { 'if-match': etag! });
      assert.equal(ok.status, 200, ok.text);
      assert.notEqual(ok.headers.get('etag'), etag);
    });

    it('unicode and oversized input never answers 500', async () => {
      const me = await signUp(s.url, uniqueEmail('big'));
      const cases: Array<[unknown, number]> = [
        [{ email: 'jöhn@exämple.com' }, 400],
        [{ email: 'ü@例え.テスト' }, 400],
        [{ email: `${'a'.repeat(300)}@example.com` }, 400],
        [{ email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.com` }, 400],
        [{ email: 'x'.repeat(20_000) }, 400],
        [{ password: 'p'.repeat(1025) }, 400],
        [{ password: '🔐'.repeat(2000) }, 400],
        [{ email: 'a\u0000b@example.com' }, 400],
        [{ email: '\ud800@example.com' }, 400],
        [{ password: 'pass\u0000word-123' }, 400],
        [{ email: { $gt: '' } }, 400],
        [{ email: 'x'.repeat(100_000) }, 413],
        [{ password: 'пароль-密码-🔐🔐' }, 200],
      ];
      let current = me;
      for (const [body, status] of cases) {
        const res = await patch(current, body);
        assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 60)} → ${res.text.slice(0, 300)}`);
        if (status !== 200) assertH3(res, status);
        else current = withToken(current, res.cookies[SESSION_COOKIE]);
      }
      const raw = await http(s.url, `/api/users/${me.id}`, {
        method: 'PATCH', cookie: current.cookie, raw: '{"__proto__":{"admin":true},"email":"a@b.co"}', headers: { 'content-type': 'application/json' },
      });
      assertH3(raw, 400, { message: UPDATE_BODY_MESSAGE });
      const long = await http(s.url, `/api/users/${'9'.repeat(400)}`, { method: 'PATCH', cookie: current.cookie, body: { email: 'a@b.co' } });
      assertH3(long, 400);
      assert.equal(await emailOf(me.id), me.email);
      await logIn(s.url, me.email, 'пароль-密码-🔐🔐');
    });

    // Last: breaks this server's audit table on purpose.
    it('answers 500 in h3 shape without internals, and writes nothing, when the store fails', async () => {
      const me = await signUp(s.url, uniqueEmail('boom'));
      await sql`drop table audit_events`.execute(s.store.db);
      const res = await patch(me, { email: uniqueEmail('boom-new'), password: 'password-boom' });
      assertH3(res, 500, { statusMessage: 'Internal Server Error' });
      assert.doesNotMatch(res.text, /audit|sql|table|stack|at \w+ \(/i);
      assert.equal(await emailOf(me.id), me.email, 'the update rolled back with its audit event');
      assert.equal((await get(me)).status, 200, 'no session was touched');
    });
  });
}

// Referenced so the admin token import stays meaningful if a test above is trimmed.
void ADMIN_TOKEN;
