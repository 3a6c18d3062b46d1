// Issue 20 (the admin console's needs), over real HTTP on each engine: the users list total; a user's
// sessions, API tokens and tenant memberships; invites from the admin API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { cookieHeader, http } from './helpers/http.js';
import { asSession, createUser, signIn, uniqueEmail, type AdminSession } from './helpers/admin.js';
import { SmtpReceiver, waitFor } from './helpers/delivery.js';
import { seededIdentity, seedUsers } from '../bench/seed.js';

const PUBLIC_URL = 'https://users.example.test';
const SESSION_KEYS = ['created_at', 'current', 'expires_at', 'id', 'ip', 'kind', 'last_seen_at', 'user_agent'];
const TOKEN_KEYS = ['created_at', 'created_by', 'expires_at', 'id', 'kind', 'last_used_at', 'name'];

/** Every string in a JSON body, flattened: to check a secret appears nowhere in it. */
function textOf(v: unknown): string {
  return JSON.stringify(v);
}

function tokenOf(link: string): string {
  const m = /[?&]token=([^&]+)/.exec(link);
  assert.ok(m, `a token in ${link}`);
  return decodeURIComponent(m[1]);
}

async function auditOf(s: TestServer, query: string): Promise<any[]> {
  const r = await http(s.url, `/api/admin/audit-events?${query}`, { token: ADMIN_TOKEN });
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

for (const { engine, skip } of engines()) {
  describe(`admin: a user's sessions, tokens, memberships, invites; list totals [${engine}]`, { skip }, () => {
    let s: TestServer;
    let admin: AdminSession;
    const smtp = new SmtpReceiver();
    before(async () => {
      await smtp.start();
      s = await startServer(engine, {
        dispatch: true,
        env: { GATEHOUSE_PUBLIC_URL: PUBLIC_URL, GATEHOUSE_SMTP_URL: smtp.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <gatehouse@example.test>', GATEHOUSE_OUTBOX_POLL_MS: '50', GATEHOUSE_INVITE_TTL: '48h' },
      });
      admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
    after(async () => {
      await s?.close();
      await smtp.stop();
    });

    // ---- totals

    it('with total=true the users list carries total and total_exact for the query, the same on every page, beside the fields it had', async () => {
      const tag = `tot${process.pid}x`;
      const made = [];
      for (let i = 0; i < 7; i++) made.push(await createUser(s.url, { username: `${tag}${i}`, is_active: i < 5 }));
      const first = await http(s.url, `/api/admin/users?total=true&q=${tag}&limit=3`, { token: ADMIN_TOKEN });
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(Object.keys(first.body).sort(), ['items', 'limit', 'next_cursor', 'ok', 'total', 'total_exact']);
      // Not asked for: the page as before, without them.
      const plain = await http(s.url, `/api/admin/users?q=${tag}&limit=3`, { token: ADMIN_TOKEN });
      assert.deepEqual(Object.keys(plain.body).sort(), ['items', 'limit', 'next_cursor', 'ok']);
      assert.deepEqual(plain.body.items, first.body.items);
      const off = await http(s.url, `/api/admin/users?q=${tag}&limit=3&total=false`, { token: ADMIN_TOKEN });
      assert.ok(!('total' in off.body));
      assert.equal((await http(s.url, `/api/admin/users?q=${tag}&total=maybe`, { token: ADMIN_TOKEN })).status, 400);
      assert.equal(first.body.total, 7);
      assert.equal(first.body.total_exact, true);
      assert.equal(first.body.items.length, 3);
      const second = await http(s.url, `/api/admin/users?total=true&q=${tag}&limit=3&cursor=${encodeURIComponent(first.body.next_cursor)}`, { token: ADMIN_TOKEN });
      assert.equal(second.status, 200, second.text);
      assert.equal(second.body.total, 7);
      // Filters apply to the total: 5 active, 2 not.
      const active = await http(s.url, `/api/admin/users?total=true&q=${tag}&is_active=true&limit=2`, { token: ADMIN_TOKEN });
      assert.equal(active.body.total, 5);
      const inactive = await http(s.url, `/api/admin/users?total=true&q=${tag}&active=0`, { token: ADMIN_TOKEN });
      assert.equal(inactive.body.total, 2);
      assert.equal(inactive.body.items.length, 2);
      // A user found by two keys (username and email both start with the prefix) counts once.
      const both = await createUser(s.url, { username: `${tag}dup`, email: `${tag}dup@example.com` });
      const again = await http(s.url, `/api/admin/users?total=true&q=${tag}&limit=1`, { token: ADMIN_TOKEN });
      assert.equal(again.body.total, 8);
      // The email "contains" filter (a list in id order) and a search with no match.
      const byEmail = await http(s.url, `/api/admin/users?total=true&email=${tag}dup&limit=1`, { token: ADMIN_TOKEN });
      assert.equal(byEmail.body.total, 1);
      assert.equal(byEmail.body.items[0].id, both.id);
      const none = await http(s.url, '/api/admin/users?total=true&q=zz-no-such-user', { token: ADMIN_TOKEN });
      assert.deepEqual([none.body.total, none.body.total_exact, none.body.items.length], [0, true, 0]);
      // A deleted user leaves the total.
      assert.equal((await http(s.url, `/api/admin/users/${made[0].id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 200);
      assert.equal((await http(s.url, `/api/admin/users?total=true&q=${tag}&limit=1`, { token: ADMIN_TOKEN })).body.total, 7);
    });

    it('past 1,000 matches: a search or a filtered list says total 1000, not exact; the unfiltered list estimates', async () => {
      const seeded = await seedUsers(s.store, 1_200, { hash: 'not-a-usable-hash' });
      if (s.engine === 'postgres') await sql`analyze users`.execute(s.store.db);
      const live = Number((await s.store.db.selectFrom('users').select(sql<number>`count(*)`.as('n')).where('deleted_at', 'is', null).executeTakeFirstOrThrow()).n);
      const all = await http(s.url, '/api/admin/users?total=true&limit=10', { token: ADMIN_TOKEN });
      assert.equal(all.status, 200, all.text);
      // An estimate: no user was deleted here, so within 10% of the count either way.
      assert.equal(all.body.total_exact, false);
      assert.ok(Math.abs(all.body.total - live) <= live * 0.1, `estimate ${all.body.total} near ${live}`);
      // Every seeded user's email ends in one of five domains; a filter that keeps more than 1,000 of them.
      const filtered = await http(s.url, '/api/admin/users?total=true&is_active=true&limit=5', { token: ADMIN_TOKEN });
      assert.deepEqual([filtered.body.total, filtered.body.total_exact], [1000, false]);
      const contains = await http(s.url, '/api/admin/users?total=true&email=example&limit=5', { token: ADMIN_TOKEN });
      assert.deepEqual([contains.body.total, contains.body.total_exact], [1000, false]);
      // A common first letter among the seeded names: over 1,000 matches in one key range or across them.
      const counts = await s.store.db.selectFrom('users').select([sql<string>`substr(email_key, 1, 1)`.as('p'), sql<number>`count(*)`.as('n')])
        .where('deleted_at', 'is', null).groupBy(sql`substr(email_key, 1, 1)`).orderBy(sql`count(*)`, 'desc').execute();
      const top = counts[0];
      const search = await http(s.url, `/api/admin/users?total=true&q=${top.p}&limit=5`, { token: ADMIN_TOKEN });
      if (Number(top.n) > 1000) assert.deepEqual([search.body.total, search.body.total_exact], [1000, false]);
      else assert.ok(search.body.total >= Number(top.n));
      // A rare prefix stays exact.
      const one = await http(s.url, `/api/admin/users?total=true&q=${seededIdentity(seeded.lastId).username}&limit=5`, { token: ADMIN_TOKEN });
      assert.deepEqual([one.body.total, one.body.total_exact, one.body.items.length], [1, true, 1]);
    });

    // ---- sessions

    it("lists a user's live sessions without secrets, ends one (refused on the next request), then all, each with an audit event", async () => {
      const email = uniqueEmail('sess');
      const user = await createUser(s.url, { email, password: 'password-123' });
      const a = await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'password-123' }, headers: { 'user-agent': 'browser-A' } });
      const b = await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'password-123' }, headers: { 'user-agent': 'browser-B' } });
      assert.equal(a.status, 200, a.text);
      const cookieA = cookieHeader({ '__Host-access': a.cookies['__Host-access'], '__Host-refresh': a.cookies['__Host-refresh'] });
      const cookieB = cookieHeader({ '__Host-access': b.cookies['__Host-access'], '__Host-refresh': b.cookies['__Host-refresh'] });
      const list = await http(s.url, `/api/admin/users/${user.id}/sessions`, { token: ADMIN_TOKEN });
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.has_more, false);
      assert.equal(list.body.items.length, 2);
      for (const item of list.body.items) {
        assert.deepEqual(Object.keys(item).sort(), SESSION_KEYS);
        assert.equal(item.kind, 'admin');
        assert.equal(item.current, false);
        assert.equal(item.ip, '127.0.0.1');
      }
      // Newest first; the cookies' values appear nowhere.
      assert.deepEqual(list.body.items.map((i: any) => i.user_agent), ['browser-B', 'browser-A']);
      for (const v of [a.cookies['__Host-access'], a.cookies['__Host-refresh'], b.cookies['__Host-refresh']]) assert.ok(!list.text.includes(v));

      const idA = a.body.session.session_family_id;
      const one = await http(s.url, `/api/admin/users/${user.id}/sessions/${idA}`, { method: 'DELETE', ...asSession(admin) });
      assert.equal(one.status, 200, one.text);
      assert.deepEqual([one.body.deleted, one.body.item.id], [true, idA]);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: cookieA })).status, 401);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: cookieB })).status, 200);
      // Its refresh token is dead with it.
      assert.equal((await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: cookieA })).status, 401);
      // Already ended, someone else's or unknown: 404; malformed: 400 in the admin shape.
      assert.equal((await http(s.url, `/api/admin/users/${user.id}/sessions/${idA}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 404);
      assert.equal((await http(s.url, `/api/admin/users/${user.id}/sessions/${admin.familyId}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 404);
      const bad = await http(s.url, `/api/admin/users/${user.id}/sessions/${'x'.repeat(65)}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.body.error, 'invalid_params');
      assert.equal((await http(s.url, '/api/admin/users/999999/sessions', { token: ADMIN_TOKEN })).body.error, 'Not Found');

      // A cookie write without the CSRF token is refused; with it, every session ends.
      const noCsrf = await http(s.url, `/api/admin/users/${user.id}/sessions`, { method: 'DELETE', cookie: admin.cookie });
      assert.equal(noCsrf.status, 403);
      assert.equal(noCsrf.body.error, 'csrf_required');
      const all = await http(s.url, `/api/admin/users/${user.id}/sessions`, { method: 'DELETE', ...asSession(admin) });
      assert.equal(all.status, 200, all.text);
      assert.equal(all.body.sessions_revoked, 1);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: cookieB })).status, 401);
      assert.deepEqual((await http(s.url, `/api/admin/users/${user.id}/sessions`, { token: ADMIN_TOKEN })).body.items, []);

      const revoked = await auditOf(s, `action=session.revoked&target_type=session&target_id=${idA}`);
      assert.equal(revoked.length, 1);
      assert.equal(revoked[0].after.reason, 'revoked_by_admin');
      assert.equal(revoked[0].actor.id, String(admin.userId));
      const allEvents = await auditOf(s, `action=user.sessions_revoked&target_type=user&target_id=${user.id}`);
      assert.equal(allEvents[0].after.sessions_revoked, 1);
      for (const e of [...revoked, ...allEvents]) assert.ok(!textOf(e).includes(b.cookies['__Host-refresh']));
    });

    it('the admin ending their own current session gets their cookies cleared; the list marks it current', async () => {
      const me = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const list = await http(s.url, `/api/admin/users/${me.userId}/sessions`, { ...asSession(me) });
      assert.equal(list.body.items.find((i: any) => i.id === me.familyId)?.current, true);
      const end = await http(s.url, `/api/admin/users/${me.userId}/sessions/${me.familyId}`, { method: 'DELETE', ...asSession(me) });
      assert.equal(end.status, 200, end.text);
      assert.equal(end.cookies['__Host-access'], '');
      assert.equal((await http(s.url, '/api/auth/session', { cookie: me.cookie })).status, 401);
    });

    it('non-administrators cannot read or end anyone\'s sessions (403), and no credentials is 401', async () => {
      const email = uniqueEmail('member');
      const member = await createUser(s.url, { email, password: 'password-123' });
      const m = await signIn(s.url, email, 'password-123');
      const r = await http(s.url, `/api/admin/users/${member.id}/sessions`, { ...asSession(m) });
      assert.equal(r.status, 403);
      assert.equal(r.body.error, 'Forbidden');
      assert.equal((await http(s.url, `/api/admin/users/${member.id}/sessions`, { method: 'DELETE', ...asSession(m) })).status, 403);
      assert.equal((await http(s.url, `/api/admin/users/${member.id}/tokens`)).status, 401);
    });

    // ---- API tokens

    it("lists a user's personal tokens and the admin tokens acting for them (never the secret), revokes one (refused next request)", async () => {
      const email = uniqueEmail('tok');
      const user = await createUser(s.url, { email, password: 'Str0ng-pass!word', root_role: 'Admin' });
      // A personal access token, made by the user on the user-admin surface.
      const login = await http(s.url, '/auth/simple/login', { body: { username: email, password: 'Str0ng-pass!word' } });
      assert.equal(login.status, 200, login.text);
      const pat = await http(s.url, '/api/admin/user/tokens', {
        cookie: `unleash-session=${login.cookies['unleash-session']}`,
        body: { description: 'ci', expiresAt: new Date(Date.now() + 86400_000).toISOString() },
      });
      assert.equal(pat.status, 201, pat.text);
      // An admin API token the user made with their admin session: it acts for them.
      const session = await signIn(s.url, email, 'Str0ng-pass!word');
      const adminTok = await http(s.url, '/api/admin/api-tokens', { ...asSession(session), body: { name: 'deploy' } });
      assert.equal(adminTok.status, 201, adminTok.text);

      const list = await http(s.url, `/api/admin/users/${user.id}/tokens`, { token: ADMIN_TOKEN });
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(list.body.items.map((t: any) => [t.name, t.kind]), [['ci', 'personal'], ['deploy', 'admin']]);
      for (const t of list.body.items) assert.deepEqual(Object.keys(t).sort(), TOKEN_KEYS);
      assert.ok(list.body.items[0].expires_at);
      assert.ok(!list.text.includes(pat.body.secret) && !list.text.includes(adminTok.body.token));

      // The personal token works, until revoked.
      assert.equal((await http(s.url, '/api/admin/user', { token: pat.body.secret })).status, 200);
      const patId = list.body.items[0].id;
      const del = await http(s.url, `/api/admin/users/${user.id}/tokens/${patId}`, { method: 'DELETE', ...asSession(admin) });
      assert.equal(del.status, 200, del.text);
      assert.deepEqual([del.body.deleted, del.body.item.name], [true, 'ci']);
      assert.equal((await http(s.url, '/api/admin/user', { token: pat.body.secret })).status, 401);
      // Gone, or another user's token: 404.
      assert.equal((await http(s.url, `/api/admin/users/${user.id}/tokens/${patId}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 404);
      const other = await createUser(s.url);
      const adminTokId = list.body.items[1].id;
      assert.equal((await http(s.url, `/api/admin/users/${other.id}/tokens/${adminTokId}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 404);
      assert.equal((await http(s.url, `/api/admin/users/${user.id}/tokens/abc`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 400);
      const events = await auditOf(s, `action=api_token.deleted&target_type=api_token&target_id=${patId}`);
      assert.equal(events.length, 1);
      assert.equal(events[0].before.user_id, user.id);
      assert.ok(!textOf(events).includes(pat.body.secret));
      assert.deepEqual((await http(s.url, '/api/admin/users/999999/tokens', { token: ADMIN_TOKEN })).status, 404);
    });

    // ---- memberships

    it("lists a user's tenant memberships with their roles there", async () => {
      const user = await createUser(s.url);
      assert.deepEqual((await http(s.url, `/api/admin/users/${user.id}/memberships`, { token: ADMIN_TOKEN })).body.items, []);
      const t1 = (await http(s.url, '/api/admin/tenants', { token: ADMIN_TOKEN, body: { name: `T1 ${uniqueEmail()}` } })).body.item;
      const t2 = (await http(s.url, '/api/admin/tenants', { token: ADMIN_TOKEN, body: { name: `T2 ${uniqueEmail()}` } })).body.item;
      const role = await http(s.url, `/api/admin/tenants/${t1.id}/roles`, { token: ADMIN_TOKEN, body: { name: 'billing', permissions: [] } });
      assert.equal(role.status, 201, role.text);
      assert.equal((await http(s.url, `/api/admin/tenants/${t1.id}/members`, { token: ADMIN_TOKEN, body: { user_id: user.id, role_ids: [role.body.item.id] } })).status, 201);
      assert.equal((await http(s.url, `/api/admin/tenants/${t2.id}/members`, { token: ADMIN_TOKEN, body: { user_id: user.id } })).status, 201);
      const r = await http(s.url, `/api/admin/users/${user.id}/memberships`, { token: ADMIN_TOKEN });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.items.map((m: any) => [m.tenant_id, m.tenant_name, m.role_ids, m.roles, m.deleted_at]), [
        [t1.id, t1.name, [role.body.item.id], [{ id: role.body.item.id, name: 'billing' }], null],
        [t2.id, t2.name, [], [], null],
      ]);
      assert.equal((await http(s.url, '/api/admin/users/999999/memberships', { token: ADMIN_TOKEN })).status, 404);
    });

    // ---- invites

    it('invites a user: no password, a one-time link from GATEHOUSE_PUBLIC_URL, the mail, an audit event without the token', async () => {
      const email = uniqueEmail('invite');
      const r = await http(s.url, '/api/admin/invites', { ...asSession(admin), body: { email, name: 'Ivy', root_role: 'Editor' } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.deepEqual([r.body.created, r.body.item.email, r.body.item.root_role, r.body.invite.email_sent], [true, email, 'Editor', true]);
      assert.ok(r.body.invite.link.startsWith(`${PUBLIC_URL}/new-user?token=`), r.body.invite.link);
      const ttl = Date.parse(r.body.invite.expires_at) - Date.now();
      assert.ok(ttl > 47.9 * 3600_000 && ttl <= 48 * 3600_000, `48h TTL, got ${ttl}`);
      const token = tokenOf(r.body.invite.link);
      const mail = await waitFor('the invite mail', () => smtp.to(email)[0]);
      assert.ok((mail.text ?? '').includes(encodeURIComponent(token)) || (mail.text ?? '').includes(token));
      const valid = await http(s.url, `/auth/reset/validate?token=${encodeURIComponent(token)}`);
      assert.equal(valid.status, 200, valid.text);
      assert.equal(valid.body.email, email);
      const events = await auditOf(s, `action=user.invite_created&target_type=user&target_id=${r.body.item.id}`);
      assert.equal(events.length, 1);
      assert.ok(!textOf(events).includes(token));
      // The user cannot sign in before setting a password; with the link they set it once.
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'anything-at-all' } })).status, 401);
      assert.equal((await http(s.url, '/auth/reset/password', { body: { token, password: 'Fresh-passw0rd!' } })).status, 200);
      assert.equal((await http(s.url, '/auth/reset/password', { body: { token, password: 'Other-passw0rd!' } })).status, 401);
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'Fresh-passw0rd!' } })).status, 200);
      // Now the user has a password: no new invite.
      const again = await http(s.url, `/api/admin/users/${r.body.item.id}/invite`, { method: 'POST', token: ADMIN_TOKEN });
      assert.equal(again.status, 409, again.text);
      assert.deepEqual([again.body.error, again.body.reason], ['Conflict', 'has_password']);
    });

    it('re-issues an invite: the old link stops working, the new one works; send_email=false sends none; bad input is 4xx', async () => {
      const email = uniqueEmail('reinvite');
      const first = await http(s.url, '/api/admin/invites', { token: ADMIN_TOKEN, body: { email, send_email: false } });
      assert.equal(first.status, 201, first.text);
      assert.equal(first.body.invite.email_sent, false);
      const id = first.body.item.id;
      const re = await http(s.url, `/api/admin/users/${id}/invite?send_email=false`, { method: 'POST', ...asSession(admin) });
      assert.equal(re.status, 201, re.text);
      assert.deepEqual([re.body.invites_ended, re.body.invite.email_sent, re.body.item.id], [1, false, id]);
      const oldToken = tokenOf(first.body.invite.link);
      const newToken = tokenOf(re.body.invite.link);
      assert.notEqual(oldToken, newToken);
      assert.equal((await http(s.url, `/auth/reset/validate?token=${encodeURIComponent(oldToken)}`)).status, 401);
      assert.equal((await http(s.url, `/auth/reset/validate?token=${encodeURIComponent(newToken)}`)).status, 200);
      const mailed = await http(s.url, `/api/admin/users/${id}/invite`, { method: 'POST', token: ADMIN_TOKEN });
      assert.equal(mailed.body.invite.email_sent, true);
      await waitFor('the re-sent invite mail', () => smtp.to(email)[0]);
      assert.equal(smtp.to(email).length, 1);
      // A deactivated user: the link would not work.
      assert.equal((await http(s.url, `/api/admin/users/${id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_active: false } })).status, 200);
      const inactive = await http(s.url, `/api/admin/users/${id}/invite`, { method: 'POST', token: ADMIN_TOKEN });
      assert.deepEqual([inactive.status, inactive.body.reason], [409, 'user_cannot_act']);
      assert.equal((await http(s.url, '/api/admin/users/999999/invite', { method: 'POST', token: ADMIN_TOKEN })).status, 404);
      // Creating: a taken email is 409, a bad one 400, none 400, a cookie write without CSRF 403.
      const dup = await http(s.url, '/api/admin/invites', { token: ADMIN_TOKEN, body: { email } });
      assert.equal(dup.status, 409, dup.text);
      const bad = await http(s.url, '/api/admin/invites', { token: ADMIN_TOKEN, body: { email: 'not-an-email' } });
      assert.deepEqual([bad.status, bad.body.error], [400, 'invalid_params']);
      assert.equal((await http(s.url, '/api/admin/invites', { token: ADMIN_TOKEN, body: {} })).status, 400);
      assert.equal((await http(s.url, '/api/admin/invites', { token: ADMIN_TOKEN, body: { email: uniqueEmail(), root_role: 'King' } })).status, 400);
      assert.equal((await http(s.url, '/api/admin/invites', { cookie: admin.cookie, body: { email: uniqueEmail() } })).status, 403);
    });
  });
}
