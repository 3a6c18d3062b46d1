// The OpenAPI document is fit for tools (issue 21): it validates as OpenAPI 3.1 with a maintained validator;
// every operation has a unique operationId, explicit security, a 2xx and its 4xx responses in its surface's
// error schema; the security it declares is what the server enforces; and "Authorize" with the credential
// a scheme describes, sent the way the scheme says, gets each surface's operations through.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validate, compileErrors } from '@readme/openapi-parser';
import { ADMIN_TOKEN, engines, startServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { signIn, uniqueEmail } from './helpers/admin.js';
import { signUp } from './account-helpers.js';
import { ALL_PERMISSIONS, createClient, createRole, createTenant, member, tokenRequest } from './helpers/directory.js';
import { browserSkip, launchBrowser, openPage } from './helpers/browser.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Op {
  method: string;
  path: string;
  op: any;
}

function operations(doc: any): Op[] {
  const out: Op[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const method of METHODS) if (item[method]) out.push({ method, path, op: item[method] });
  }
  return out;
}

/** The error component of an operation's surface, by its tag. */
function errorComponentOf(o: Op): string {
  const tag: string = o.op.tags?.[0] ?? '';
  if (tag === 'ops') return 'OpsError';
  if (tag.startsWith('admin')) return 'AdminError';
  if (tag === 'account') return 'AccountError';
  if (tag === 'directory v1: oauth') return 'OAuthError';
  if (tag.startsWith('directory')) return 'DirectoryError';
  if (tag.startsWith('user-admin')) return 'UseradminError';
  throw new Error(`${o.method} ${o.path}: no surface tag (${tag})`);
}

/** Liveness and readiness: the ip ban spares them and they read no request, so they answer no 4xx at all. */
const NO_CLIENT_ERROR = new Set(['get /healthz', 'get /readyz']);

/**
 * The headers that satisfy one of the operation's security requirements with `value` for every scheme
 * of it, built from the scheme alone (as swagger-ui's Authorize dialog does), or undefined when none fits.
 */
function authorize(doc: any, op: any, fits: (scheme: any) => boolean, values: (scheme: any) => string): Record<string, string> | undefined {
  for (const requirement of op.security as Array<Record<string, string[]>>) {
    const names = Object.keys(requirement);
    if (names.length === 0) continue;
    const schemes = names.map((n) => doc.components.securitySchemes[n]);
    if (!schemes.every(fits)) continue;
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (const scheme of schemes) {
      const v = values(scheme);
      if (scheme.type === 'http' && scheme.scheme === 'bearer') headers.authorization = `Bearer ${v}`;
      else if (scheme.type === 'oauth2') headers.authorization = `Bearer ${v}`;
      else if (scheme.type === 'apiKey' && scheme.in === 'header') headers[scheme.name.toLowerCase()] = v;
      else if (scheme.type === 'apiKey' && scheme.in === 'cookie') cookies.push(`${scheme.name}=${v}`);
      else throw new Error(`unsupported scheme ${JSON.stringify(scheme)}`);
    }
    if (cookies.length) headers.cookie = cookies.join('; ');
    return headers;
  }
  return undefined;
}

for (const { engine, skip } of engines()) {
  describe(`OpenAPI document fit for tools [${engine}]`, { skip }, () => {
    let s: TestServer;
    let doc: any;
    before(async () => {
      s = await startServer(engine);
      const r = await http(s.url, '/openapi.json');
      assert.equal(r.status, 200, r.text);
      doc = r.body;
    });
    after(async () => s?.close());

    const op = (method: string, path: string) => {
      const found = doc.paths[path]?.[method];
      assert.ok(found, `${method.toUpperCase()} ${path} is documented`);
      return found;
    };

    it('validates as OpenAPI 3.1 (@readme/openapi-parser)', async () => {
      assert.match(doc.openapi, /^3\.1\./);
      const result = await validate(structuredClone(doc));
      assert.ok(result.valid, result.valid ? '' : compileErrors(result));
    });

    it('every operation has a unique operationId, explicit security naming declared schemes, a 2xx and its 4xx in its surface error schema', () => {
      const ops = operations(doc);
      assert.ok(ops.length >= 90, `${ops.length} operations`);
      const ids = new Map<string, string>();
      for (const o of ops) {
        const where = `${o.method.toUpperCase()} ${o.path}`;
        assert.match(o.op.operationId ?? '', /^[a-z][A-Za-z0-9]+$/, `${where}: operationId`);
        assert.ok(!ids.has(o.op.operationId), `${where}: operationId ${o.op.operationId} also used by ${ids.get(o.op.operationId)}`);
        ids.set(o.op.operationId, where);

        assert.ok(Array.isArray(o.op.security), `${where}: security is explicit`);
        for (const requirement of o.op.security) {
          for (const name of Object.keys(requirement)) assert.ok(doc.components.securitySchemes[name], `${where}: scheme ${name} is declared`);
        }

        const codes = Object.keys(o.op.responses);
        assert.ok(codes.some((c) => /^2\d\d$/.test(c) || c === '302'), `${where}: a success response`);
        const errors = codes.filter((c) => /^4\d\d$/.test(c));
        if (!NO_CLIENT_ERROR.has(`${o.method} ${o.path}`)) assert.ok(errors.length > 0, `${where}: at least one 4xx`);
        const component = `#/components/schemas/${errorComponentOf(o)}`;
        for (const c of errors) {
          const schema = o.op.responses[c].content?.['application/json']?.schema;
          assert.ok(schema, `${where} ${c}: a JSON schema`);
          const refs = schema.$ref ? [schema.$ref] : (schema.anyOf ?? []).map((x: any) => x.$ref);
          if (c === '403') assert.ok(refs.includes('#/components/schemas/IpBanned'), `${where} 403: the ip-ban body`);
          if (!(c === '403' && errorComponentOf(o) === 'OpsError')) assert.ok(refs.includes(component), `${where} ${c}: ${component} (got ${JSON.stringify(schema)})`);
          assert.ok(doc.components.schemas[component.split('/').pop()!], `${component} is defined`);
        }
        // Operations that need a credential document the 401 they answer without one.
        if (o.op.security.length > 0 && !o.op.security.some((r: object) => Object.keys(r).length === 0)) {
          assert.ok(o.op.responses['401'], `${where}: 401 documented`);
        }
      }
      // Spot checks of what is derived from each route's auth config.
      assert.deepEqual(op('post', '/api/auth/sign-in').security, []);
      assert.deepEqual(op('get', '/api/admin/users').security, [{ adminToken: [] }, { adminSession: [] }]);
      assert.deepEqual(op('patch', '/api/admin/users/{id}').security, [{ adminToken: [] }, { adminSession: [], adminCsrf: [] }]);
      assert.deepEqual(op('get', '/api/users/{user_id}').security, [{ accountSession: [] }]);
      assert.deepEqual(op('get', '/api/admin/user-admin').security, [{ useradminApiKey: [] }, { useradminSession: [] }]);
      assert.deepEqual(op('get', '/api/v1/users').security, [{ directoryOAuth2: [] }, { directoryBearer: [] }]);
      assert.equal(op('patch', '/api/admin/users/{id}').operationId, 'patchApiAdminUsersById');
      for (const c of ['400', '401', '403', '404', '409', '412', '413', '415', '503']) assert.ok(op('patch', '/api/admin/users/{id}').responses[c], `PATCH /api/admin/users/{id} documents ${c}`);
      for (const c of ['401', '404', '412', '422']) assert.ok(op('put', '/api/v1/users/{id}').responses[c], `PUT /api/v1/users/{id} documents ${c}`);
      assert.ok(op('post', '/api/auth/sign-in').responses['429']);
    });

    it('the security each operation declares is what the server enforces: without credentials, 401 exactly where a credential is required', async () => {
      for (const o of operations(doc)) {
        if (o.path === '/metrics') continue; // its token is optional (GATEHOUSE_METRICS_TOKEN unset here)
        const required = o.op.security.length > 0 && !o.op.security.some((r: object) => Object.keys(r).length === 0);
        const url = o.path.replace(/\{[^}]+\}/g, '1');
        const hasBody = !['get', 'head', 'delete'].includes(o.method);
        // Not following redirects: the 302 of /logout is the operation's own answer.
        const res = await fetch(s.url + url, {
          method: o.method.toUpperCase(), redirect: 'manual',
          ...(hasBody ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
        });
        const r = { status: res.status, text: await res.text() };
        const where = `${o.method.toUpperCase()} ${o.path} → ${r.status} ${r.text.slice(0, 200)}`;
        if (required) assert.equal(r.status, 401, where);
        else assert.notEqual(r.status, 401, where);
        assert.ok(o.op.responses[String(r.status)] || r.status === 200, `${where}: status documented`);
      }
    });

    it('Authorize with the admin bearer scheme: GET /api/admin/users answers 200; with the cookie and CSRF schemes a write goes through', async () => {
      const list = op('get', '/api/admin/users');
      const bearer = authorize(doc, list, (sc) => sc.type === 'http' && sc.scheme === 'bearer', () => ADMIN_TOKEN);
      assert.ok(bearer, 'a bearer scheme is offered');
      const r = await http(s.url, '/api/admin/users', { headers: bearer });
      assert.equal(r.status, 200, r.text);
      assert.equal((await http(s.url, '/api/admin/users')).status, 401);

      const session = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const cookieValues = (sc: any) => (sc.in === 'cookie' ? session.access : session.csrf);
      const create = op('post', '/api/admin/users');
      const cookieAuth = authorize(doc, create, (sc) => sc.type === 'apiKey', cookieValues);
      assert.ok(cookieAuth?.cookie && cookieAuth['x-csrf-token'], 'the cookie requirement of a write carries the CSRF header');
      const created = await http(s.url, '/api/admin/users', { headers: cookieAuth, body: { email: uniqueEmail('oa'), password: 'password-123' } });
      assert.equal(created.status, 201, created.text);
      const read = authorize(doc, list, (sc) => sc.type === 'apiKey', cookieValues);
      assert.equal((await http(s.url, '/api/admin/users', { headers: read })).status, 200);
    });

    it('Authorize on the user-admin, directory and account surfaces with the credential each scheme describes', async () => {
      // User-admin: the raw API token in the Authorization header (apiKey).
      const ua = authorize(doc, op('get', '/api/admin/user-admin'), (sc) => sc.type === 'apiKey' && sc.in === 'header', () => ADMIN_TOKEN);
      assert.equal(ua?.authorization, ADMIN_TOKEN);
      const users = await http(s.url, '/api/admin/user-admin', { headers: ua });
      assert.equal(users.status, 200, users.text);

      // Directory: a token from the OAuth2 password flow's tokenUrl, as the Authorize dialog fetches it.
      const scheme = doc.components.securitySchemes.directoryOAuth2;
      assert.equal(scheme.type, 'oauth2');
      const tokenUrl: string = scheme.flows.password.tokenUrl;
      const client = await createClient(s.url, ['password']);
      const tenant = await createTenant(s.url);
      const role = await createRole(s.url, tenant.id, 'Admin', ALL_PERMISSIONS);
      const m = await member(s.url, client, tenant.id, [role.id]);
      const t = await tokenRequest(s.url, { grant_type: 'password', client_id: client.client_id, client_secret: client.secret, username: m.email, password: m.password });
      assert.equal(tokenUrl, '/oauth/token');
      assert.equal(t.status, 200, t.text);
      const dir = authorize(doc, op('get', '/api/v1/users'), (sc) => sc.type === 'oauth2', () => t.body.access_token);
      const list = await http(s.url, '/api/v1/users', { headers: { ...dir, 'x-tenant': String(tenant.id) } });
      assert.equal(list.status, 200, list.text);

      // Account: the session cookie the scheme names (a browser sends it by itself after /api/auth/login).
      const me = await signUp(s.url, uniqueEmail('oa-account'));
      const acc = authorize(doc, op('get', '/api/users/{user_id}'), (sc) => sc.in === 'cookie', () => me.token);
      const got = await http(s.url, `/api/users/${me.id}`, { headers: acc });
      assert.equal(got.status, 200, got.text);
    });

    it('documenting 4xx responses leaves error bodies whole: an admin 409 keeps reason, details and field', async () => {
      const email = uniqueEmail('dup');
      assert.equal((await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email, password: 'password-123' } })).status, 201);
      const dup = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email, password: 'password-123' } });
      assert.equal(dup.status, 409, dup.text);
      assert.equal(dup.body.error, 'Conflict');
      assert.ok(dup.body.reason && dup.body.details && 'field' in dup.body, dup.text);
      const bad = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: 'x', password: 'p' } });
      assert.equal(bad.status, 400);
      assert.ok(bad.body.field && bad.body.reason && bad.body.hint && bad.body.constraints, bad.text);
    });
  });
}

// The issue's own steps in the real page: "Try it out" on GET /api/admin/users in /docs answers a documented
// 401 (it was "Undocumented"), then "Authorize" with the admin token in the adminToken scheme gets a 200.
describe('/docs: Authorize and Try it out [sqlite]', { skip: browserSkip() }, () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('sqlite');
  });
  after(async () => s?.close());

  it('Try it out on GET /api/admin/users: 401 documented without credentials, 200 after Authorize with the bearer token', async () => {
    const browser = await launchBrowser();
    try {
      const { page } = await openPage(browser);
      await page.goto(`${s.url}/docs`);
      const operation = page.locator('.opblock[id$="-getApiAdminUsers"]');
      await operation.locator('.opblock-summary').first().click();
      await operation.getByRole('button', { name: 'Try it out' }).click();
      const execute = async () => {
        const [res] = await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname === '/api/admin/users'),
          operation.getByRole('button', { name: 'Execute' }).click(),
        ]);
        // The live response's row (the table's header cell also says "Code"), once it shows this answer.
        const status = operation.locator('.live-responses-table tbody .response-col_status').first();
        let shown = '';
        for (let i = 0; i < 50 && !shown.startsWith(String(res.status())); i++) {
          shown = (await status.innerText().catch(() => '')).trim();
          if (!shown.startsWith(String(res.status()))) await new Promise((r) => setTimeout(r, 100));
        }
        return { res, shown };
      };
      const anonymous = await execute();
      assert.equal(anonymous.res.status(), 401);
      assert.match(anonymous.shown, /^401/);
      assert.doesNotMatch(anonymous.shown, /Undocumented/, 'the 401 is documented');

      await page.getByRole('button', { name: 'Authorize' }).first().click();
      const scheme = page.locator('.modal-ux .auth-container').filter({ hasText: 'adminToken' });
      await scheme.locator('input').first().fill(ADMIN_TOKEN);
      await scheme.getByRole('button', { name: 'Apply credentials' }).click();
      await scheme.getByRole('button', { name: 'Close' }).click();
      const authorized = await execute();
      assert.equal(authorized.res.request().headers().authorization, `Bearer ${ADMIN_TOKEN}`);
      assert.equal(authorized.res.status(), 200);
      assert.match(authorized.shown, /^200/);
    } finally {
      await browser.close();
    }
  });

  it('directory v1: Authorize through the OAuth2 password flow of the directoryOAuth2 scheme, then Try it out on GET /api/v1/users', async () => {
    const client = await createClient(s.url, ['password']);
    const tenant = await createTenant(s.url);
    const role = await createRole(s.url, tenant.id, 'Admin', ALL_PERMISSIONS);
    const m = await member(s.url, client, tenant.id, [role.id]);
    const browser = await launchBrowser();
    try {
      const { page } = await openPage(browser);
      await page.goto(`${s.url}/docs`);
      await page.getByRole('button', { name: 'Authorize' }).first().click();
      const scheme = page.locator('.modal-ux .auth-container').filter({ hasText: 'directoryOAuth2' }).filter({ hasText: 'password' }).first();
      await scheme.locator('#oauth_username').fill(m.email);
      await scheme.locator('#oauth_password').fill(m.password);
      await scheme.locator('#client_id_password').fill(client.client_id);
      await scheme.locator('#client_secret_password').fill(client.secret);
      const [token] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/oauth/token'),
        scheme.getByRole('button', { name: 'Apply given OAuth2 credentials' }).click(),
      ]);
      assert.equal(token.status(), 200);
      await scheme.getByRole('button', { name: 'Close' }).click();
      const operation = page.locator('.opblock[id$="-getApiV1Users"]');
      await operation.locator('.opblock-summary').first().click();
      await operation.getByRole('button', { name: 'Try it out' }).click();
      await operation.locator('tr[data-param-name="x-tenant"] input').fill(String(tenant.id));
      const [res] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/users'),
        operation.getByRole('button', { name: 'Execute' }).click(),
      ]);
      assert.match(res.request().headers().authorization ?? '', /^Bearer ey/);
      assert.equal(res.status(), 200);
    } finally {
      await browser.close();
    }
  });

  it('account: the neptun-session cookie from Try it out on sign-up is sent by the browser on GET /api/users/{user_id}; user-admin: the raw API key from Authorize', async () => {
    const browser = await launchBrowser();
    try {
      const { page } = await openPage(browser);
      await page.goto(`${s.url}/docs`);
      const tryOut = async (operationId: string, fill: (op: ReturnType<typeof page.locator>) => Promise<void>, path: string) => {
        const operation = page.locator(`.opblock[id$="-${operationId}"]`);
        await operation.locator('.opblock-summary').first().click();
        await operation.getByRole('button', { name: 'Try it out' }).click();
        await fill(operation);
        const [res] = await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname === path),
          operation.getByRole('button', { name: 'Execute' }).click(),
        ]);
        return res;
      };
      const signedUp = await tryOut('postApiAuthSignUp', (op) => op.locator('textarea.body-param__text').fill(JSON.stringify({ email: uniqueEmail('docs'), password: 'password-123' })), '/api/auth/sign-up');
      assert.equal(signedUp.status(), 200);
      const id: number = (await signedUp.json()).user.id;
      const me = await tryOut('getApiUsersByUserId', (op) => op.locator('tr[data-param-name="user_id"] input').fill(String(id)), `/api/users/${id}`);
      assert.match((await me.request().allHeaders()).cookie ?? '', /neptun-session=/);
      assert.equal(me.status(), 200);

      await page.getByRole('button', { name: 'Authorize' }).first().click();
      const scheme = page.locator('.modal-ux .auth-container').filter({ hasText: 'useradminApiKey' });
      await scheme.locator('input').first().fill(ADMIN_TOKEN);
      await scheme.getByRole('button', { name: 'Apply credentials' }).click();
      await scheme.getByRole('button', { name: 'Close' }).click();
      const users = await tryOut('getApiAdminUserAdmin', async () => {}, '/api/admin/user-admin');
      assert.equal(users.request().headers().authorization, ADMIN_TOKEN);
      assert.equal(users.status(), 200);
    } finally {
      await browser.close();
    }
  });
});
