// The credential policy (docs/credentials.md), columns deactivation, reactivation and demotion: every kind
// of credential obtained, the event caused, each credential presented again over HTTP and compared with its
// cell of the table (test/helpers/credentials.ts), on both engines. With issue 16's finding 2 as reported (an
// admin API token whose maker was demoted and deactivated still created admins), the loss of a tenant role,
// and the invite lifetime (GATEHOUSE_INVITE_TTL).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { checkColumn, makeWorld, obtain, PASSWORD, uniq, withSession, type World } from './helpers/credentials.js';
import { tokenRequest } from './helpers/directory.js';
import { parseConfig } from '../src/platform/config.js';

for (const { engine, skip } of engines()) {
  describe(`credential policy: activity and roles [${engine}]`, { skip }, () => {
    let s: TestServer;
    let w: World;
    before(async () => {
      s = await startServer(engine, { env: { GATEHOUSE_INVITE_TTL: '36h' } });
      w = await makeWorld(s.url);
    });
    after(async () => s?.close());

    for (const event of ['deactivation', 'reactivation', 'demotion'] as const) {
      it(`${event}: every credential kind as the table says`, async () => {
        await checkColumn(w, event);
      });
    }

    it('finding 2: an admin API token whose maker is demoted, then deactivated, creates no admin', async () => {
      const x = await obtain(w);
      const createAdmin = () => http(s.url, '/api/admin/users', { token: x.adminToken, body: { email: `${uniq('made')}@example.com`, password: 'password-123', is_admin: true } });
      assert.equal((await createAdmin()).status, 201, 'while its maker is an admin, the token has admin power');
      const demote = await http(s.url, `/api/admin/users/${x.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_admin: false } });
      assert.equal(demote.status, 200, demote.text);
      const demoted = await createAdmin();
      assert.equal(demoted.status, 403, `after the demotion: ${demoted.text}`);
      const off = await http(s.url, `/api/admin/users/${x.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_active: false } });
      assert.equal(off.status, 200, off.text);
      assert.equal((await createAdmin()).status, 401, 'after the deactivation');
    });

    it('a token made by a token acts for the same user; re-promotion gives the power back', async () => {
      const x = await obtain(w);
      const child = await http(s.url, '/api/admin/api-tokens', { token: x.adminToken, body: { name: uniq('child') } });
      assert.equal(child.status, 201, child.text);
      const pat = await http(s.url, '/api/admin/api-tokens', { token: x.pat, body: { name: uniq('via-pat') } });
      assert.equal(pat.status, 201, pat.text);
      const list = (t: string) => http(s.url, '/api/admin/users?limit=1', { token: t });
      for (const t of [child.body.token, pat.body.token]) assert.equal((await list(t)).status, 200);
      assert.equal((await http(s.url, `/api/admin/users/${x.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_admin: false } })).status, 200);
      // Laundering through another token does not keep the power its maker lost.
      for (const t of [child.body.token, pat.body.token]) assert.equal((await list(t)).status, 403);
      assert.equal((await http(s.url, `/api/admin/users/${x.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_admin: true } })).status, 200);
      for (const t of [child.body.token, pat.body.token, x.adminToken]) assert.equal((await list(t)).status, 200);
      // A demoted user's own session cannot mint an admin token (the sessions ended; a new one is a Member's).
      assert.equal((await http(s.url, `/api/admin/users/${x.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_admin: false } })).status, 200);
      const mint = await http(s.url, '/api/admin/api-tokens', { ...withSession(x.b), body: { name: uniq('t') } });
      assert.equal(mint.status, 401, mint.text);
    });

    it('losing a tenant role cuts that tenant at once, for OAuth and personal tokens alike', async () => {
      const x = await obtain(w);
      // A root Admin reaches every tenant: the subject becomes a Member, with a new OAuth token (the
      // demotion ended the old one), so only its tenant role lets it in.
      assert.equal((await http(s.url, `/api/admin/users/${x.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_admin: false } })).status, 200);
      const grant = await tokenRequest(s.url, { grant_type: 'password', client_id: w.client.client_id, client_secret: w.client.secret, username: x.email, password: PASSWORD });
      assert.equal(grant.status, 200, grant.text);
      x.oauthAccess = grant.body.access_token;
      const read = (token: string) => http(s.url, '/api/v1/users', { token, headers: { 'x-tenant': String(w.tenantId) } });
      assert.equal((await read(x.oauthAccess)).status, 200);
      assert.equal((await read(x.pat)).status, 200);
      const gone = await http(s.url, `/api/admin/tenants/${w.tenantId}/members/${x.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal(gone.status, 200, gone.text);
      assert.equal((await read(x.oauthAccess)).status, 403);
      assert.equal((await read(x.pat)).status, 403);
    });

    it('GATEHOUSE_INVITE_TTL sets how long an invite link lives', async () => {
      const res = await http(s.url, '/api/admin/user-admin', { token: ADMIN_TOKEN, body: { email: `${uniq('ttl')}@example.com`, rootRole: 'Viewer' } });
      assert.equal(res.status, 201, res.text);
      const token = new URL(res.body.inviteLink).searchParams.get('token')!;
      const v = await http(s.url, `/auth/reset/validate?token=${encodeURIComponent(token)}`);
      assert.equal(v.status, 200, v.text);
      const lives = Date.parse(v.body.expiresAt) - Date.now();
      assert.ok(Math.abs(lives - 36 * 3600_000) < 60_000, `expires in ${lives} ms`);
    });
  });
}

describe('GATEHOUSE_INVITE_TTL parsing', () => {
  it('takes seconds or hours, defaults to 7 days, refuses anything else', () => {
    assert.equal(parseConfig({}).inviteTtlSeconds, 7 * 86400);
    assert.equal(parseConfig({ GATEHOUSE_INVITE_TTL: '3600' }).inviteTtlSeconds, 3600);
    assert.equal(parseConfig({ GATEHOUSE_INVITE_TTL: '900s' }).inviteTtlSeconds, 900);
    assert.equal(parseConfig({ GATEHOUSE_INVITE_TTL: '48h' }).inviteTtlSeconds, 48 * 3600);
    for (const bad of ['2d', '-1', '1.5h', 'soon', '10', '9999h']) {
      assert.throws(() => parseConfig({ GATEHOUSE_INVITE_TTL: bad }), /GATEHOUSE_INVITE_TTL/, bad);
    }
  });
});
