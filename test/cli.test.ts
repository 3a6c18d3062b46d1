// The operator commands (issue 21, CLI): export and import (the gatehouse format and the peers' formats, their
// password hashes verified at first sign-in and upgraded to argon2id), --dry-run, per-row results, and the
// users/tokens/bans commands, each run as a real `gatehouse` process against the store a server is running on.
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { Algorithm, hash as argon2Hash } from '@node-rs/argon2';
import { SYSTEM_CONTEXT, SYSTEM_PRINCIPAL } from '../src/core/context.js';
import { ROOT_ROLES } from '../src/core/roles/index.js';
import { ADMIN_PASSWORD, ADMIN_TOKEN, engines, freshDatabase, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { baseEnv, runGatehouse } from './helpers/process.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;

function writeFile(text: string): string {
  const file = path.join(tmp, `in-${++fileNo}.txt`);
  fs.writeFileSync(file, text);
  return file;
}

function lines(rows: unknown[]): string {
  return rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
}

function results(stdout: string): { rows: any[]; summary: any } {
  const all = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const last = all.pop();
  assert.ok(last?.summary, `the last line is the summary: ${stdout.slice(-300)}`);
  return { rows: all, summary: last.summary };
}

function b64(buf: Buffer): string {
  return buf.toString('base64');
}

describe('gatehouse --help', () => {
  it('lists the operator commands', async () => {
    const r = await runGatehouse(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const cmd of ['export', 'import', 'users list', 'tokens create', 'bans list', '--dry-run', 'keycloak']) assert.ok(r.stdout.includes(cmd), `--help lists ${cmd}`);
  });
});

for (const { engine, skip } of engines()) {
  describe(`gatehouse export / import [${engine}]`, { skip }, () => {
    let s: TestServer;
    let env: Record<string, string>;
    let n = 0;
    const email = (tag: string) => `${tag}-${++n}@cli.example.com`;
    const gh = (args: string[], input?: string) => runGatehouse(args, { env, input, timeoutMs: 120_000 });
    const signIn = async (login: string, password: string) => (await http(s.url, '/api/auth/login', { body: { email: login, password } })).status;
    const storedHash = async (login: string) =>
      (await s.store.db.selectFrom('users').select('password_hash').where('email_key', '=', login.toLowerCase()).executeTakeFirstOrThrow()).password_hash;

    before(async () => {
      s = await startServer(engine);
      env = baseEnv({ ...s.db.env, LOG_LEVEL: 'silent' });
    });
    after(async () => s?.close());

    it('export → import into a fresh database keeps users, hashes, roles and memberships; the old password signs in', async () => {
      const core = s.core;
      const ctx = { ...SYSTEM_CONTEXT, requestId: 'test' };
      const editor = await core.users.create(SYSTEM_PRINCIPAL, ctx, {
        email: 'Round.Trip@cli.example.com', username: 'round-trip', name: 'Round Trip', password: 'round-trip-pass-1',
        rootRoleId: ROOT_ROLES.Editor, emailVerified: true, phone: '+15551234567', title: 'Ops', languages: ['English'],
      });
      const inactive = await core.users.create(SYSTEM_PRINCIPAL, ctx, { username: 'no-email-user', password: 'inactive-pass-1', isActive: false });
      const tenant = await core.tenants.createTenant(SYSTEM_PRINCIPAL, ctx, { name: 'Acme Export' });
      const role = await core.tenants.createRole(SYSTEM_PRINCIPAL, ctx, tenant.id, { name: 'Billing', permissions: [] });
      await core.tenants.addMember(SYSTEM_PRINCIPAL, ctx, tenant.id, { userId: editor.id, roleIds: [role.id] });
      await core.tenants.addMember(SYSTEM_PRINCIPAL, ctx, tenant.id, { userId: inactive.id });
      const deleted = await core.users.create(SYSTEM_PRINCIPAL, ctx, { email: email('deleted'), password: 'deleted-pass-1' });
      await core.users.delete(SYSTEM_PRINCIPAL, ctx, deleted.id);

      const out = path.join(tmp, `export-${engine}.jsonl`);
      const exp = await gh(['export', '--out', out]);
      assert.equal(exp.code, 0, exp.stderr);
      assert.equal(exp.stdout, '', 'nothing but the file gets the users');
      const exported = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(!exported.some((u) => u.id === deleted.id), 'deleted users are not exported');
      const row = exported.find((u) => u.id === editor.id);
      assert.equal(row.email, 'round.trip@cli.example.com');
      assert.equal(row.root_role, 'Editor');
      assert.deepEqual(row.memberships, [{ tenant: 'Acme Export', roles: ['Billing'] }]);
      assert.match(row.password_hash, /^\$argon2id\$/);
      assert.deepEqual(row.languages, ['English']);

      const fresh = await freshDatabase(engine);
      try {
        const freshEnv = baseEnv({ ...fresh.env, LOG_LEVEL: 'silent' });
        const imp = await runGatehouse(['import', '--file', out], { env: freshEnv, timeoutMs: 120_000 });
        assert.equal(imp.code, 0, imp.stdout + imp.stderr);
        const { rows, summary } = results(imp.stdout);
        assert.equal(summary.created, exported.length, imp.stdout);
        assert.equal(summary.error, 0);
        assert.ok(rows.every((r) => r.status === 'created'));
        const back = await runGatehouse(['export'], { env: freshEnv });
        assert.equal(back.code, 0, back.stderr);
        const reimported = back.stdout.trim().split('\n').map((l) => JSON.parse(l));
        // The same users, field for field, but for their new ids.
        const strip = (u: any) => ({ ...u, id: undefined });
        assert.deepEqual(reimported.map(strip), exported.map(strip));

        // A server on the new database: the users sign in with the passwords they had.
        const t = await startServer(engine, { db: fresh });
        try {
          assert.equal((await http(t.url, '/api/auth/login', { body: { email: 'round.trip@cli.example.com', password: 'round-trip-pass-1' } })).status, 200);
          assert.equal((await http(t.url, '/api/auth/login', { body: { email: 'round.trip@cli.example.com', password: 'wrong-pass-1' } })).status, 401);
          // The exported admin (from the first database) is the admin here, with their own password.
          assert.equal((await http(t.url, '/api/auth/login', { body: { email: 'root@example.com', password: ADMIN_PASSWORD } })).status, 200);
          const audit = await t.store.db.selectFrom('audit_events').select(['action', 'after_data']).where('action', '=', 'user.imported').execute();
          assert.equal(audit.length, exported.length);
          assert.ok(!/\$argon2|password_hash/.test(JSON.stringify(audit)), 'no hash in an audit event');
          // The same import again: every user is already there.
          const again = await runGatehouse(['import', '--file', out], { env: freshEnv });
          const second = results(again.stdout);
          assert.equal(second.summary.skipped, exported.length);
          assert.ok(second.rows.every((r) => r.status === 'skipped' && /_taken$/.test(r.reason)), again.stdout);
          // --existing update: a row for a user who is there updates them (name, role, activity), nothing else.
          const changed = { ...row, name: 'Renamed On Import', root_role: 'Viewer', password_hash: null };
          const upd = await runGatehouse(['import', '--existing', 'update'], { env: freshEnv, input: lines([changed]) });
          assert.equal(upd.code, 0, upd.stdout + upd.stderr);
          const u = results(upd.stdout);
          assert.equal(u.rows[0].status, 'updated', upd.stdout);
          assert.deepEqual(u.rows[0].changed.sort(), ['name', 'root_role_id']);
          assert.equal(u.summary.updated, 1);
          const after = await t.store.db.selectFrom('users').select(['name', 'root_role_id', 'password_hash']).where('email_key', '=', 'round.trip@cli.example.com').executeTakeFirstOrThrow();
          assert.equal(after.name, 'Renamed On Import');
          assert.equal(after.root_role_id, ROOT_ROLES.Viewer);
          assert.ok(after.password_hash, 'the password hash is left as it was');
        } finally {
          await t.close();
        }
      } finally {
        await fresh.drop();
      }
    });

    it('each peer format: the old bcrypt / pbkdf2-sha256 / pbkdf2-sha512 / scrypt / argon2i password signs in, and the hash is then argon2id', async () => {
      const users: Array<{ email: string; password: string; prefix: RegExp }> = [];
      const pw = (tag: string) => `${tag}-old-password-${n}`;

      // Unleash users table rows: bcrypt; a deleted row and a service account are skipped.
      const un = { email: email('unleash'), password: pw('unleash') };
      const unFile = writeFile(lines([
        { id: 7, name: 'Un Leash', username: null, email: un.email, password_hash: bcrypt.hashSync(un.password, 4), created_at: '2023-01-02T03:04:05.000Z', is_service: false, deleted_at: null },
        { id: 8, name: 'Gone', email: email('unleash-gone'), password_hash: null, deleted_at: '2024-01-01T00:00:00Z' },
        { id: 9, name: 'Svc', username: 'svc-acct', email: null, is_service: true },
      ]));
      const unRes = await gh(['import', '--format', 'unleash', '--file', unFile]);
      assert.equal(unRes.code, 0, unRes.stdout + unRes.stderr);
      assert.deepEqual(results(unRes.stdout).rows.map((r) => r.status + (r.reason ? `:${r.reason}` : '')), ['created', 'skipped:deleted', 'skipped:service_account']);
      users.push({ ...un, prefix: /^\$2[ab]\$/ });

      // A Keycloak realm export: pbkdf2-sha256 and pbkdf2-sha512 credentials (secretData / credentialData).
      const kc = [256, 512].map((bits) => ({ email: email(`kc${bits}`), password: pw(`kc${bits}`), bits }));
      const kcDoc: { realm: string; users: any[] } = {
        realm: 'test',
        users: kc.map((u, i) => {
          const salt = randomBytes(16);
          const digest = `sha${u.bits}`;
          const value = pbkdf2Sync(u.password, salt, 27500, u.bits === 256 ? 32 : 64, digest);
          return {
            id: `kc-${i}`, username: u.email, email: u.email, emailVerified: true, enabled: true, firstName: 'Key', lastName: `Cloak ${u.bits}`, createdTimestamp: 1_700_000_000_000,
            credentials: [{ type: 'password', secretData: JSON.stringify({ value: b64(value), salt: b64(salt), additionalParameters: {} }), credentialData: JSON.stringify({ hashIterations: 27500, algorithm: `pbkdf2-${digest}`, additionalParameters: {} }) }],
          };
        }),
      };
      // Keycloak's pbkdf2 (SHA-1) and argon2 (Keycloak 24+) credentials too.
      const kc1 = { email: email('kcsha1'), password: pw('kcsha1') };
      const sha1Salt = randomBytes(16);
      const kcArgon = { email: email('kcargon'), password: pw('kcargon') };
      const phc = (await argon2Hash(kcArgon.password, { algorithm: Algorithm.Argon2id, memoryCost: 7168, timeCost: 5, parallelism: 1 })).split('$');
      const pad = (t: string) => t + '='.repeat((4 - (t.length % 4)) % 4);
      kcDoc.users.push(
        { id: 'kc-sha1', username: 'kc_sha1', email: kc1.email, emailVerified: false, enabled: true, firstName: 'Sha', lastName: 'One', createdTimestamp: 1_700_000_000_000,
          credentials: [{ type: 'password', secretData: JSON.stringify({ value: b64(pbkdf2Sync(kc1.password, sha1Salt, 20000, 64, 'sha1')), salt: b64(sha1Salt) }), credentialData: JSON.stringify({ hashIterations: 20000, algorithm: 'pbkdf2' }) }] },
        { id: 'kc-argon', username: 'kc_argon', email: kcArgon.email, emailVerified: true, enabled: true, firstName: 'Ar', lastName: 'Gon', createdTimestamp: 1_700_000_000_000,
          credentials: [{ type: 'password', secretData: JSON.stringify({ value: pad(phc[5]), salt: pad(phc[4]) }), credentialData: JSON.stringify({ hashIterations: 5, algorithm: 'argon2', additionalParameters: { hashLength: ['32'], memory: ['7168'], type: ['id'], version: ['1.3'], parallelism: ['1'] } }) }] },
      );
      const kcRes = await gh(['import', '--format', 'keycloak', '--file', writeFile(JSON.stringify(kcDoc))]);
      assert.equal(kcRes.code, 0, kcRes.stdout + kcRes.stderr);
      assert.equal(results(kcRes.stdout).summary.created, 4);
      users.push({ ...kc1, prefix: /^\$pbkdf2-sha1\$i=20000\$/ }, { ...kcArgon, prefix: /^\$argon2id\$v=19\$m=7168,t=5,p=1\$/ });
      for (const u of kc) users.push({ email: u.email, password: u.password, prefix: new RegExp(`^\\$pbkdf2-sha${u.bits}\\$i=27500\\$`) });

      // Supabase auth.users rows: bcrypt encrypted_password, name from the metadata.
      const sb = { email: email('supabase'), password: pw('supabase') };
      const sbRes = await gh(['import', '--format', 'supabase'], lines([
        { id: '0f7c1f0e-0000-4000-8000-000000000001', email: sb.email, encrypted_password: bcrypt.hashSync(sb.password, 4).replace(/^\$2b\$/, '$2a$'), email_confirmed_at: '2024-02-03T04:05:06Z', created_at: '2024-02-01T00:00:00Z', raw_user_meta_data: { full_name: 'Supa Base' } },
      ]));
      assert.equal(sbRes.code, 0, sbRes.stdout + sbRes.stderr);
      users.push({ ...sb, prefix: /^\$2a\$/ });

      // Logto users: argon2i; an MD5 one is reported and the others still come in.
      const lo = { email: email('logto'), password: pw('logto') };
      const argon2i = await argon2Hash(lo.password, { algorithm: Algorithm.Argon2i, memoryCost: 4096, timeCost: 3, parallelism: 1 });
      const loRes = await gh(['import', '--format', 'logto'], lines([
        { id: 'md5user', username: 'md5user', primary_email: email('logto-md5'), password_encrypted: '5f4dcc3b5aa765d61d8327deb882cf99', password_encryption_method: 'MD5' },
        { id: 'lo1', username: 'logto_user', primary_email: lo.email, name: 'Log To', password_encrypted: argon2i, password_encryption_method: 'Argon2i', created_at: 1_700_000_000_000 },
      ]));
      assert.equal(loRes.code, 1, 'a row in error makes the exit code 1');
      const loOut = results(loRes.stdout);
      assert.equal(loOut.rows[0].status, 'error');
      assert.equal(loOut.rows[0].reason, 'unsupported_hash');
      assert.equal(loOut.rows[1].status, 'created');
      users.push({ ...lo, prefix: /^\$argon2i\$/ });

      // scrypt (PHC-like, docs/cli.md) in the gatehouse format.
      const sc = { email: email('scrypt'), password: pw('scrypt') };
      const salt = randomBytes(16);
      const key = scryptSync(sc.password, salt, 32, { N: 2 ** 14, r: 8, p: 1 });
      const scRes = await gh(['import'], lines([{ email: sc.email, password_hash: `$scrypt$ln=14,r=8,p=1$${b64(salt).replace(/=+$/, '')}$${b64(key).replace(/=+$/, '')}` }]));
      assert.equal(scRes.code, 0, scRes.stdout + scRes.stderr);
      users.push({ ...sc, prefix: /^\$scrypt\$/ });

      for (const u of users) {
        const before = await storedHash(u.email);
        assert.match(before!, u.prefix, `${u.email}: stored as imported`);
        assert.equal(await signIn(u.email, 'not-the-password-1'), 401, `${u.email}: a wrong password is refused`);
        assert.equal(await storedHash(u.email), before, `${u.email}: a failed sign-in upgrades nothing`);
        assert.equal(await signIn(u.email, u.password), 200, `${u.email}: the old password signs in`);
        assert.match((await storedHash(u.email))!, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, `${u.email}: upgraded to argon2id`);
        assert.equal(await signIn(u.email, u.password), 200, `${u.email}: and signs in again under argon2id`);
      }
      const kcUser = await s.store.db.selectFrom('users').select(['name', 'username', 'email_verified_at']).where('email_key', '=', kc[0].email).executeTakeFirstOrThrow();
      assert.equal(kcUser.name, 'Key Cloak 256');
      assert.equal(kcUser.username, null, 'a Keycloak username that is the email is not kept as a username');
      assert.ok(kcUser.email_verified_at);
    });

    it('--dry-run reports what would happen and writes nothing; a bad row is reported and the others are imported', async () => {
      const count = async (table: 'users' | 'audit_events') => Number((await s.store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      await s.core.bans.create(SYSTEM_PRINCIPAL, SYSTEM_CONTEXT, { banType: 'domain', banValue: 'banned-import.example' });
      const [users0, audit0] = [await count('users'), await count('audit_events')];
      const good = [email('dry'), email('dry')];
      const file = writeFile(lines([
        { email: good[0], name: 'Dry One', memberships: [{ tenant: 'Dry Tenant', roles: ['Dry Role'] }] },
        'this is not json',
        { email: 'not-an-email' },
        { email: email('badhash'), password_hash: 'plaintext-password' },
        { email: good[0].toUpperCase() },
        { email: good[1], root_role: 'Emperor' },
        { username: 'dry-user-2', root_role: 'Viewer', password_hash: bcrypt.hashSync('dry-pass-1', 4) },
        { email: 'someone@mail.banned-import.example' },
        { email: email('pbkdf2-too-costly'), password_hash: `$pbkdf2-sha256$i=99999999$${b64(randomBytes(16))}$${b64(randomBytes(32))}` },
      ]));
      const dry = await gh(['import', '--dry-run', '--file', file]);
      assert.equal(dry.code, 1, dry.stdout + dry.stderr);
      const d = results(dry.stdout);
      assert.deepEqual(d.rows.map((r) => `${r.source}:${r.status}:${r.reason ?? ''}`), [
        '1:created:', '2:error:unreadable', '3:error:invalid_email', '4:error:unsupported_hash', '5:skipped:duplicate_in_input', '6:error:unknown_role', '7:created:',
        '8:error:banned', '9:error:unsupported_hash',
      ]);
      assert.equal(d.rows[0].id, null, 'a dry run assigns no id');
      assert.deepEqual({ created: d.summary.created, skipped: d.summary.skipped, error: d.summary.error, dry_run: d.summary.dry_run }, { created: 2, skipped: 1, error: 6, dry_run: true });
      assert.equal(await count('users'), users0, 'a dry run creates no user');
      assert.equal(await count('audit_events'), audit0, 'a dry run writes no audit event');
      assert.equal(await s.store.db.selectFrom('tenants').select('id').where('name', '=', 'Dry Tenant').executeTakeFirst(), undefined, 'nor a tenant');

      const real = await gh(['import', '--file', file]);
      assert.equal(real.code, 1);
      const r = results(real.stdout);
      assert.deepEqual(r.rows.map((x) => `${x.source}:${x.status}`), ['1:created', '2:error', '3:error', '4:error', '5:skipped', '6:error', '7:created', '8:error', '9:error']);
      assert.equal(await count('users'), users0 + 2);
      const member = await s.store.db.selectFrom('tenant_members as m').innerJoin('tenants as t', 't.id', 'm.tenant_id').select('m.user_id').where('t.name', '=', 'Dry Tenant').execute();
      assert.deepEqual(member.map((m) => m.user_id), [r.rows[0].id]);
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: 'dry-user-2', password: 'dry-pass-1' } })).status, 200, 'the bcrypt user of the same file signs in');
    });

    it('a missing input file, an unwritable output path or an unknown format: exit 2, the path or value named, nothing written', async () => {
      const missing = await gh(['import', '--file', path.join(tmp, 'no-such-file.jsonl')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read .*no-such-file\.jsonl/);
      assert.ok(!/\n\s+at /.test(missing.stderr), 'no stack trace');
      const unwritable = await gh(['export', '--out', path.join(tmp, 'no-such-dir', 'out.jsonl')]);
      assert.equal(unwritable.code, 2);
      assert.match(unwritable.stderr, /cannot write .*no-such-dir/);
      const format = await gh(['import', '--format', 'okta'], lines([{ email: email('okta') }]));
      assert.equal(format.code, 2);
      assert.match(format.stderr, /unknown --format "okta"/);
    });
  });
}
