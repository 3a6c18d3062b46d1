// Directory v1: POST /oauth/token (password, refresh_token, client_credentials), RFC 6749 errors, EdDSA
// access tokens verified by the JWKS, expiry, refresh rotation and reuse, revocation, key rotation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { asSession, createUser, signIn, uniqueEmail } from './helpers/admin.js';
import {
  ALL_PERMISSIONS, addMember, createClient, createRole, createTenant, member, passwordToken, tokenRequest, v1, type Client,
} from './helpers/directory.js';

const basic = (c: Client) => `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.secret)}`).toString('base64')}`;

for (const { engine, skip } of engines()) {
  describe(`oauth token endpoint and bearer tokens [${engine}]`, { skip }, () => {
    let s: TestServer;
    let client: Client;
    let tenant: { id: number };
    let role: { id: number };
    let user: { id: number; email: string };
    const PASSWORD = 'oauth-user-pass-1';

    before(async () => {
      s = await startServer(engine);
      client = await createClient(s.url, ['password', 'refresh_token', 'client_credentials']);
      tenant = await createTenant(s.url);
      role = await createRole(s.url, tenant.id, 'Admin', ALL_PERMISSIONS);
      user = await createUser(s.url, { email: uniqueEmail('oauth'), password: PASSWORD });
      await addMember(s.url, tenant.id, user.id, [role.id]);
    });
    after(async () => s?.close());

    const grant = (extra: Record<string, string>) => tokenRequest(s.url, { client_id: client.client_id, client_secret: client.secret, ...extra });

    it('password grant: form, JSON and HTTP Basic client authentication; an EdDSA JWT with a kid and the tenant list', async () => {
      const form = await grant({ grant_type: 'password', username: user.email, password: PASSWORD });
      assert.equal(form.status, 200, form.text);
      assert.equal(form.body.token_type, 'Bearer');
      assert.equal(form.body.expires_in, 300);
      assert.equal(typeof form.body.access_token, 'string');
      assert.equal(typeof form.body.refresh_token, 'string');
      assert.equal(form.headers.get('cache-control'), 'no-store');
      const header = decodeProtectedHeader(form.body.access_token);
      assert.equal(header.alg, 'EdDSA');
      assert.equal(typeof header.kid, 'string');
      const claims = decodeJwt(form.body.access_token);
      assert.equal(claims.sub, String(user.id));
      assert.deepEqual(claims.tenants, [tenant.id]);
      assert.equal(claims.client_id, client.client_id);
      assert.equal((claims.exp as number) - (claims.iat as number), 300);
      const json = await http(s.url, '/oauth/token', { body: { grant_type: 'password', client_id: client.client_id, client_secret: client.secret, username: user.email.toUpperCase(), password: PASSWORD } });
      assert.equal(json.status, 200, json.text);
      const viaBasic = await tokenRequest(s.url, { grant_type: 'password', username: user.email, password: PASSWORD }, { authorization: basic(client) });
      assert.equal(viaBasic.status, 200, viaBasic.text);
      for (const t of [form, json, viaBasic]) {
        const res = await v1(s.url, '/users', { token: t.body.access_token, tenant: tenant.id });
        assert.equal(res.status, 200);
      }
    });

    it('answers errors as RFC 6749 says', async () => {
      const other = await createClient(s.url, ['client_credentials']);
      const cases: Array<[string, () => Promise<import('./helpers/http.js').Res>, number, string]> = [
        ['no grant_type', () => grant({}), 400, 'invalid_request'],
        ['unknown grant', () => grant({ grant_type: 'authorization_code', code: 'x' }), 400, 'unsupported_grant_type'],
        ['no username', () => grant({ grant_type: 'password', password: PASSWORD }), 400, 'invalid_request'],
        ['no password', () => grant({ grant_type: 'password', username: user.email }), 400, 'invalid_request'],
        ['no refresh_token', () => grant({ grant_type: 'refresh_token' }), 400, 'invalid_request'],
        ['wrong password', () => grant({ grant_type: 'password', username: user.email, password: 'wrong-password' }), 400, 'invalid_grant'],
        ['unknown user', () => grant({ grant_type: 'password', username: 'nobody@example.com', password: PASSWORD }), 400, 'invalid_grant'],
        ['bad refresh token', () => grant({ grant_type: 'refresh_token', refresh_token: 'not-a-token' }), 400, 'invalid_grant'],
        ['wrong secret', () => tokenRequest(s.url, { grant_type: 'password', client_id: client.client_id, client_secret: 'wrong', username: user.email, password: PASSWORD }), 401, 'invalid_client'],
        ['unknown client', () => tokenRequest(s.url, { grant_type: 'client_credentials', client_id: 'nope', client_secret: 'nope' }), 401, 'invalid_client'],
        ['no client', () => tokenRequest(s.url, { grant_type: 'password', username: user.email, password: PASSWORD }), 401, 'invalid_client'],
        ['bad basic', () => tokenRequest(s.url, { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${client.client_id}:wrong`).toString('base64')}` }), 401, 'invalid_client'],
        ['grant not allowed', () => tokenRequest(s.url, { grant_type: 'password', client_id: other.client_id, client_secret: other.secret, username: user.email, password: PASSWORD }), 400, 'unauthorized_client'],
        ['two auth methods', () => tokenRequest(s.url, { grant_type: 'client_credentials', client_secret: client.secret }, { authorization: basic(client) }), 400, 'invalid_request'],
        ['malformed json', () => http(s.url, '/oauth/token', { raw: '{"grant_type":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request'],
        ['wrong types', () => http(s.url, '/oauth/token', { body: { grant_type: 5, client_id: [client.client_id] } }), 400, 'invalid_request'],
        ['array body', () => http(s.url, '/oauth/token', { body: [1] }), 400, 'invalid_request'],
        ['text/plain', () => http(s.url, '/oauth/token', { raw: 'grant_type=password', headers: { 'content-type': 'text/plain' } }), 400, 'invalid_request'],
        ['no body', () => http(s.url, '/oauth/token', { method: 'POST' }), 400, 'invalid_request'],
        ['NUL', () => grant({ grant_type: 'password', username: 'a\u0000b', password: PASSWORD }), 400, 'invalid_request'],
        ['huge username', () => grant({ grant_type: 'password', username: 'u'.repeat(5000), password: PASSWORD }), 400, 'invalid_request'],
      ];
      for (const [label, send, status, error] of cases) {
        const res = await send();
        assert.equal(res.status, status, `${label}: ${res.text}`);
        assert.equal(res.body.error, error, `${label}: ${res.text}`);
        assert.equal(typeof res.body.error_description, 'string', label);
        if (status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Basic/, label);
      }
      assert.equal((await http(s.url, '/oauth/token')).status, 404, 'GET is not a route');
    });

    it('refresh_token rotates; reusing a spent token revokes the whole chain', async () => {
      const first = await passwordToken(s.url, client, user.email, PASSWORD);
      const second = await grant({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
      assert.equal(second.status, 200, second.text);
      assert.notEqual(second.body.refresh_token, first.refresh_token);
      assert.notEqual(second.body.access_token, first.access_token);
      assert.equal(decodeJwt(second.body.access_token).sid, decodeJwt(first.access_token).sid, 'same session family');
      assert.equal((await v1(s.url, '/users', { token: second.body.access_token, tenant: tenant.id })).status, 200);
      const reuse = await grant({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
      assert.equal(reuse.status, 400);
      assert.equal(reuse.body.error, 'invalid_grant');
      // The chain is revoked: the newest refresh token and every access token of the session stop working.
      const next = await grant({ grant_type: 'refresh_token', refresh_token: second.body.refresh_token });
      assert.equal(next.status, 400);
      assert.equal(next.body.error, 'invalid_grant');
      assert.equal((await v1(s.url, '/users', { token: second.body.access_token, tenant: tenant.id })).status, 401);
      assert.equal((await v1(s.url, '/users', { token: first.access_token, tenant: tenant.id })).status, 401);
    });

    it("a refresh token works only for its own client, and admin-cookie refresh tokens are not OAuth grants", async () => {
      const t = await passwordToken(s.url, client, user.email, PASSWORD);
      const thief = await createClient(s.url, ['password', 'refresh_token']);
      const stolen = await tokenRequest(s.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: thief.client_id, client_secret: thief.secret });
      assert.equal(stolen.status, 400);
      assert.equal(stolen.body.error, 'invalid_grant');
      const own = await grant({ grant_type: 'refresh_token', refresh_token: t.refresh_token });
      assert.equal(own.status, 200, 'not spent by the refused attempt');
      const admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const cross = await grant({ grant_type: 'refresh_token', refresh_token: admin.refresh });
      assert.equal(cross.status, 400);
      assert.equal(cross.body.error, 'invalid_grant');
      assert.equal((await http(s.url, '/api/auth/session', { cookie: admin.cookie })).status, 200, 'the admin session is untouched');
      // Nor is an access token an admin-surface credential, or an admin cookie a directory credential.
      assert.equal((await http(s.url, '/api/admin/users', { token: t.access_token })).status, 401);
      assert.equal((await http(s.url, '/api/v1/users', { cookie: admin.cookie, headers: { 'x-tenant': String(tenant.id) } })).status, 401);
    });

    it('client_credentials acts as the client\'s service account, a member like any other; no refresh token', async () => {
      const svcClient = await createClient(s.url, ['client_credentials']);
      assert.ok(svcClient.service_user_id);
      const t = await tokenRequest(s.url, { grant_type: 'client_credentials' }, { authorization: basic(svcClient) });
      assert.equal(t.status, 200, t.text);
      assert.equal(t.body.refresh_token, undefined);
      assert.equal(decodeJwt(t.body.access_token).sub, String(svcClient.service_user_id));
      assert.equal((await v1(s.url, '/users', { token: t.body.access_token, tenant: tenant.id })).status, 403, 'not a member yet');
      const viewer = await createRole(s.url, tenant.id, `Service viewer ${Date.now()}`, ['users.view']);
      await addMember(s.url, tenant.id, svcClient.service_user_id!, [viewer.id]);
      assert.equal((await v1(s.url, '/users', { token: t.body.access_token, tenant: tenant.id })).status, 200);
      assert.equal((await v1(s.url, `/users/${user.id}`, { method: 'PUT', token: t.body.access_token, tenant: tenant.id, body: { title: 'x' } })).status, 403);
      // A password grant cannot sign in as the service account (it has no password).
      const svcLogin = await grant({ grant_type: 'password', username: `oauth-client-${svcClient.client_id}`, password: 'anything-at-all' });
      assert.equal(svcLogin.body.error, 'invalid_grant');
      // Deleting the client ends its tokens at once.
      const del = await http(s.url, `/api/admin/oauth-clients/${svcClient.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal(del.status, 200, del.text);
      assert.equal((await v1(s.url, '/users', { token: t.body.access_token, tenant: tenant.id })).status, 401);
      const again = await tokenRequest(s.url, { grant_type: 'client_credentials' }, { authorization: basic(svcClient) });
      assert.equal(again.status, 401);
    });

    it('rotating a client secret: the new one is shown once, the old one is refused at once; audited without the secret', async () => {
      const c = await createClient(s.url, ['password', 'refresh_token']);
      const before = await passwordToken(s.url, c, user.email, PASSWORD);
      // Cookie callers need the CSRF header, like every admin write.
      const admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const noCsrf = await http(s.url, `/api/admin/oauth-clients/${c.id}/rotate-secret`, { method: 'POST', cookie: admin.cookie });
      assert.equal(noCsrf.status, 403, noCsrf.text);
      assert.equal((await http(s.url, `/api/admin/oauth-clients/${c.id}/rotate-secret`, { method: 'POST' })).status, 401);
      const plain = await createUser(s.url, { email: uniqueEmail('not-admin'), password: 'plain-member-1' });
      const ms = await signIn(s.url, plain.email, 'plain-member-1');
      const notAdmin = await http(s.url, `/api/admin/oauth-clients/${c.id}/rotate-secret`, { method: 'POST', ...asSession(ms) });
      assert.equal(notAdmin.status, 403, notAdmin.text);
      assert.equal(notAdmin.body.error, 'Forbidden');
      const rot = await http(s.url, `/api/admin/oauth-clients/${c.id}/rotate-secret`, { method: 'POST', ...asSession(admin) });
      assert.equal(rot.status, 200, rot.text);
      assert.equal(rot.body.ok, true);
      assert.equal(rot.body.updated, true);
      assert.equal(rot.body.item.id, c.id);
      assert.equal(rot.body.item.client_id, c.client_id);
      assert.match(rot.body.client_secret, /^gcs_/);
      assert.notEqual(rot.body.client_secret, c.secret);
      assert.equal(rot.headers.get('cache-control'), 'no-store');
      const old = await tokenRequest(s.url, { grant_type: 'password', client_id: c.client_id, client_secret: c.secret, username: user.email, password: PASSWORD });
      assert.equal(old.status, 401);
      assert.equal(old.body.error, 'invalid_client');
      const fresh = await passwordToken(s.url, { ...c, secret: rot.body.client_secret }, user.email, PASSWORD);
      assert.equal(typeof fresh.access_token, 'string');
      assert.equal((await v1(s.url, '/users', { token: before.access_token, tenant: tenant.id })).status, 200, 'granted sessions stay');
      // Never listed again; the audit event names the client, not the secret.
      const list = await http(s.url, '/api/admin/oauth-clients', { token: ADMIN_TOKEN });
      assert.ok(!list.text.includes(rot.body.client_secret));
      const audit = await http(s.url, `/api/admin/audit-events?target_type=oauth_client&target_id=${c.id}`, { token: ADMIN_TOKEN });
      assert.equal(audit.status, 200, audit.text);
      const ev = audit.body.items.find((e: any) => e.action === 'oauth_client.secret_rotated');
      assert.ok(ev, audit.text);
      assert.ok(!audit.text.includes(rot.body.client_secret));
      assert.ok(!audit.text.includes(c.secret));
      // Unknown client: 404 in the admin error shape; a malformed id: 400.
      const missing = await http(s.url, '/api/admin/oauth-clients/999999/rotate-secret', { method: 'POST', token: ADMIN_TOKEN });
      assert.equal(missing.status, 404, missing.text);
      assert.equal(missing.body.error, 'Not Found');
      assert.equal(missing.body.code, 404);
      assert.equal((await http(s.url, '/api/admin/oauth-clients/abc/rotate-secret', { method: 'POST', token: ADMIN_TOKEN })).status, 400);
    });

    it("a revoked user's tokens are refused at once: deactivation, password change, deletion", async () => {
      const admin = await member(s.url, client, tenant.id, [role.id]);
      const victim = await member(s.url, client, tenant.id, []);
      assert.equal((await v1(s.url, '/account/roles', { token: victim.token })).status, 200);
      const off = await v1(s.url, `/users/${victim.id}`, { method: 'PUT', token: admin.token, tenant: tenant.id, body: { is_active: false } });
      assert.equal(off.status, 200, off.text);
      assert.equal((await v1(s.url, '/account/roles', { token: victim.token })).status, 401);
      assert.equal((await grant({ grant_type: 'refresh_token', refresh_token: victim.refresh })).body.error, 'invalid_grant');
      assert.equal((await grant({ grant_type: 'password', username: victim.email, password: victim.password })).body.error, 'invalid_grant');
      await v1(s.url, `/users/${victim.id}`, { method: 'PUT', token: admin.token, tenant: tenant.id, body: { is_active: true } });
      const t2 = await passwordToken(s.url, client, victim.email, victim.password);
      assert.equal((await v1(s.url, '/account/roles', { token: t2.access_token })).status, 200);
      // A password change elsewhere (admin surface) revokes every session, OAuth ones included.
      const pw = await http(s.url, `/api/admin/users/${victim.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { password: 'changed-password-1' } });
      assert.equal(pw.status, 200, pw.text);
      assert.ok(pw.body.sessions_revoked >= 1);
      assert.equal((await v1(s.url, '/account/roles', { token: t2.access_token })).status, 401);
      assert.equal((await grant({ grant_type: 'refresh_token', refresh_token: t2.refresh_token })).body.error, 'invalid_grant');
      // Changing one's own password through PUT keeps the caller's own session and ends the others.
      const otherSession = await passwordToken(s.url, client, admin.email, admin.password);
      const own = await v1(s.url, `/users/${admin.id}`, { method: 'PUT', token: admin.token, tenant: tenant.id, body: { password: 'admin-new-pass-1', password_confirmation: 'admin-new-pass-1' } });
      assert.equal(own.status, 200, own.text);
      assert.equal((await v1(s.url, '/account/roles', { token: admin.token })).status, 200);
      assert.equal((await v1(s.url, '/account/roles', { token: otherSession.access_token })).status, 401);
      // Deleting the user (admin surface) ends everything.
      assert.equal((await http(s.url, `/api/admin/users/${victim.id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 200);
      const t4 = await grant({ grant_type: 'password', username: victim.email, password: 'changed-password-1' });
      assert.equal(t4.body.error, 'invalid_grant');
    });

    it('the JWKS verifies issued tokens with jose; forged or tampered tokens are refused', async () => {
      const t = await passwordToken(s.url, client, user.email, PASSWORD);
      const jwks = await http(s.url, '/.well-known/jwks.json');
      assert.equal(jwks.status, 200);
      assert.ok(jwks.body.keys.length >= 1);
      for (const k of jwks.body.keys) {
        assert.equal(k.kty, 'OKP');
        assert.equal(k.crv, 'Ed25519');
        assert.equal(k.alg, 'EdDSA');
        assert.ok(!('d' in k), 'no private part');
      }
      const { payload, protectedHeader } = await jwtVerify(t.access_token, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'] });
      assert.equal(payload.sub, String(user.id));
      assert.ok(jwks.body.keys.some((k: { kid: string }) => k.kid === protectedHeader.kid));
      const [h, p, sig] = t.access_token.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: '1' })).toString('base64url')}.${sig}`;
      assert.equal((await v1(s.url, '/users', { token: tampered, tenant: tenant.id })).status, 401);
      const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: protectedHeader.kid }).sign(new TextEncoder().encode('x'.repeat(32)));
      assert.equal((await v1(s.url, '/users', { token: hs, tenant: tenant.id })).status, 401);
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
      assert.equal((await v1(s.url, '/users', { token: none, tenant: tenant.id })).status, 401);
      assert.equal((await v1(s.url, '/users', { token: `${h}.${p}.${'A'.repeat(86)}`, tenant: tenant.id })).status, 401);
    });

    it('rotating the signing key logs nobody out; a second node verifies the first one\'s tokens', async () => {
      const before = await passwordToken(s.url, client, user.email, PASSWORD);
      const oldKid = decodeProtectedHeader(before.access_token).kid;
      const rot = await http(s.url, '/api/admin/oauth-keys/rotate', { method: 'POST', token: ADMIN_TOKEN });
      assert.equal(rot.status, 200, rot.text);
      assert.notEqual(rot.body.kid, oldKid);
      assert.ok(rot.body.retired.includes(oldKid));
      assert.equal((await v1(s.url, '/users', { token: before.access_token, tenant: tenant.id })).status, 200, 'old tokens still work');
      const after = await passwordToken(s.url, client, user.email, PASSWORD);
      assert.equal(decodeProtectedHeader(after.access_token).kid, rot.body.kid);
      const jwks = (await http(s.url, '/.well-known/jwks.json')).body;
      const kids = jwks.keys.map((k: { kid: string }) => k.kid);
      assert.ok(kids.includes(oldKid) && kids.includes(rot.body.kid), 'both keys published');
      await jwtVerify(before.access_token, createLocalJWKSet(jwks));
      await jwtVerify(after.access_token, createLocalJWKSet(jwks));
      const refreshed = await grant({ grant_type: 'refresh_token', refresh_token: before.refresh_token });
      assert.equal(refreshed.status, 200, 'refresh tokens survive a rotation');
      const keys = await http(s.url, '/api/admin/oauth-keys', { token: ADMIN_TOKEN });
      assert.equal(keys.body.items.filter((k: { signing: boolean }) => k.signing).length, 1);
      const node2 = await startServer(engine, { db: s.db });
      try {
        assert.equal((await v1(node2.url, '/users', { token: after.access_token, tenant: tenant.id })).status, 200);
        const fromNode2 = await passwordToken(node2.url, client, user.email, PASSWORD);
        assert.equal((await v1(s.url, '/users', { token: fromNode2.access_token, tenant: tenant.id })).status, 200);
      } finally {
        await node2.close();
      }
    });
  });

  describe(`oauth access token expiry [${engine}]`, { skip }, () => {
    let s: TestServer;
    after(async () => s?.close());

    it('an access token stops working when it expires (GATEHOUSE_ACCESS_TTL=1); its refresh token still works', async () => {
      s = await startServer(engine, { env: { GATEHOUSE_ACCESS_TTL: '1' } });
      const client = await createClient(s.url);
      const tenant = await createTenant(s.url);
      const m = await member(s.url, client, tenant.id, []);
      const t = await passwordToken(s.url, client, m.email, m.password);
      assert.equal(t.expires_in, 1);
      const fresh = await v1(s.url, '/account/roles', { token: t.access_token });
      assert.equal(fresh.status, 200);
      await new Promise((r) => setTimeout(r, 2100));
      const expired = await v1(s.url, '/account/roles', { token: t.access_token });
      assert.equal(expired.status, 401);
      assert.deepEqual(expired.body, { message: 'Unauthenticated.' });
      const r = await tokenRequest(s.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: client.client_id, client_secret: client.secret });
      assert.equal(r.status, 200);
      assert.equal((await v1(s.url, '/account/roles', { token: r.body.access_token })).status, 200);
    });
  });
}
