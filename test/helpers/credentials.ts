// The credential policy as a matrix (docs/credentials.md): every kind of credential a user can hold, every
// event that may cut it, and what presenting the credential after the event must give. The
// trust-credentials*.test.ts files run every cell over HTTP: obtain the credentials, cause the event, present
// each one (refresh kinds try to refresh) and compare with the table.
import assert from 'node:assert/strict';
import { ADMIN_TOKEN } from './harness.js';
import { cookieHeader, http, type Res } from './http.js';
import { addMember, createClient, createRole, createTenant, tokenRequest, type Client } from './directory.js';

export const KINDS = [
  'admin_access', 'admin_refresh', 'account_session', 'useradmin_session', 'oauth_access', 'oauth_refresh',
  'admin_api_token', 'personal_token', 'invite',
] as const;
export type Kind = (typeof KINDS)[number];

export const EVENTS = [
  'password_change', 'password_reset', 'sign_out_all', 'ban', 'ban_lifted', 'revoking_ban', 'revoking_ban_lifted',
  'deactivation', 'reactivation', 'deletion', 'demotion',
] as const;
export type Event = (typeof EVENTS)[number];

/**
 * ok: works as before; cut: refused (401, or 400 invalid_grant for an OAuth refresh); weaker: accepted, but
 * with the owner's new, lower power (403 on an admin route that answered 200 before); n/a: the kind cannot
 * meet the event (an invited user has no password to change and no session to sign out of).
 */
export type Verdict = 'ok' | 'cut' | 'weaker' | 'n/a';

const SESSION_ROW = (v: Partial<Record<Event, Verdict>>): Record<Event, Verdict> => ({
  password_change: 'cut', password_reset: 'cut', sign_out_all: 'cut', ban: 'cut', ban_lifted: 'ok',
  revoking_ban: 'cut', revoking_ban_lifted: 'cut', deactivation: 'cut', reactivation: 'cut', deletion: 'cut', demotion: 'cut', ...v,
});

/** The policy table (docs/credentials.md), cell by cell. */
export const TABLE: Record<Kind, Record<Event, Verdict>> = {
  admin_access: SESSION_ROW({}),
  admin_refresh: SESSION_ROW({}),
  account_session: SESSION_ROW({}),
  useradmin_session: SESSION_ROW({}),
  oauth_access: SESSION_ROW({}),
  oauth_refresh: SESSION_ROW({}),
  admin_api_token: {
    password_change: 'ok', password_reset: 'ok', sign_out_all: 'ok', ban: 'cut', ban_lifted: 'ok',
    revoking_ban: 'cut', revoking_ban_lifted: 'cut', deactivation: 'cut', reactivation: 'cut', deletion: 'cut', demotion: 'weaker',
  },
  personal_token: {
    password_change: 'ok', password_reset: 'ok', sign_out_all: 'ok', ban: 'cut', ban_lifted: 'ok',
    revoking_ban: 'cut', revoking_ban_lifted: 'cut', deactivation: 'cut', reactivation: 'cut', deletion: 'cut', demotion: 'weaker',
  },
  invite: {
    password_change: 'n/a', password_reset: 'cut', sign_out_all: 'n/a', ban: 'cut', ban_lifted: 'ok',
    revoking_ban: 'cut', revoking_ban_lifted: 'cut', deactivation: 'cut', reactivation: 'cut', deletion: 'cut', demotion: 'ok',
  },
};

export const PASSWORD = 'Subject-password-1!';
export const NEW_PASSWORD = 'Changed-password-2!';

let seq = 0;
export const uniq = (p: string) => `${p}${process.pid}x${Date.now().toString(36)}x${++seq}`.toLowerCase();

/** What every subject shares on one server: a tenant with a viewing role, an OAuth client. */
export interface World {
  url: string;
  tenantId: number;
  roleId: number;
  client: Client;
}

export async function makeWorld(url: string): Promise<World> {
  const tenant = await createTenant(url);
  const role = await createRole(url, tenant.id, 'Viewer', ['users.view']);
  const client = await createClient(url);
  return { url, tenantId: tenant.id, roleId: role.id, client };
}

/** An admin-surface cookie session (one sign-in = one session family). */
export interface AdminCookies {
  access: string;
  refresh: string;
  csrf: string;
}

/** One user (an Admin) holding one credential of every kind, and an invited user (no password) with an invite token. */
export interface Subject {
  id: number;
  email: string;
  username: string;
  /** The session family the credentials came from (its access and refresh cookies are the admin kinds). */
  a: AdminCookies;
  /** A second session family of the same user: the one that changes the password or signs out everywhere. */
  b: AdminCookies;
  account: string;
  useradmin: string;
  oauthAccess: string;
  oauthRefresh: string;
  adminToken: string;
  pat: string;
  invitee: { id: number; email: string; invite: string };
}

async function adminSignIn(url: string, identifier: string, password: string): Promise<AdminCookies> {
  const res = await http(url, '/api/auth/sign-in', { body: { identifier, password } });
  assert.equal(res.status, 200, `sign-in: ${res.text}`);
  const access = res.cookies['__Host-access'];
  const refresh = res.cookies['__Host-refresh'];
  const csrf = await http(url, '/api/auth/csrf', { cookie: cookieHeader({ '__Host-access': access }) });
  assert.equal(csrf.status, 200, csrf.text);
  return { access, refresh, csrf: csrf.body.csrf_token };
}

export function withSession(c: AdminCookies) {
  return { cookie: cookieHeader({ '__Host-access': c.access }), headers: { 'x-csrf-token': c.csrf } };
}

/** A new Admin user holding every kind of credential, and a new invited user. */
export async function obtain(w: World): Promise<Subject> {
  const { url } = w;
  const email = `${uniq('subject')}@example.com`;
  const username = uniq('subject');
  const created = await http(url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email, username, password: PASSWORD, is_admin: true } });
  assert.equal(created.status, 201, created.text);
  const id: number = created.body.item.id;
  await addMember(url, w.tenantId, id, [w.roleId]);
  const a = await adminSignIn(url, email, PASSWORD);
  const b = await adminSignIn(url, email, PASSWORD);
  const account = await http(url, '/api/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(account.status, 200, `account login: ${account.text}`);
  const ua = await http(url, '/auth/simple/login', { body: { username: email, password: PASSWORD } });
  assert.equal(ua.status, 200, `user-admin login: ${ua.text}`);
  const grant = await tokenRequest(url, { grant_type: 'password', client_id: w.client.client_id, client_secret: w.client.secret, username: email, password: PASSWORD });
  assert.equal(grant.status, 200, `password grant: ${grant.text}`);
  // The admin API token is made by the subject (signed in), so it acts for them.
  const token = await http(url, '/api/admin/api-tokens', { ...withSession(a), body: { name: uniq('tok') } });
  assert.equal(token.status, 201, `admin token: ${token.text}`);
  const useradmin = ua.cookies['unleash-session'];
  const pat = await http(url, '/api/admin/user/tokens', {
    cookie: cookieHeader({ 'unleash-session': useradmin }),
    body: { description: uniq('pat'), expiresAt: new Date(Date.now() + 86400_000).toISOString() },
  });
  assert.equal(pat.status, 201, `personal token: ${pat.text}`);
  // The invitee: an Admin created without a password, holding an invite link.
  const inviteeEmail = `${uniq('invitee')}@example.com`;
  const invited = await http(url, '/api/admin/user-admin', { token: ADMIN_TOKEN, body: { email: inviteeEmail, rootRole: 'Admin' } });
  assert.equal(invited.status, 201, invited.text);
  const invite = new URL(invited.body.inviteLink).searchParams.get('token')!;
  return {
    id, email, username, a, b,
    account: account.cookies['neptun-session'],
    useradmin,
    oauthAccess: grant.body.access_token,
    oauthRefresh: grant.body.refresh_token,
    adminToken: token.body.token,
    pat: pat.body.secret,
    invitee: { id: invited.body.id, email: inviteeEmail, invite },
  };
}

/** What presenting one credential gives now: ok, cut or weaker (with the response, for messages). */
export async function probe(w: World, s: Subject, kind: Kind): Promise<{ verdict: Verdict; res: Res }> {
  const { url } = w;
  const okOrCut = (res: Res, okStatus = 200, cutStatus = 401) =>
    ({ verdict: res.status === okStatus ? 'ok' : res.status === cutStatus ? 'cut' : (`unexpected ${res.status}` as Verdict), res });
  switch (kind) {
    case 'admin_access':
      return okOrCut(await http(url, '/api/auth/session', { cookie: cookieHeader({ '__Host-access': s.a.access }) }));
    case 'admin_refresh': {
      const res = await http(url, '/api/auth/refresh', { method: 'POST', cookie: cookieHeader({ '__Host-refresh': s.a.refresh }), headers: { 'x-csrf-token': s.a.csrf } });
      // A refresh rotates: keep the new token, so a later probe presents the live one.
      if (res.status === 200) s.a.refresh = res.cookies['__Host-refresh'];
      return okOrCut(res);
    }
    case 'account_session':
      return okOrCut(await http(url, `/api/users/${s.id}`, { cookie: cookieHeader({ 'neptun-session': s.account }) }));
    case 'useradmin_session':
      return okOrCut(await http(url, '/api/admin/user', { cookie: cookieHeader({ 'unleash-session': s.useradmin }) }));
    case 'oauth_access':
      return okOrCut(await http(url, '/api/v1/users', { token: s.oauthAccess, headers: { 'x-tenant': String(w.tenantId) } }));
    case 'oauth_refresh': {
      const res = await tokenRequest(url, { grant_type: 'refresh_token', client_id: w.client.client_id, client_secret: w.client.secret, refresh_token: s.oauthRefresh });
      if (res.status === 200) s.oauthRefresh = res.body.refresh_token;
      const cut = res.status === 400 && res.body?.error === 'invalid_grant';
      return { verdict: res.status === 200 ? 'ok' : cut ? 'cut' : (`unexpected ${res.status}` as Verdict), res };
    }
    case 'admin_api_token': {
      // An admin route: 200 with the creator's admin power, 403 once the creator lost it, 401 when cut.
      const res = await http(url, '/api/admin/users?limit=1', { token: s.adminToken });
      return { verdict: res.status === 200 ? 'ok' : res.status === 403 ? 'weaker' : res.status === 401 ? 'cut' : (`unexpected ${res.status}` as Verdict), res };
    }
    case 'personal_token': {
      const me = await http(url, '/api/admin/user', { headers: { authorization: s.pat } });
      if (me.status !== 200) return okOrCut(me);
      // Accepted: with the owner's power (an ADMIN route of the user-admin surface).
      const admin = await http(url, '/api/admin/user-admin', { headers: { authorization: s.pat } });
      return { verdict: admin.status === 200 ? 'ok' : admin.status === 403 ? 'weaker' : (`unexpected ${admin.status}` as Verdict), res: admin };
    }
    case 'invite':
      return okOrCut(await http(url, `/auth/reset/validate?token=${encodeURIComponent(s.invitee.invite)}`));
  }
}

/** The bans an event made, so the lifting event can delete them. */
const bansOf = new WeakMap<Subject, number[]>();

async function ban(w: World, s: Subject, revoke: boolean): Promise<void> {
  const ids: number[] = [];
  for (const value of [s.email, s.invitee.email]) {
    const res = await http(w.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'email', ban_value: value, ...(revoke ? { revoke_sessions: true } : {}) } });
    assert.equal(res.status, 201, res.text);
    ids.push(res.body.item.id);
  }
  bansOf.set(s, ids);
}

async function liftBans(w: World, s: Subject): Promise<void> {
  for (const id of bansOf.get(s) ?? []) {
    const res = await http(w.url, `/api/admin/bans/${id}`, { method: 'DELETE', token: ADMIN_TOKEN });
    assert.equal(res.status, 200, res.text);
  }
}

async function patchUser(w: World, id: number, body: Record<string, unknown>): Promise<void> {
  const res = await http(w.url, `/api/admin/users/${id}`, { method: 'PATCH', token: ADMIN_TOKEN, body });
  assert.equal(res.status, 200, `PATCH user ${id} ${JSON.stringify(body)}: ${res.text}`);
}

/** Causes an event to the subject (and to the invitee where the event applies to one). */
export async function cause(w: World, s: Subject, event: Event): Promise<void> {
  const { url } = w;
  switch (event) {
    case 'password_change': {
      // From the second session family: the caller's own session survives, every other one is cut.
      const res = await http(url, '/api/admin/users/me/password', {
        method: 'PATCH', ...withSession(s.b), body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
      });
      assert.equal(res.status, 200, `password change: ${res.text}`);
      const own = await http(url, '/api/auth/session', { cookie: cookieHeader({ '__Host-access': s.b.access }) });
      assert.equal(own.status, 200, 'the session that changed the password is kept');
      return;
    }
    case 'password_reset':
      await patchUser(w, s.id, { password: NEW_PASSWORD });
      await patchUser(w, s.invitee.id, { password: NEW_PASSWORD });
      return;
    case 'sign_out_all': {
      const res = await http(url, '/api/auth/sign-out-all', { method: 'POST', ...withSession(s.b) });
      assert.equal(res.status, 200, `sign-out-all: ${res.text}`);
      return;
    }
    case 'ban':
      return ban(w, s, false);
    case 'ban_lifted':
      await ban(w, s, false);
      await liftBans(w, s);
      return;
    case 'revoking_ban':
      return ban(w, s, true);
    case 'revoking_ban_lifted':
      await ban(w, s, true);
      await liftBans(w, s);
      return;
    case 'deactivation':
      await patchUser(w, s.id, { is_active: false });
      await patchUser(w, s.invitee.id, { is_active: false });
      return;
    case 'reactivation':
      await cause(w, s, 'deactivation');
      await patchUser(w, s.id, { is_active: true });
      await patchUser(w, s.invitee.id, { is_active: true });
      return;
    case 'deletion':
      for (const id of [s.id, s.invitee.id]) {
        const res = await http(url, `/api/admin/users/${id}`, { method: 'DELETE', token: ADMIN_TOKEN });
        assert.equal(res.status, 200, res.text);
      }
      return;
    case 'demotion':
      await patchUser(w, s.id, { is_admin: false });
      await patchUser(w, s.invitee.id, { is_admin: false });
      return;
  }
}

/**
 * One column of the table: a fresh subject, every credential checked live first, the event, then every
 * credential presented again and compared with its cell. Every mismatch is reported at once.
 */
export async function checkColumn(w: World, event: Event): Promise<void> {
  const s = await obtain(w);
  for (const kind of KINDS) {
    // Refresh kinds are not tried before the event: a refresh before would only prove the rotated token.
    if (kind === 'admin_refresh' || kind === 'oauth_refresh') continue;
    const before = await probe(w, s, kind);
    assert.equal(before.verdict, 'ok', `${kind} works before ${event}: ${before.res.status} ${before.res.text}`);
  }
  await cause(w, s, event);
  const wrong: string[] = [];
  for (const kind of KINDS) {
    const want = TABLE[kind][event];
    if (want === 'n/a') continue;
    const got = await probe(w, s, kind);
    if (got.verdict !== want) wrong.push(`${kind} × ${event}: want ${want}, got ${got.verdict} (${got.res.status} ${got.res.text.slice(0, 160)})`);
  }
  assert.deepEqual(wrong, [], `cells that differ from docs/credentials.md:\n${wrong.join('\n')}`);
}
