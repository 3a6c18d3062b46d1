// Platform edge over HTTP (issue 16): cross-site cookie writes (finding 8), links from GATEHOUSE_PUBLIC_URL,
// the proxy hop rule (7), IPv6 by /64, sign-up (6), and the low items of 10 (avatar URL scheme, /metrics
// token, /docs CSP and framing, no-store on authenticated replies).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http, type Res } from './helpers/http.js';
import { signIn, uniqueEmail, createUser } from './helpers/admin.js';
import { addMember, createClient, createTenant, tokenRequest, v1 } from './helpers/directory.js';
import { assertError, login, STRONG } from './useradmin-helpers.js';
import { assertH3, signUp } from './account-helpers.js';

const PUBLIC = 'https://id.example.com';
const METRICS_TOKEN = 'metrics-token-0123456789';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A request with a Host header of our choosing (fetch sends its own). */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const url = new URL(base + path);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const { engine, skip } of engines()) {
  describe(`cookie-authenticated writes refuse forms and other sites, on every surface [${engine}]`, { skip }, () => {
    let s: TestServer;
    let own: string;
    before(async () => {
      s = await startServer(engine, { env: { GATEHOUSE_PUBLIC_URL: PUBLIC } });
      own = s.url;
    });
    after(async () => s?.close());

    it('user-admin: a form post with the session cookie (Origin null or none) is 415; a foreign origin is 403; its own pages and tokens work', async () => {
      const cookie = await login(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const form = new URLSearchParams({ email: 'forged@example.com', rootRole: 'Admin', password: STRONG }).toString();
      for (const headers of [{ ...FORM, origin: 'null' }, { ...FORM }, { 'content-type': 'text/plain' }, { 'content-type': 'multipart/form-data; boundary=x' }]) {
        const res = await http(s.url, '/api/admin/user-admin', { cookie, raw: form, headers });
        assertError(res, 415, 'ContentTypeError');
      }
      const target = (await http(s.url, '/api/admin/user-admin', { token: ADMIN_TOKEN, body: { email: uniqueEmail('ua'), rootRole: 'Viewer' } })).body;
      const pw = await http(s.url, `/api/admin/user-admin/${target.id}/change-password`, { cookie, raw: new URLSearchParams({ password: STRONG }).toString(), headers: { ...FORM, origin: 'null' } });
      assertError(pw, 415, 'ContentTypeError');
      for (const headers of [{ origin: 'null' }, { origin: 'https://evil.example' }, { origin: `${PUBLIC}.evil.example` }, { 'sec-fetch-site': 'cross-site' }, { origin: 'not a url' }] as Array<Record<string, string>>) {
        const res = await http(s.url, '/api/admin/user-admin', { cookie, headers, body: { email: uniqueEmail('x'), rootRole: 'Admin' } });
        assertError(res, 403, 'NoAccessError');
        const cp = await http(s.url, `/api/admin/user-admin/${target.id}/change-password`, { cookie, headers, body: { password: STRONG } });
        assertError(cp, 403, 'NoAccessError');
      }
      // Nothing was created by any of the refused requests.
      const all = await http(s.url, '/api/admin/user-admin/search?q=forged', { token: ADMIN_TOKEN });
      assert.deepEqual(all.body, []);
      // From the server's own pages: its public origin, the origin the request addressed, or no Origin at all.
      for (const headers of [{ origin: PUBLIC }, { origin: own, 'sec-fetch-site': 'same-origin' }, {}] as Array<Record<string, string>>) {
        const ok = await http(s.url, '/api/admin/user-admin', { cookie, headers, body: { email: uniqueEmail('ok'), rootRole: 'Viewer' } });
        assert.equal(ok.status, 201, ok.text);
      }
      // Logout acts on the cookie too.
      assertError(await http(s.url, '/logout', { method: 'POST', cookie, headers: { origin: 'https://evil.example' } }), 403, 'NoAccessError');
      assert.equal((await http(s.url, '/api/admin/user-admin/search?q=ok', { cookie })).status, 200, 'the session survived the refused logout');
      // An API token carries no ambient credential: any origin, as before.
      const byToken = await http(s.url, '/api/admin/user-admin', { token: ADMIN_TOKEN, headers: { origin: 'https://elsewhere.example' }, body: { email: uniqueEmail('tok'), rootRole: 'Viewer' } });
      assert.equal(byToken.status, 201, byToken.text);
    });

    it('account: PATCH and logout with the neptun-session cookie refuse forms (415) and other sites (403) in h3 shape', async () => {
      const me = await signUp(s.url, uniqueEmail('acct'));
      const form = await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', cookie: me.cookie, raw: 'password=pwned-password-1', headers: { ...FORM, origin: 'null' } });
      assertH3(form, 415);
      const text = await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', cookie: me.cookie, raw: '{"password":"pwned-password-1"}', headers: { 'content-type': 'text/plain' } });
      assertH3(text, 415);
      for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }] as Array<Record<string, string>>) {
        const res = await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', cookie: me.cookie, headers, body: { password: 'pwned-password-1' } });
        assertH3(res, 403);
        assertH3(await http(s.url, '/api/auth/logout', { method: 'POST', cookie: me.cookie, headers }), 403);
      }
      // The password did not change; the session is still alive; from our own origin it works.
      assert.equal((await http(s.url, '/api/auth/login', { body: { email: me.email, password: 'pwned-password-1' } })).status, 401);
      const ok = await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', cookie: me.cookie, headers: { origin: PUBLIC }, body: { password: 'changed-password-2' } });
      assert.equal(ok.status, 200, ok.text);
    });

    it('admin: sign-out-all, refresh and admin writes with the session cookies refuse other sites and forms; API tokens do not', async () => {
      const a = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const evil = { origin: 'https://evil.example', 'x-csrf-token': a.csrf };
      const outAll = await http(s.url, '/api/auth/sign-out-all', { method: 'POST', cookie: a.cookie, headers: evil });
      assert.equal(outAll.status, 403, outAll.text);
      const outAllForm = await http(s.url, '/api/auth/sign-out-all', { cookie: a.cookie, raw: 'x=1', headers: { ...FORM, 'x-csrf-token': a.csrf } });
      assert.equal(outAllForm.status, 415, outAllForm.text);
      assert.equal((await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: a.cookie, headers: { 'sec-fetch-site': 'cross-site' } })).status, 403);
      assert.equal((await http(s.url, '/api/auth/sign-out', { method: 'POST', cookie: a.cookie, headers: { origin: 'null' } })).status, 403);
      const create = await http(s.url, '/api/admin/users', { cookie: a.cookie, headers: evil, body: { email: uniqueEmail('adm'), password: 'password-123' } });
      assert.equal(create.status, 403, create.text);
      // The session is intact, and same-origin writes work.
      assert.equal((await http(s.url, '/api/auth/session', { cookie: a.cookie })).status, 200);
      const same = await http(s.url, '/api/admin/users', { cookie: a.cookie, headers: { origin: PUBLIC, 'x-csrf-token': a.csrf }, body: { email: uniqueEmail('adm'), password: 'password-123' } });
      assert.equal(same.status, 201, same.text);
      const byToken = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, headers: { origin: 'https://evil.example' }, body: { email: uniqueEmail('adm'), password: 'password-123' } });
      assert.equal(byToken.status, 201, byToken.text);
      const done = await http(s.url, '/api/auth/sign-out-all', { method: 'POST', cookie: a.cookie, headers: { origin: own, 'x-csrf-token': a.csrf } });
      assert.equal(done.status, 200, done.text);
    });

    it('directory: bearer tokens work from any origin, and /oauth/token keeps taking forms', async () => {
      const client = await createClient(s.url);
      const email = uniqueEmail('dir');
      const u = await createUser(s.url, { email, password: 'member-password-1' });
      const tenant = await createTenant(s.url);
      await addMember(s.url, tenant.id, u.id);
      const form = await tokenRequest(s.url, { grant_type: 'password', client_id: client.client_id, client_secret: client.secret, username: email, password: 'member-password-1' }, { origin: 'https://elsewhere.example' });
      assert.equal(form.status, 200, form.text);
      const me = await v1(s.url, '/account/roles', { token: form.body.access_token, tenant: tenant.id, headers: { origin: 'https://elsewhere.example', 'sec-fetch-site': 'cross-site' } });
      assert.equal(me.status, 200, me.text);
    });
  });

  describe(`links, proxies, addresses and sign-up [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine, {
        env: {
          GATEHOUSE_PUBLIC_URL: `${PUBLIC}/`, GATEHOUSE_TRUST_PROXY: '1', GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS: '3',
          GATEHOUSE_SIGNUP_MAX_PER_ADDRESS: '3', GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN,
        },
      });
    });
    after(async () => s?.close());
    const from = (ip: string, path: string, body?: unknown) => http(s.url, path, { body, headers: { 'x-forwarded-for': ip } });

    it('pagination links come from GATEHOUSE_PUBLIC_URL, not from Host or X-Forwarded-Host', async () => {
      const tenant = await createTenant(s.url);
      for (let i = 0; i < 2; i++) await addMember(s.url, tenant.id, (await createUser(s.url)).id);
      const page = await rawGet(s.url, '/api/v1/users?per_page=1', {
        host: 'evil.example', 'x-forwarded-host': 'evil2.example', authorization: `Bearer ${ADMIN_TOKEN}`, 'x-tenant': String(tenant.id),
      });
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.equal(page.body.meta.path, `${PUBLIC}/api/v1/users`);
      for (const link of [page.body.links.first, page.body.links.last]) assert.ok(link.startsWith(`${PUBLIC}/api/v1/users?`), link);
    });

    it('with a hop count, the client is the rightmost untrusted X-Forwarded-For entry: a forged leftmost one changes nothing', async () => {
      const ban = await http(s.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'ip', ban_value: '203.0.113.7', reason: 'test' } });
      assert.equal(ban.status, 201, ban.text);
      // The proxy appended the real peer (203.0.113.7) after whatever the client claimed.
      const forged = await from('198.51.100.1, 203.0.113.7', '/api/admin/users?limit=1', undefined);
      assert.equal(forged.status, 403, forged.text);
      assert.equal(forged.body.error, 'banned');
      // A banned client claiming to be someone else in front: still itself.
      assert.equal((await from('203.0.113.7, 198.51.100.2', '/api/admin/users?limit=1')).status, 401, 'the rightmost entry is the client');
    });

    it('the per-address sign-in limit counts an IPv6 /64 as one address', async () => {
      const fail = (ip: string) => from(ip, '/api/auth/sign-in', { identifier: uniqueEmail('nobody'), password: 'wrong-password-1' });
      for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:0:0:0:3']) assert.equal((await fail(ip)).status, 401);
      const same64 = await fail('2001:db8:1:2:ffff:eeee:dddd:9');
      assert.equal(same64.status, 429, same64.text);
      assert.ok(Number(same64.headers.get('retry-after')) > 0);
      assert.equal((await fail('2001:db8:1:3::1')).status, 401, 'the next /64 is another address');
    });

    it('sign-up is limited per address (429 with Retry-After, in h3 shape); another address may still sign up', async () => {
      for (let i = 0; i < 3; i++) {
        const ok = await from('192.0.2.50', '/api/auth/sign-up', { email: uniqueEmail('flood'), password: 'password-123' });
        assert.equal(ok.status, 200, ok.text);
      }
      const over = await from('192.0.2.50', '/api/auth/sign-up', { email: uniqueEmail('flood'), password: 'password-123' });
      assertH3(over, 429);
      assert.ok(Number(over.headers.get('retry-after')) > 0);
      const other = await from('192.0.2.51', '/api/auth/sign-up', { email: uniqueEmail('flood'), password: 'password-123' });
      assert.equal(other.status, 200, other.text);
    });

    it('/metrics needs the bearer token when GATEHOUSE_METRICS_TOKEN is set', async () => {
      assert.equal((await http(s.url, '/metrics')).status, 401);
      assert.equal((await http(s.url, '/metrics', { token: 'wrong-token-0123456789' })).status, 401);
      assert.equal((await http(s.url, '/metrics', { headers: { authorization: METRICS_TOKEN } })).status, 401);
      const ok = await http(s.url, '/metrics', { token: METRICS_TOKEN });
      assert.equal(ok.status, 200);
      assert.match(ok.text, /^# HELP /m);
    });

    it('avatar_url must be http(s) when it names a scheme (422 on the directory, never echoed as imageUrl)', async () => {
      const u = await createUser(s.url);
      const tenant = await createTenant(s.url);
      await addMember(s.url, tenant.id, u.id);
      for (const bad of ['javascript:alert(document.cookie)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', 'file:///etc/passwd', 'http://']) {
        const res = await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: ADMIN_TOKEN, tenant: tenant.id, body: { avatar_url: bad } });
        assert.equal(res.status, 422, `${bad}: ${res.text}`);
        assert.ok(res.body.errors?.avatar_url, res.text);
      }
      const view = await http(s.url, `/api/admin/user-admin/${u.id}`, { headers: { authorization: ADMIN_TOKEN } });
      assert.ok(!/^javascript:/i.test(view.body.imageUrl), view.body.imageUrl);
      const good = await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: ADMIN_TOKEN, tenant: tenant.id, body: { avatar_url: 'https://img.example.com/me.png' } });
      assert.equal(good.status, 200, good.text);
      assert.equal((await http(s.url, `/api/admin/user-admin/${u.id}`, { headers: { authorization: ADMIN_TOKEN } })).body.imageUrl, 'https://img.example.com/me.png');
    });

    it('authenticated JSON replies are Cache-Control: no-store on every surface', async () => {
      const tenant = await createTenant(s.url);
      const replies: Array<[string, Res]> = [
        ['admin', await http(s.url, '/api/admin/users?limit=1', { token: ADMIN_TOKEN })],
        ['user-admin', await http(s.url, '/api/admin/user-admin/1', { headers: { authorization: ADMIN_TOKEN } })],
        ['directory', await v1(s.url, '/users', { token: ADMIN_TOKEN, tenant: tenant.id })],
        ['admin session', await http(s.url, '/api/auth/session', { token: ADMIN_TOKEN })],
      ];
      const acct = await from('192.0.2.60', '/api/auth/sign-up', { email: uniqueEmail('cache'), password: 'password-123' });
      assert.equal(acct.status, 200, acct.text);
      replies.push(['account', await http(s.url, `/api/users/${acct.body.user.id}`, { cookie: `neptun-session=${acct.cookies['neptun-session']}` })]);
      for (const [name, res] of replies) {
        assert.equal(res.status, 200, `${name}: ${res.text}`);
        assert.match(res.headers.get('cache-control') ?? '', /no-store/, name);
      }
    });

    it('/docs has a CSP that forbids framing and still allows the page its own scripts and styles', async () => {
      const page = await http(s.url, '/docs');
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/, 'the page is served over http too');
      // Every inline script or style of the page is allowed by its hash; every external one is ours and loads.
      const directive = (name: string) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? '';
      for (const [, tag, body] of page.text.matchAll(/<(script|style)(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/\1>/g)) {
        if (!body.trim()) continue;
        const hash = `'sha256-${createHash('sha256').update(body).digest('base64')}'`;
        assert.ok(directive(`${tag}-src`).includes(hash), `inline ${tag} allowed by ${hash}`);
      }
      const sources = [...page.text.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
      assert.ok(sources.length > 0);
      for (const src of sources) {
        assert.ok(!/^[a-z]+:/i.test(src), `${src} is same-origin`);
        const asset = await http(s.url, new URL(src, `${s.url}/docs/`).pathname);
        assert.equal(asset.status, 200, src);
        assert.match(asset.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      }
    });
  });

  describe(`GATEHOUSE_SIGNUP=closed [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine, { env: { GATEHOUSE_SIGNUP: 'closed', GATEHOUSE_TRUST_PROXY: '127.0.0.1, ::1' } });
    });
    after(async () => s?.close());

    it('sign-up answers 403 in the account surface\'s shape; sign-in still works', async () => {
      const res = await http(s.url, '/api/auth/sign-up', { body: { email: uniqueEmail('closed'), password: 'password-123' } });
      assertH3(res, 403);
      assert.match(res.body.message, /Sign-up is closed/);
      const u = await createUser(s.url, { email: uniqueEmail('member'), password: 'password-123' });
      assert.equal((await http(s.url, '/api/auth/login', { body: { email: u.email, password: 'password-123' } })).status, 200);
    });

    it('with a list of proxy addresses, the client is the first address from the right that is not one of them', async () => {
      const ban = await http(s.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'ip', ban_value: '203.0.113.9', reason: 'test' } });
      assert.equal(ban.status, 201, ban.text);
      const get = (xff: string) => http(s.url, '/api/admin/users?limit=1', { headers: { 'x-forwarded-for': xff } });
      assert.equal((await get('203.0.113.9')).status, 403);
      assert.equal((await get('198.51.100.3, 203.0.113.9')).status, 403, 'a forged entry in front changes nothing');
      assert.equal((await get('203.0.113.9, 198.51.100.3')).status, 401, 'an untrusted hop stops the walk');
    });
  });
}
