// Issue 16, findings 3 and 9: one identity key. The sign-in throttle counts per account whatever the
// spelling; usernames refuse invisible and bidi characters; lookalike usernames conflict (a unique skeleton
// in the database); name bans match lookalikes; non-Latin names are still accepted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, type Migration } from 'kysely';
import { ADMIN_TOKEN, engines, freshDatabase, startServer, type TestServer } from './helpers/harness.js';
import { http, type Res } from './helpers/http.js';
import { createUser, uniqueEmail } from './helpers/admin.js';
import { addMember, createClient, createTenant, tokenRequest, v1 } from './helpers/directory.js';
import { openStore } from '../src/store/db.js';
import { migrations } from '../src/store/migrations/index.js';

const PASSWORD = 'Right-pass-123!';

const admin = (base: string, path: string, body?: unknown, method?: string) => http(base, path, { token: ADMIN_TOKEN, body, method });
const ua = (base: string, path: string, body?: unknown, method?: string) => http(base, path, { body, method, headers: { authorization: ADMIN_TOKEN } });
const userCount = async (s: TestServer) => Number((await s.store.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

function assertAdminConflict(res: Res, what: string): void {
  assert.equal(res.status, 409, `${what}: ${res.status} ${res.text}`);
  assert.equal(res.body.error, 'Conflict', what);
  assert.equal(res.body.field, 'username', what);
  assert.equal(res.body.reason, 'username_taken', what);
}

function assertAdminInvalidCharacters(res: Res, what: string): void {
  assert.equal(res.status, 400, `${what}: ${res.status} ${res.text}`);
  assert.match(res.text, /invalid_characters/, what);
  assert.match(res.text, /username/, what);
}

for (const { engine, skip } of engines()) {
  describe(`trust: one identity key — sign-in throttle per account (finding 3) [${engine}]`, { skip }, () => {
    let s: TestServer;
    let client: Awaited<ReturnType<typeof createClient>>;
    before(async () => {
      s = await startServer(engine, { env: { GATEHOUSE_LOGIN_MAX_FAILURES: '10', GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS: '10000' } });
      client = await createClient(s.url);
    });
    after(async () => s?.close());

    const signIn = (identifier: string, password: string) => http(s.url, '/api/auth/sign-in', { body: { identifier, password } });

    it('after 10 wrong passwords for alice, every spelling of alice (and her email) is refused on every surface', async () => {
      const alice = await createUser(s.url, { username: 'alice', email: 'alice@example.com', password: PASSWORD });
      for (let i = 0; i < 10; i++) assert.equal((await signIn('alice', 'wrong-pass-1')).status, 401, `failure ${i + 1}`);
      const spellings = ['alice', 'ALICE', 'ａｌｉｃｅ', '𝐚𝐥𝐢𝐜𝐞', 'ⓐⓛⓘⓒⓔ', 'alice@example.com', 'ALICE@EXAMPLE.COM', 'ａｌｉｃｅ＠example.com', ' alice '];
      for (const identifier of spellings) {
        const res = await signIn(identifier, PASSWORD);
        assert.equal(res.status, 429, `admin sign-in as ${JSON.stringify(identifier)} with the right password: ${res.status} ${res.text}`);
        assert.equal(res.body.error, 'rate_limited');
      }
      // The other surfaces' sign-ins count against the same account.
      const account = await http(s.url, '/api/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
      assert.equal(account.status, 429, `account login: ${account.text}`);
      assert.equal(account.body.statusCode, 429);
      const unleash = await http(s.url, '/auth/simple/login', { body: { username: 'ⓐⓛⓘⓒⓔ', password: PASSWORD } });
      assert.equal(unleash.status, 429, `user-admin login: ${unleash.text}`);
      const oauth = await tokenRequest(s.url, { grant_type: 'password', client_id: client.client_id, client_secret: client.secret, username: '𝐚𝐥𝐢𝐜𝐞', password: PASSWORD });
      assert.equal(oauth.status, 429, `OAuth password grant: ${oauth.text}`);
      // Nothing signed alice in.
      const row = await s.store.db.selectFrom('users').select('last_login_at').where('id', '=', alice.id).executeTakeFirstOrThrow();
      assert.equal(row.last_login_at, null);
    });

    it('failures by username and by email share one budget of 10', async () => {
      const email = uniqueEmail('budget');
      await createUser(s.url, { username: 'budget-user', email, password: PASSWORD });
      for (let i = 0; i < 5; i++) assert.equal((await signIn('budget-user', 'wrong-pass-1')).status, 401);
      for (let i = 0; i < 5; i++) assert.equal((await signIn(email, 'wrong-pass-1')).status, 401);
      const byEmail = await signIn(email.toUpperCase(), PASSWORD);
      assert.equal(byEmail.status, 429, `the 11th attempt, by email: ${byEmail.text}`);
      const byName = await signIn('ＢＵＤＧＥＴ-user', PASSWORD);
      assert.equal(byName.status, 429, `and by a fullwidth username: ${byName.text}`);
    });

    it('unknown identifiers are still throttled, under their normalised spelling', async () => {
      for (let i = 0; i < 10; i++) assert.equal((await signIn('nobody-here', 'wrong-pass-1')).status, 401);
      assert.equal((await signIn('ｎｏｂｏｄｙ-here', 'wrong-pass-1')).status, 429);
      assert.equal((await signIn('NOBODY-HERE', 'wrong-pass-1')).status, 429);
    });

    it('a success by any spelling resets the account for every spelling', async () => {
      await createUser(s.url, { username: 'resetter', email: uniqueEmail('resetter'), password: PASSWORD });
      for (let i = 0; i < 9; i++) assert.equal((await signIn('resetter', 'wrong-pass-1')).status, 401);
      assert.equal((await signIn('ｒｅｓｅｔｔｅｒ', PASSWORD)).status, 200);
      for (let i = 0; i < 9; i++) assert.equal((await signIn('RESETTER', 'wrong-pass-1')).status, 401, `after the reset, failure ${i + 1}`);
      assert.equal((await signIn('resetter', PASSWORD)).status, 200);
    });
  });

  describe(`trust: one identity key — lookalike usernames (finding 9) [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('invisible, format and bidi characters are refused (400 invalid_characters) on the admin and user-admin surfaces', async () => {
      const target = await createUser(s.url, { username: 'plain-target' });
      const count = await userCount(s);
      for (const bad of ['alice\u200b', 'al\u00adice', '\u202eecila', 'ali\u200dce', 'a\u2066lice', 'ali\ufeffce', 'al\u034fice', 'alice\ufe0f', 'a\u180elice', '\u3164alice', 'al\u{e0041}ice', 'al\u{f0000}ice']) {
        assertAdminInvalidCharacters(await admin(s.url, '/api/admin/users', { email: uniqueEmail('bad'), password: PASSWORD, username: bad }), `admin POST ${JSON.stringify(bad)}`);
        assertAdminInvalidCharacters(await admin(s.url, `/api/admin/users/${target.id}`, { username: bad }, 'PATCH'), `admin PATCH ${JSON.stringify(bad)}`);
        const u = await ua(s.url, '/api/admin/user-admin', { email: uniqueEmail('bad'), username: bad, rootRole: 'Viewer' });
        assert.equal(u.status, 400, `user-admin POST ${JSON.stringify(bad)}: ${u.status} ${u.text}`);
        assert.equal(u.body.name, 'ValidationError', u.text);
        assert.equal(u.body.details[0].path, 'username', u.text);
        assert.match(u.body.message, /invisible|control/i, u.text);
      }
      assert.equal(await userCount(s), count, 'nothing was written');
    });

    it('a lookalike of an existing username is 409 on the admin surface and NameExistsError on user-admin', async () => {
      const alice = await createUser(s.url, { username: 'alice' });
      const other = await createUser(s.url, { username: 'someone-else' });
      const count = await userCount(s);
      // Cyrillic а, Greek ο, fullwidth, mathematical, digit one for l, rn for m.
      const lookalikes = ['\u0430lice', 'ali\u0441e', '\u0430\u217cice', 'ａｌｉｃｅ', '𝖆𝖑𝖎𝖈𝖊', 'a1ice', 'ALICE'];
      for (const name of lookalikes) {
        assertAdminConflict(await admin(s.url, '/api/admin/users', { email: uniqueEmail('look'), password: PASSWORD, username: name }), `admin POST ${name}`);
        assertAdminConflict(await admin(s.url, `/api/admin/users/${other.id}`, { username: name }, 'PATCH'), `admin PATCH ${name}`);
        const u = await ua(s.url, '/api/admin/user-admin', { email: uniqueEmail('look'), username: name, rootRole: 'Viewer' });
        assert.equal(u.status, 409, `user-admin POST ${name}: ${u.text}`);
        assert.equal(u.body.name, 'NameExistsError');
      }
      assert.equal(await userCount(s), count, 'nothing was written');
      // m and rn look alike too (the Unicode confusables table says so).
      await createUser(s.url, { username: 'tim-smith' });
      assertAdminConflict(await admin(s.url, '/api/admin/users', { email: uniqueEmail('rn'), username: 'tirn-smith', password: PASSWORD }), 'rn for m');
      // Renaming a user to a lookalike of their own name is not a conflict with themselves.
      const own = await admin(s.url, `/api/admin/users/${alice.id}`, { username: '\u0430lice' }, 'PATCH');
      assert.equal(own.status, 200, own.text);
    });

    it('lookalikes racing to be created: exactly one wins, the rest are 409 (a unique index, not read-then-write)', async () => {
      const names = ['racer', 'r\u0430cer', 'rac\u0435r', 'ｒａｃｅｒ', 'RAC\u0415R', 'r\u0430c\u0435r'];
      const results = await Promise.all(names.map((username) =>
        admin(s.url, '/api/admin/users', { email: uniqueEmail('race'), username, password: PASSWORD })));
      const created = results.filter((r) => r.status === 201);
      assert.equal(created.length, 1, results.map((r) => `${r.status}`).join(','));
      for (const r of results) if (r.status !== 201) assertAdminConflict(r, 'race loser');
    });

    it('non-Latin names are accepted and keep their own identity', async () => {
      for (const username of ['иван', 'ivan', 'δημήτρης', '李小龙', 'محمد', 'Müller', 'straße', 'ǅemal', 'ÆSIR']) {
        const res = await admin(s.url, '/api/admin/users', { email: uniqueEmail('intl'), username, password: PASSWORD });
        assert.equal(res.status, 201, `${username}: ${res.text}`);
        assert.equal(res.body.item.username, username);
      }
      // Case folding works beyond ASCII: sign-in as ИВАН is иван, and ΔΗΜΉΤΡΗΣ (final sigma) is δημήτρης.
      for (const identifier of ['иван'.toUpperCase(), 'δημήτρης'.toUpperCase(), 'MÜLLER']) {
        const res = await http(s.url, '/api/auth/sign-in', { body: { identifier, password: PASSWORD } });
        assert.equal(res.status, 200, `${identifier}: ${res.text}`);
      }
      // A Cyrillic name that looks like nothing Latin does not block the Latin transliteration, nor the reverse;
      // one that looks exactly like a Latin name does.
      assertAdminConflict(await admin(s.url, '/api/admin/users', { email: uniqueEmail('intl'), username: '\u0455tra\u00dfe', password: PASSWORD }), 'Cyrillic ѕ in straße');
    });

    it('a name ban on mallory matches its lookalikes at creation, rename and sign-in', async () => {
      const mallory = await createUser(s.url, { username: 'mallory', email: uniqueEmail('mallory'), password: PASSWORD });
      const other = await createUser(s.url, { username: 'not-mallory' });
      const b = await admin(s.url, '/api/admin/bans', { ban_type: 'name', ban_value: 'mallory' });
      assert.equal(b.status, 201, b.text);
      const count = await userCount(s);
      // The invisible spelling is refused outright; the visible lookalikes are refused as banned.
      assertAdminInvalidCharacters(await admin(s.url, '/api/admin/users', { email: uniqueEmail('m'), password: PASSWORD, username: 'ma\u200bllory' }), 'ma\\u200bllory');
      for (const name of ['m\u0430llory', 'ｍａｌｌｏｒｙ', 'MALL\u041eRY', 'rnallory']) {
        const created = await admin(s.url, '/api/admin/users', { email: uniqueEmail('m'), password: PASSWORD, username: name });
        assert.equal(created.status, 403, `create ${name}: ${created.text}`);
        assert.equal(created.body.error, 'banned');
        const renamed = await admin(s.url, `/api/admin/users/${other.id}`, { username: name }, 'PATCH');
        assert.equal(renamed.status, 403, `rename to ${name}: ${renamed.text}`);
        const unleash = await ua(s.url, '/api/admin/user-admin', { email: uniqueEmail('m'), username: name, rootRole: 'Viewer' });
        assert.equal(unleash.status, 403, `user-admin ${name}: ${unleash.text}`);
        assert.equal(unleash.body.name, 'NoAccessError');
      }
      assert.equal(await userCount(s), count);
      const signIn = await http(s.url, '/api/auth/sign-in', { body: { identifier: 'ｍａｌｌｏｒｙ', password: PASSWORD } });
      assert.equal(signIn.status, 403, signIn.text);
      assert.equal(signIn.body.error, 'banned');
      assert.equal(mallory.username, 'mallory');
      // A ban made with a lookalike value matches the real name too.
      const victim = await createUser(s.url, { username: 'victor', email: uniqueEmail('victor'), password: PASSWORD });
      assert.equal((await admin(s.url, '/api/admin/bans', { ban_type: 'name', ban_value: 'vict\u043er' })).status, 201);
      const refused = await http(s.url, '/api/auth/sign-in', { body: { identifier: victim.email, password: PASSWORD } });
      assert.equal(refused.status, 403, refused.text);
    });

    it('account and directory surfaces (email identities) answer a lookalike of an existing email in their own shape', async () => {
      const email = uniqueEmail('Owner');
      await createUser(s.url, { email, password: PASSWORD });
      const tenant = await createTenant(s.url);
      const member = await createUser(s.url, { password: PASSWORD });
      await addMember(s.url, tenant.id, member.id);
      const count = await userCount(s);
      // Account (h3): the same mailbox in capitals is taken (409); a fullwidth spelling is no mailbox (400).
      const upper = await http(s.url, '/api/auth/sign-up', { body: { email: email.toUpperCase(), password: PASSWORD } });
      assert.equal(upper.status, 409, upper.text);
      assert.equal(upper.body.statusCode, 409);
      const wide = await http(s.url, '/api/auth/sign-up', { body: { email: `ｘ${email}`, password: PASSWORD } });
      assert.equal(wide.status, 400, wide.text);
      assert.equal(wide.body.statusCode, 400);
      // Directory (Laravel): 422 with errors.email either way.
      for (const e of [email.toUpperCase(), ` ${email} `, `ｘ${email}`]) {
        const res = await v1(s.url, '/users', { token: ADMIN_TOKEN, tenant: tenant.id, body: { name: 'Look Alike', email: e, password: PASSWORD, password_confirmation: PASSWORD } });
        assert.equal(res.status, 422, `${e}: ${res.text}`);
        assert.ok(res.body.errors.email, res.text);
      }
      assert.equal(await userCount(s), count);
    });
  });

  describe(`trust: one identity key — rows from before the skeleton (migration 0009) [${engine}]`, { skip }, () => {
    it('backfills skeletons: the oldest lookalike keeps the name, later ones stay usable, bans match them', async () => {
      const db = await freshDatabase(engine);
      const store = await openStore({
        databaseUrl: db.env.DATABASE_URL, dataDir: db.env.DATA_DIR ?? '', sqliteSynchronous: 'NORMAL', pgPoolSize: 2, pgReadLanes: 0, pgPreparedStatements: true,
      });
      const list: Record<string, Migration> = {};
      for (const m of migrations) list[m.name] = { up: (k) => m.up(k, store.engine) };
      const migrator = new Migrator({
        db: store.db, provider: { getMigrations: async () => list },
        migrationTableName: 'gatehouse_migrations', migrationLockTableName: 'gatehouse_migrations_lock',
      });
      const done = await migrator.migrateTo('0008_drop_search_window');
      assert.equal(done.error, undefined);
      const now = new Date().toISOString();
      const legacy = (username: string, email: string) => ({
        username, username_key: username.normalize('NFKC').toLowerCase(), email, email_key: email, name: null, name_key: null,
        root_role_id: 5, is_active: 1, account_type: 'User', login_attempts: 0, created_at: now, updated_at: now, version: 1,
      });
      // As an older release stored them: a lookalike pair and an invisible spelling of a name.
      await (store.db as any).insertInto('users').values([
        legacy('alice', 'old-alice@example.com'),
        legacy('\u0430lice', 'old-cyrillic@example.com'),
        legacy('ma\u200bllory', 'old-mallory@example.com'),
        // Keyed by the older fold, which left a final sigma as ς.
        legacy('ΟΔΥΣΣΕΥΣ', 'old-greek@example.com'),
      ]).execute();
      await (store.db as any).insertInto('tenants').values({ name: 'ΝΑΟΣ', name_key: 'ναος', created_at: now, updated_at: now }).execute();
      await (store.db as any).insertInto('aliases').values({
        address: 'mal\u200clory@example.org', address_key: 'mal\u200clory@example.org', address_local: 'mal\u200clory', goto: 'x@example.com',
        goto_key: 'x@example.com', goto_domain: 'example.com', active: 1, user_id: null, created: now, modified: now, version: 1,
      }).execute();
      await store.close();

      const s = await startServer(engine, { db });
      try {
        const ids = Object.fromEntries((await s.store.db.selectFrom('users').select(['id', 'email']).execute()).map((r) => [r.email, r.id]));
        // The later lookalike still signs in (by email and by its own username) once it has a password.
        for (const email of ['old-alice@example.com', 'old-cyrillic@example.com', 'old-mallory@example.com', 'old-greek@example.com']) {
          const set = await admin(s.url, `/api/admin/users/${ids[email]}`, { password: PASSWORD }, 'PATCH');
          assert.equal(set.status, 200, set.text);
        }
        assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: '\u0430lice', password: PASSWORD } })).status, 200);
        // Its profile can be edited with its username sent back unchanged (as clients PUT the whole user).
        const edit = await admin(s.url, `/api/admin/users/${ids['old-cyrillic@example.com']}`, { username: '\u0430lice', name: 'Still Here' }, 'PATCH');
        assert.equal(edit.status, 200, edit.text);
        assert.equal(edit.body.item.name, 'Still Here');
        // Keys made by the older fold are recomputed: the Greek name signs in whichever way its sigma is written.
        for (const identifier of ['ΟΔΥΣΣΕΥΣ', 'οδυσσευς', 'οδυσσευσ']) {
          assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier, password: PASSWORD } })).status, 200, identifier);
        }
        const tenant = await s.store.db.selectFrom('tenants').select('name_key').executeTakeFirstOrThrow();
        assert.equal(tenant.name_key, 'ναοσ');
        // A new lookalike of the pair conflicts.
        assertAdminConflict(await admin(s.url, '/api/admin/users', { email: uniqueEmail('new'), password: PASSWORD, username: 'alic\u0435' }), 'new lookalike of legacy rows');
        // The legacy invisible spelling of mallory is matched by a name ban on mallory: sign-in refused,
        // sessions revoked, the lookalike alias disabled.
        const before = await http(s.url, '/api/auth/sign-in', { body: { identifier: 'old-mallory@example.com', password: PASSWORD } });
        assert.equal(before.status, 200, before.text);
        const access = before.cookies['__Host-access'];
        const b = await admin(s.url, '/api/admin/bans', { ban_type: 'name', ban_value: 'mallory', revoke_sessions: true, disable_matching_aliases: true });
        assert.equal(b.status, 201, b.text);
        assert.equal(b.body.sessions_revoked, 1, b.text);
        const alias = await s.store.db.selectFrom('aliases').select('active').executeTakeFirstOrThrow();
        assert.equal(alias.active, 0, 'the alias mal\u200clory@ is disabled by the ban on mallory');
        const session = await http(s.url, '/api/auth/session', { cookie: `__Host-access=${access}` });
        assert.equal(session.status, 401, session.text);
        const after = await http(s.url, '/api/auth/sign-in', { body: { identifier: 'old-mallory@example.com', password: PASSWORD } });
        assert.equal(after.status, 403, after.text);
        assert.equal(after.body.error, 'banned');
      } finally {
        await s.close();
        await db.drop();
      }
    });
  });
}
