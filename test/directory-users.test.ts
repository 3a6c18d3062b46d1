// Seed 003: PUT /api/v1/users/{id}: the page's curl example, every field limit at and past its bound,
// null-clearing, password confirmation, role sync within and across tenants, bad input never 500.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, uniqueEmail } from './helpers/admin.js';
import {
  ALL_PERMISSIONS, addMember, createClient, createRole, createTenant, member, passwordToken, tokenRequest, USER_RESOURCE_KEYS, v1,
  type Client, type Member,
} from './helpers/directory.js';

let emailCounter = 0;
/** A valid, unique email of exactly `length` characters (local part 64, labels at most 63). */
function emailOfLength(length: number): string {
  const local = `e${process.pid}x${Date.now().toString(36)}x${++emailCounter}`.padEnd(64, 'l');
  const parts: string[] = [];
  let rest = length - 64 - 1 - 4; // the local part, "@" and ".com"
  while (rest > 63) {
    parts.push('d'.repeat(62));
    rest -= 63;
  }
  parts.push('d'.repeat(rest));
  return `${local}@${parts.join('.')}.com`;
}

for (const { engine, skip } of engines()) {
  describe(`directory PUT /api/v1/users/{id} [${engine}]`, { skip }, () => {
    let s: TestServer;
    let client: Client;
    let tenantA: { id: number };
    let tenantB: { id: number };
    let adminRole: { id: number };
    let staffRole: { id: number };
    let viewerRole: { id: number };
    let otherRole: { id: number };
    let manager: Member;

    const target = async (fields: Record<string, unknown> = {}) => {
      const u = await createUser(s.url, { email: uniqueEmail('target'), ...fields });
      await addMember(s.url, tenantA.id, u.id);
      return u;
    };
    const put = (id: number, body: unknown, token = manager.token) => v1(s.url, `/users/${id}`, { method: 'PUT', token, tenant: tenantA.id, body });

    before(async () => {
      s = await startServer(engine);
      client = await createClient(s.url);
      tenantA = await createTenant(s.url);
      tenantB = await createTenant(s.url);
      adminRole = await createRole(s.url, tenantA.id, 'Tenant Admin', ALL_PERMISSIONS);
      staffRole = await createRole(s.url, tenantA.id, 'Staff', ['users.view']);
      viewerRole = await createRole(s.url, tenantA.id, 'Viewer', ['users.view']);
      otherRole = await createRole(s.url, tenantB.id, 'Other Tenant Role', ALL_PERMISSIONS);
      manager = await member(s.url, client, tenantA.id, [adminRole.id]);
    });
    after(async () => s?.close());

    it("runs the page's curl example as written (no X-Tenant: the caller's default tenant) and answers every documented field", async () => {
      const u = await target({ password: 'target-password-1' });
      const before = await passwordToken(s.url, client, u.email, 'target-password-1');
      const res = await http(s.url, `/api/v1/users/${u.id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${manager.token}`, 'content-type': 'application/json' },
        raw: `
{
  "name": "<string>",
  "email": "jsmith@example.com",
  "password": "<string>",
  "password_confirmation": "<string>",
  "phone": "<string>",
  "title": "<string>",
  "emergency_contact_name": "<string>",
  "emergency_contact_surname": "<string>",
  "emergency_contact_phone_number": "<string>",
  "blood_group": "<string>",
  "avatar_url": "<string>",
  "is_active": true,
  "bio": "<string>",
  "language": [
    "Turkish"
  ],
  "role_ids": [
    ${staffRole.id}
  ]
}
`,
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(typeof res.body.success, 'string');
      assert.ok(res.body.success.length > 0);
      const d = res.body.data;
      for (const k of USER_RESOURCE_KEYS) assert.ok(k in d, `data.${k} missing`);
      assert.equal(d.id, u.id);
      assert.equal(d.name, '<string>');
      assert.equal(d.email, 'jsmith@example.com');
      for (const k of ['phone', 'title', 'emergency_contact_name', 'emergency_contact_surname', 'emergency_contact_phone_number', 'blood_group', 'avatar_url', 'bio']) {
        assert.equal(d[k], '<string>', k);
      }
      assert.equal(d.is_active, true);
      assert.deepEqual(d.language, ['Turkish']);
      assert.deepEqual(d.roles, [{ id: staffRole.id, name: 'Staff' }]);
      assert.equal(d.deleted_at, null);
      assert.match(d.created_at, /^\d{4}-\d\d-\d\dT/);
      assert.match(d.updated_at, /^\d{4}-\d\d-\d\dT/);
      assert.ok(d.last_login_at, 'the target signed in once');
      assert.equal(d.last_login_ip, '127.0.0.1');
      assert.ok(!('password' in d) && !('password_hash' in d) && !('password_confirmation' in d));
      // The new password works; the target's earlier token was revoked by the password change.
      await passwordToken(s.url, client, 'jsmith@example.com', '<string>');
      assert.equal((await v1(s.url, '/account/roles', { token: before.access_token })).status, 401);
    });

    it('enforces every limit of the page at and past its bound', async () => {
      const u = await target();
      const limits: Array<[string, number, string]> = [
        ['name', 255, 'name'],
        ['phone', 20, 'phone'],
        ['title', 255, 'title'],
        ['emergency_contact_name', 255, 'emergency contact name'],
        ['emergency_contact_surname', 255, 'emergency contact surname'],
        ['emergency_contact_phone_number', 20, 'emergency contact phone number'],
        ['blood_group', 10, 'blood group'],
        ['avatar_url', 1000, 'avatar url'],
        ['bio', 1000, 'bio'],
      ];
      for (const [field, max, attr] of limits) {
        const atBound = await put(u.id, { [field]: 'x'.repeat(max) });
        assert.equal(atBound.status, 200, `${field} at ${max}: ${atBound.text}`);
        assert.equal(atBound.body.data[field], 'x'.repeat(max));
        const past = await put(u.id, { [field]: 'y'.repeat(max + 1) });
        assert.equal(past.status, 422, `${field} at ${max + 1}`);
        assert.equal(past.body.error, 'validation_error');
        assert.deepEqual(past.body.errors, { [field]: [`The ${attr} field must not be greater than ${max} characters.`] });
        assert.equal(past.body.message, `The ${attr} field must not be greater than ${max} characters.`);
      }
      // Characters, not bytes.
      assert.equal((await put(u.id, { blood_group: 'ğ'.repeat(10) })).status, 200);
      assert.equal((await put(u.id, { blood_group: 'ğ'.repeat(11) })).status, 422);
      // Email: the page's 255, and the shared core rule of a real mailbox (at most 254).
      const e254 = emailOfLength(254);
      assert.equal(e254.length, 254);
      const ok = await put(u.id, { email: e254 });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.data.email, e254);
      const e255 = await put(u.id, { email: emailOfLength(255) });
      assert.equal(e255.status, 422);
      assert.ok(e255.body.errors.email);
      const e256 = await put(u.id, { email: emailOfLength(256) });
      assert.equal(e256.status, 422);
      assert.deepEqual(e256.body.errors.email, ['The email field must not be greater than 255 characters.']);
      // Password: at least 8.
      const p7 = await put(u.id, { password: 'x'.repeat(7), password_confirmation: 'x'.repeat(7) });
      assert.equal(p7.status, 422);
      assert.deepEqual(p7.body.errors.password, ['The password field must be at least 8 characters.']);
      assert.equal((await put(u.id, { password: 'x'.repeat(8), password_confirmation: 'x'.repeat(8) })).status, 200);
      // Several errors at once: each field listed, and the message counts the rest.
      const many = await put(u.id, { name: 'n'.repeat(256), phone: 'p'.repeat(21), bio: 'b'.repeat(1001) });
      assert.equal(many.status, 422);
      assert.deepEqual(Object.keys(many.body.errors).sort(), ['bio', 'name', 'phone']);
      assert.match(many.body.message, /\(and 2 more errors\)$/);
      // Nothing of a refused request was written.
      const now = await v1(s.url, `/users/${u.id}`, { token: manager.token, tenant: tenantA.id });
      assert.equal(now.body.data.name, 'x'.repeat(255));
      assert.equal(now.body.data.phone, 'x'.repeat(20));
    });

    it('null clears every nullable field; absent fields are untouched; unknown fields are ignored', async () => {
      const u = await target({ name: 'Keep Me' });
      const full = {
        phone: '+90 555 000 00 00', title: 'Engineer', emergency_contact_name: 'Ada', emergency_contact_surname: 'Lovelace',
        emergency_contact_phone_number: '+44 20 0000 0000', blood_group: 'AB+', avatar_url: 'https://example.com/a.png', bio: 'Line one\nline two',
        language: ['Turkish', 'English'],
      };
      const set = await put(u.id, { ...full, role_ids: [staffRole.id] });
      assert.equal(set.status, 200, set.text);
      for (const [k, v] of Object.entries(full)) assert.deepEqual(set.body.data[k], v, k);
      const partial = await put(u.id, { title: 'Lead', favourite_colour: 'green', id: 999999, created_at: '1999-01-01T00:00:00Z' });
      assert.equal(partial.status, 200);
      assert.equal(partial.body.data.title, 'Lead');
      assert.equal(partial.body.data.phone, full.phone);
      assert.equal(partial.body.data.name, 'Keep Me');
      assert.equal(partial.body.data.id, u.id);
      assert.deepEqual(partial.body.data.roles, [{ id: staffRole.id, name: 'Staff' }]);
      assert.ok(!('favourite_colour' in partial.body.data));
      const cleared = await put(u.id, {
        phone: null, title: null, emergency_contact_name: null, emergency_contact_surname: null, emergency_contact_phone_number: null,
        blood_group: null, avatar_url: null, bio: null, language: null, is_active: null,
      });
      assert.equal(cleared.status, 200, cleared.text);
      for (const k of Object.keys(full)) assert.equal(cleared.body.data[k], null, k);
      assert.equal(cleared.body.data.is_active, true, 'is_active null leaves it unchanged');
      assert.equal(cleared.body.data.name, 'Keep Me');
      const read = await v1(s.url, `/users/${u.id}`, { token: manager.token, tenant: tenantA.id });
      for (const k of Object.keys(full)) assert.equal(read.body.data[k], null, k);
      // role_ids null clears the roles in this tenant.
      const noRoles = await put(u.id, { role_ids: null });
      assert.deepEqual(noRoles.body.data.roles, []);
      // Non-nullable fields refuse null.
      const nn = await put(u.id, { name: null, email: null, password: null });
      assert.equal(nn.status, 422);
      assert.deepEqual(nn.body.errors.name, ['The name field must be a string.']);
      assert.deepEqual(nn.body.errors.email, ['The email field must be a string.']);
      assert.deepEqual(nn.body.errors.password, ['The password field must be a string.']);
      // An empty body changes nothing and answers the user.
      const empty = await put(u.id, {});
      assert.equal(empty.status, 200);
      assert.equal(empty.body.data.updated_at, read.body.data.updated_at);
      const nobody = await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: manager.token, tenant: tenantA.id });
      assert.equal(nobody.status, 200, nobody.text);
    });

    it('requires password_confirmation to match the password', async () => {
      const u = await target({ password: 'old-password-1' });
      const missing = await put(u.id, { password: 'new-password-1' });
      assert.equal(missing.status, 422);
      assert.deepEqual(missing.body.errors, { password: ['The password field confirmation does not match.'] });
      const wrong = await put(u.id, { password: 'new-password-1', password_confirmation: 'new-password-2' });
      assert.equal(wrong.status, 422);
      assert.deepEqual(wrong.body.errors, { password: ['The password field confirmation does not match.'] });
      const shortConfirmation = await put(u.id, { password: 'new-password-1', password_confirmation: 'short' });
      assert.equal(shortConfirmation.status, 422);
      assert.ok(shortConfirmation.body.errors.password_confirmation);
      // Still the old password.
      await passwordToken(s.url, client, u.email, 'old-password-1');
      const ok = await put(u.id, { password: 'new-password-1', password_confirmation: 'new-password-1' });
      assert.equal(ok.status, 200, ok.text);
      await passwordToken(s.url, client, u.email, 'new-password-1');
      const old = await tokenRequest(s.url, { grant_type: 'password', client_id: client.client_id, client_secret: client.secret, username: u.email, password: 'old-password-1' });
      assert.equal(old.status, 400);
      assert.equal(old.body.error, 'invalid_grant');
    });

    it('validates types, email format, uniqueness and languages in Laravel words', async () => {
      const u = await target();
      const other = await target();
      const cases: Array<[unknown, string, string]> = [
        [{ name: 123 }, 'name', 'The name field must be a string.'],
        [{ name: '' }, 'name', 'The name field must be a string.'],
        [{ name: '   ' }, 'name', 'The name field must be a string.'],
        [{ email: 'not-an-email' }, 'email', 'The email field must be a valid email address.'],
        [{ email: 'a@localhost' }, 'email', 'The email field must be a valid email address.'],
        [{ is_active: 'yes' }, 'is_active', 'The is active field must be true or false.'],
        [{ is_active: 2 }, 'is_active', 'The is active field must be true or false.'],
        [{ language: 'Turkish' }, 'language', 'The language field must be an array.'],
        [{ language: ['Klingon'] }, 'language.0', 'The selected language.0 is invalid.'],
        [{ language: [1] }, 'language.0', 'The language.0 field must be a string.'],
        [{ role_ids: 'x' }, 'role_ids', 'The role ids field must be an array.'],
        [{ role_ids: ['a'] }, 'role_ids.0', 'The role ids.0 field must be an integer.'],
        [{ role_ids: [1.5] }, 'role_ids.0', 'The role ids.0 field must be an integer.'],
        [{ phone: 5 }, 'phone', 'The phone field must be a string.'],
        [{ email: other.email.toUpperCase() }, 'email', 'The email has already been taken.'],
        [{ email: `  ${other.email}  ` }, 'email', 'The email has already been taken.'],
      ];
      for (const [body, field, message] of cases) {
        const res = await put(u.id, body);
        assert.equal(res.status, 422, JSON.stringify(body));
        assert.equal(res.body.error, 'validation_error');
        assert.deepEqual(res.body.errors[field], [message], `${JSON.stringify(body)}: ${res.text}`);
        assert.equal(typeof res.body.message, 'string');
      }
      assert.equal((await put(u.id, { is_active: 0 })).body.data.is_active, false);
      assert.equal((await put(u.id, { is_active: true })).body.data.is_active, true);
      const langs = await put(u.id, { language: ['English', 'Other', 'English'] });
      assert.deepEqual(langs.body.data.language, ['English', 'Other']);
      const mixed = await put(u.id, { email: `  ${uniqueEmail('MiXeD').toUpperCase()} ` });
      assert.equal(mixed.status, 200);
      assert.equal(mixed.body.data.email, mixed.body.data.email.toLowerCase().trim());
    });

    it('role_ids replaces the roles in this tenant; another tenant\'s role id is 422 and nothing is written', async () => {
      const u = await target({ name: 'Role Holder' });
      // Also a member of tenant B, with a role there that a sync in A must not touch.
      await addMember(s.url, tenantB.id, u.id, [otherRole.id]);
      const two = await put(u.id, { role_ids: [staffRole.id, viewerRole.id] });
      assert.equal(two.status, 200, two.text);
      assert.deepEqual(two.body.data.roles.map((r: { id: number }) => r.id).sort(), [staffRole.id, viewerRole.id].sort());
      const one = await put(u.id, { role_ids: [viewerRole.id] });
      assert.deepEqual(one.body.data.roles, [{ id: viewerRole.id, name: 'Viewer' }]);
      const cross = await put(u.id, { name: 'Renamed', role_ids: [viewerRole.id, otherRole.id] });
      assert.equal(cross.status, 422);
      assert.deepEqual(cross.body.errors, { 'role_ids.1': ['The selected role ids.1 is invalid.'] });
      const root = await put(u.id, { role_ids: [1] });
      assert.equal(root.status, 422, 'a root role is not a role of this tenant');
      const unknown = await put(u.id, { role_ids: [2147483647] });
      assert.equal(unknown.status, 422);
      const read = await v1(s.url, `/users/${u.id}`, { token: manager.token, tenant: tenantA.id });
      assert.equal(read.body.data.name, 'Role Holder', 'the refused request wrote nothing');
      assert.deepEqual(read.body.data.roles, [{ id: viewerRole.id, name: 'Viewer' }]);
      const none = await put(u.id, { role_ids: [] });
      assert.deepEqual(none.body.data.roles, []);
      const members = await http(s.url, `/api/admin/tenants/${tenantB.id}/members`, { token: ADMIN_TOKEN });
      const inB = members.body.items.find((m: { user_id: number }) => m.user_id === u.id);
      assert.deepEqual(inB.role_ids, [otherRole.id], 'roles in tenant B untouched');
    });

    it('PUT /users/{id}/roles syncs fully (empty clears) and refuses other tenants\' roles', async () => {
      const u = await target();
      const sync = (body: unknown) => v1(s.url, `/users/${u.id}/roles`, { method: 'PUT', token: manager.token, tenant: tenantA.id, body });
      const a = await sync({ role_ids: [staffRole.id, viewerRole.id] });
      assert.equal(a.status, 200, a.text);
      assert.equal(typeof a.body.success, 'string');
      assert.equal(a.body.data.roles.length, 2);
      const b = await sync({ role_ids: [staffRole.id] });
      assert.deepEqual(b.body.data.roles, [{ id: staffRole.id, name: 'Staff' }]);
      const cross = await sync({ role_ids: [otherRole.id] });
      assert.equal(cross.status, 422);
      assert.deepEqual(cross.body.errors, { 'role_ids.0': ['The selected role ids.0 is invalid.'] });
      const missing = await sync({});
      assert.equal(missing.status, 422);
      assert.deepEqual(missing.body.errors, { role_ids: ['The role ids field is required.'] });
      const cleared = await sync({ role_ids: [] });
      assert.equal(cleared.status, 200);
      assert.deepEqual(cleared.body.data.roles, []);
    });

    it('honours If-Match: a stale ETag answers 412 and changes nothing', async () => {
      const u = await target();
      const got = await v1(s.url, `/users/${u.id}`, { token: manager.token, tenant: tenantA.id });
      const etag = got.headers.get('etag')!;
      assert.ok(etag);
      const first = await put(u.id, { title: 'first' }, manager.token);
      assert.equal(first.status, 200);
      const stale = await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: manager.token, tenant: tenantA.id, headers: { 'if-match': etag }, body: { title: 'second' } });
      assert.equal(stale.status, 412);
      assert.equal(typeof stale.body.message, 'string');
      const now = await v1(s.url, `/users/${u.id}`, { token: manager.token, tenant: tenantA.id });
      assert.equal(now.body.data.title, 'first');
    });

    it('answers bad input of any kind with a 4xx in the surface shape, never a 500', async () => {
      const u = await target();
      const raw = (body: string, contentType = 'application/json') =>
        v1(s.url, `/users/${u.id}`, { method: 'PUT', token: manager.token, tenant: tenantA.id, raw: body, headers: { 'content-type': contentType } });
      const checks: Array<[string, () => Promise<import('./helpers/http.js').Res>]> = [
        ['malformed json', () => raw('{"name": ')],
        ['array body', () => raw('[1,2,3]')],
        ['string body', () => raw('"hello"')],
        ['number body', () => raw('42')],
        ['null body', () => raw('null')],
        ['__proto__', () => raw('{"__proto__": {"is_admin": true}, "name": "x"}')],
        ['constructor.prototype', () => raw('{"constructor": {"prototype": {"x": 1}}}')],
        ['NUL in name', () => put(u.id, { name: 'a\u0000b' })],
        ['NUL in a key', () => raw('{"na\\u0000me": "x"}')],
        ['huge string', () => put(u.id, { bio: 'x'.repeat(60_000) })],
        ['too large body', () => put(u.id, { bio: 'x'.repeat(70_000) })],
        ['deep nesting', () => raw('{"language":' + '['.repeat(200) + ']'.repeat(200) + '}')],
        ['text/plain', () => raw('name=x', 'text/plain')],
        ['control chars', () => put(u.id, { name: 'a\u0007b' })],
        ['huge role id', () => put(u.id, { role_ids: [99999999999999] })],
        ['negative role id', () => put(u.id, { role_ids: [-1] })],
        ['role_ids object', () => put(u.id, { role_ids: { 0: 1 } })],
        ['id not numeric', () => v1(s.url, '/users/abc', { method: 'PUT', token: manager.token, tenant: tenantA.id, body: {} })],
        ['id huge', () => v1(s.url, '/users/99999999999999999999', { method: 'PUT', token: manager.token, tenant: tenantA.id, body: {} })],
        ['id negative', () => v1(s.url, '/users/-1', { method: 'PUT', token: manager.token, tenant: tenantA.id, body: {} })],
        ['id unknown', () => v1(s.url, '/users/2147483647', { method: 'PUT', token: manager.token, tenant: tenantA.id, body: {} })],
      ];
      for (const [label, send] of checks) {
        const res = await send();
        assert.ok(res.status >= 400 && res.status < 500, `${label}: ${res.status} ${res.text}`);
        assert.equal(typeof res.body?.message, 'string', `${label}: ${res.text}`);
      }
      assert.equal((await raw('{"name": ')).status, 400);
      assert.equal((await raw('[1]')).status, 422);
      assert.equal((await v1(s.url, '/users/abc', { token: manager.token, tenant: tenantA.id })).status, 404);
      const read = await v1(s.url, `/users/${u.id}`, { token: manager.token, tenant: tenantA.id });
      assert.equal(read.status, 200);
      assert.notEqual(read.body.data.name, 'x');
    });

    it('needs users.update (and roles.assign to send role_ids); 401 without a valid token', async () => {
      const u = await target();
      const staff = await member(s.url, client, tenantA.id, [staffRole.id]);
      const denied = await put(u.id, { title: 'nope' }, staff.token);
      assert.equal(denied.status, 403);
      assert.deepEqual(Object.keys(denied.body), ['message']);
      const editorRole = await createRole(s.url, tenantA.id, `Editor ${Date.now()}`, ['users.view', 'users.update']);
      const editor = await member(s.url, client, tenantA.id, [editorRole.id]);
      assert.equal((await put(u.id, { title: 'edited' }, editor.token)).status, 200);
      assert.equal((await put(u.id, { role_ids: [staffRole.id] }, editor.token)).status, 403, 'role_ids needs roles.assign');
      const none = await v1(s.url, `/users/${u.id}`, { method: 'PUT', tenant: tenantA.id, body: { title: 'x' } });
      assert.equal(none.status, 401);
      assert.deepEqual(none.body, { message: 'Unauthenticated.' });
      const junk = await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: 'not.a.jwt', tenant: tenantA.id, body: { title: 'x' } });
      assert.equal(junk.status, 401);
      assert.deepEqual(junk.body, { message: 'Unauthenticated.' });
    });

    it('a tenant caller cannot take over a root admin or a member stronger than themselves', async () => {
      const rootAdmin = await createUser(s.url, { is_admin: true });
      await addMember(s.url, tenantA.id, rootAdmin.id);
      const editorRole = await createRole(s.url, tenantA.id, `Editor+ ${Date.now()}`, ['users.view', 'users.update', 'roles.assign']);
      const editor = await member(s.url, client, tenantA.id, [editorRole.id]);
      assert.equal((await put(rootAdmin.id, { password: 'taken-over-1', password_confirmation: 'taken-over-1' }, editor.token)).status, 403);
      assert.equal((await put(manager.id, { email: uniqueEmail('hijack') }, editor.token)).status, 403, 'the manager holds more permissions');
      const plain = await target();
      assert.equal((await put(plain.id, { role_ids: [adminRole.id] }, editor.token)).status, 403, 'cannot grant a role stronger than their own');
      assert.equal((await put(plain.id, { role_ids: [staffRole.id] }, editor.token)).status, 200);
      // Root admins (and admin API tokens) act in any tenant.
      const byToken = await v1(s.url, `/users/${plain.id}`, { method: 'PUT', token: ADMIN_TOKEN, tenant: tenantA.id, body: { role_ids: [adminRole.id] } });
      assert.equal(byToken.status, 200, byToken.text);
    });
  });
}
