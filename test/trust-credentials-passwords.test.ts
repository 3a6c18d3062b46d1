// The credential policy (docs/credentials.md), columns password change, password reset, sign-out everywhere
// and deletion: every kind of credential obtained, the event caused, each credential presented again over
// HTTP and compared with its cell of the table (test/helpers/credentials.ts), on both engines.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { checkColumn, makeWorld, obtain, probe, type World } from './helpers/credentials.js';

for (const { engine, skip } of engines()) {
  describe(`credential policy: passwords, sign-out, deletion [${engine}]`, { skip }, () => {
    let s: TestServer;
    let w: World;
    before(async () => {
      s = await startServer(engine);
      w = await makeWorld(s.url);
    });
    after(async () => s?.close());

    for (const event of ['password_change', 'password_reset', 'sign_out_all', 'deletion'] as const) {
      it(`${event}: every credential kind as the table says`, async () => {
        await checkColumn(w, event);
      });
    }

    it('an invite link dies when the password is set another way (issue 16, finding 4), on every route that sets it', async () => {
      // The user-admin surface's own password route, and the account surface's self-service PATCH.
      const x = await obtain(w);
      const set = await http(s.url, `/api/admin/user-admin/${x.invitee.id}/change-password`, { token: ADMIN_TOKEN, body: { password: 'Another-password-3!' } });
      assert.equal(set.status, 200, set.text);
      assert.equal((await probe(w, x, 'invite')).verdict, 'cut');
      const accept = await http(s.url, '/auth/reset/password', { body: { token: x.invitee.invite, password: 'Attacker-password-4!' } });
      assert.equal(accept.status, 401, `the old link cannot take the account: ${accept.text}`);
      const signIn = await http(s.url, '/api/auth/sign-in', { body: { identifier: x.invitee.email, password: 'Another-password-3!' } });
      assert.equal(signIn.status, 200, 'the password set by the admin stands');
    });

    it('an invite link is single use, and accepting it ends nothing else', async () => {
      const x = await obtain(w);
      const first = await http(s.url, '/auth/reset/password', { body: { token: x.invitee.invite, password: 'Invitee-password-5!' } });
      assert.equal(first.status, 200, first.text);
      const again = await http(s.url, '/auth/reset/password', { body: { token: x.invitee.invite, password: 'Invitee-password-6!' } });
      assert.equal(again.status, 401, again.text);
      assert.equal((await http(s.url, `/auth/reset/validate?token=${encodeURIComponent(x.invitee.invite)}`)).status, 401);
      const signIn = await http(s.url, '/api/auth/sign-in', { body: { identifier: x.invitee.email, password: 'Invitee-password-5!' } });
      assert.equal(signIn.status, 200, signIn.text);
    });

    it('the system token (GATEHOUSE_INIT_API_TOKEN) has no user owner and keeps working through every event', async () => {
      for (const event of ['password_reset', 'deletion'] as const) await checkColumn(w, event);
      const res = await http(s.url, '/api/admin/users?limit=1', { token: ADMIN_TOKEN });
      assert.equal(res.status, 200, res.text);
      // An admin token made with the system token is the system's too.
      const made = await http(s.url, '/api/admin/api-tokens', { token: ADMIN_TOKEN, body: { name: 'made by the system' } });
      assert.equal(made.status, 201, made.text);
      assert.equal((await http(s.url, '/api/admin/users?limit=1', { token: made.body.token })).status, 200);
    });
  });
}
