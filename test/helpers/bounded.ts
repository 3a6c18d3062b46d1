// Deterministic data for the bounded-response tests: rows written straight into the store with fixed
// values (ids, timestamps, texts), so a response over them is the same bytes on every run and engine.
import { sql } from 'kysely';
import type { Store } from '../../src/store/db.js';

const T = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 3_601_001).toISOString();

/** Hand-written users at the edges of the list's serialization, then `generated` plain ones. */
export function listUsers(generated: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [
    { username: 'only-username', name: null, email: null },
    { username: null, name: 'Quote " backslash \\ tab \t newline \n end', email: 'quote@example.com', avatar_url: 'https://img.example.com/a.png' },
    { username: 'unicode', name: 'Zoë Ünal 東京 🎉 \u2028 </script>', email: 'zoe@example.com', seen_at: T(7), login_attempts: 3 },
    { username: 'service', name: 'A service', email: 'svc@example.com', account_type: 'Service Account', root_role_id: 1 },
    { username: 'blank-type', name: 'Blank type', email: 'blank@example.com', account_type: '' },
    { username: 'deleted', name: 'Deleted', email: 'deleted@example.com', deleted_at: T(9) },
    { username: 'round-second', name: 'Round', email: 'round@example.com', created_at: '2024-02-03T04:05:06.000Z' },
  ];
  for (let i = 0; i < generated; i++) {
    out.push({
      username: `gen${i}`, name: i % 7 === 0 ? null : `Generated ${i}`, email: i % 11 === 0 ? null : `gen${i}@example.com`,
      root_role_id: 1 + (i % 5), login_attempts: i % 4, seen_at: i % 3 === 0 ? T(i) : null,
      deleted_at: i % 13 === 0 ? T(i + 1) : null,
    });
  }
  return out.map((u, i) => ({
    username: null, name: null, email: null, root_role_id: 5, login_attempts: 0, seen_at: null, deleted_at: null,
    account_type: 'User', avatar_url: null, created_at: T(1000 + i),
    ...u,
  }));
}

/**
 * Writes listUsers(generated) into a fresh store after its first admin (id 1, whose creation time is fixed
 * here too). Keys are lower-cased as the store writes them for ASCII; the password hash is a placeholder (these
 * users never sign in).
 */
export async function seedListUsers(store: Store, generated: number): Promise<number> {
  const db = store.db;
  await db.updateTable('users').set({ created_at: T(0), updated_at: T(0) }).where('id', '=', 1).execute();
  const rows = listUsers(generated).map((u) => ({
    username: u.username as string | null,
    username_key: typeof u.username === 'string' ? u.username.toLowerCase() : null,
    name: u.name as string | null,
    name_key: typeof u.name === 'string' ? u.name.toLowerCase() : null,
    email: u.email as string | null,
    email_key: typeof u.email === 'string' ? u.email.toLowerCase() : null,
    email_verified_at: null,
    password_hash: '$argon2id$placeholder',
    is_active: 1,
    root_role_id: u.root_role_id as number,
    account_type: u.account_type as string,
    avatar_url: u.avatar_url as string | null,
    login_attempts: u.login_attempts as number,
    seen_at: u.seen_at as string | null,
    created_at: u.created_at as string,
    updated_at: u.created_at as string,
    deleted_at: u.deleted_at as string | null,
    version: 1,
  }));
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('users').values(rows.slice(i, i + 500)).execute();
  if (store.engine === 'postgres') await sql`analyze users`.execute(db);
  return rows.length;
}

/**
 * Tenants, tenant roles, memberships (with roles, some soft-deleted), admin API tokens, OAuth clients and
 * personal access tokens of user 1, all with fixed values, over the users of seedListUsers (ids 2..).
 * Tenant 1 has `members` members; tenant 2 a few; tenant 3 none. The init API token's times are fixed too
 * (call fixTokenTimes again after using it: authenticating records its last use).
 */
export async function seedSweepData(store: Store, members: number): Promise<void> {
  const db = store.db;
  const tenants = ['Acme', 'Ünïcode "quoted" \\ tenant', 'Empty'];
  await db.insertInto('tenants').values(tenants.map((name, i) => ({ name, name_key: name.toLowerCase(), created_at: T(i), updated_at: T(i + 1) }))).execute();
  const roles = [
    { tenant_id: 1, name: 'Manager', description: 'Manages', permissions: ['users.view', 'users.update'] },
    { tenant_id: 1, name: 'Viewer', description: null, permissions: ['users.view'] },
    { tenant_id: 1, name: 'Nobody', description: 'No permissions', permissions: [] },
    { tenant_id: 2, name: 'Only', description: 'ü "q"', permissions: ['users.view'] },
  ];
  await db.insertInto('roles').values(roles.map((r, i) => ({
    name: r.name, name_key: r.name.toLowerCase(), type: 'tenant', tenant_id: r.tenant_id, description: r.description,
    permissions: JSON.stringify(r.permissions), created_at: T(20 + i), updated_at: T(30 + i),
  }))).execute();
  const roleIds = (await db.selectFrom('roles').select(['id', 'tenant_id']).where('type', '=', 'tenant').orderBy('id').execute());
  const t1 = roleIds.filter((r) => r.tenant_id === 1).map((r) => r.id);
  const t2 = roleIds.filter((r) => r.tenant_id === 2).map((r) => r.id);
  const m: Array<{ tenant_id: number; user_id: number; created_at: string; deleted_at: string | null }> = [];
  const ur: Array<{ tenant_id: number; user_id: number; role_id: number; created_at: string }> = [];
  for (let i = 0; i < members; i++) {
    const user = 2 + i;
    m.push({ tenant_id: 1, user_id: user, created_at: T(100 + i), deleted_at: i % 17 === 5 ? T(200 + i) : null });
    if (i % 4 !== 3) ur.push({ tenant_id: 1, user_id: user, role_id: t1[i % 3], created_at: T(300 + i) });
    if (i % 5 === 0) ur.push({ tenant_id: 1, user_id: user, role_id: t1[(i + 1) % 3], created_at: T(300 + i) });
  }
  for (let user = 2; user < 6; user++) {
    m.push({ tenant_id: 2, user_id: user, created_at: T(50 + user), deleted_at: null });
    ur.push({ tenant_id: 2, user_id: user, role_id: t2[0], created_at: T(60 + user) });
  }
  for (let i = 0; i < m.length; i += 500) await db.insertInto('tenant_members').values(m.slice(i, i + 500)).execute();
  for (let i = 0; i < ur.length; i += 500) await db.insertInto('tenant_user_roles').values(ur.slice(i, i + 500)).execute();
  const tokens = [];
  for (let i = 0; i < 7; i++) {
    tokens.push({
      name: `automation ${i} "x"`, token_hash: `fixed-admin-hash-${i}`, kind: 'admin', user_id: null, created_by: i % 2 ? 'user:1' : null,
      created_at: T(400 + i), expires_at: i % 3 === 0 ? '2099-01-01T00:00:00.000Z' : null, last_used_at: i % 2 ? T(500 + i) : null,
    });
    tokens.push({
      name: `pat ${i}`, token_hash: `fixed-personal-hash-${i}`, kind: 'personal', user_id: 1, created_by: 'user:1',
      created_at: T(600 + i), expires_at: '2099-01-01T00:00:00.000Z', last_used_at: i % 2 ? null : T(700 + i),
    });
  }
  await db.insertInto('api_tokens').values(tokens).execute();
  await db.insertInto('oauth_clients').values([0, 1, 2].map((i) => ({
    client_id: `00000000-0000-4000-8000-00000000000${i}`, name: `client ${i}`, secret_hash: `fixed-secret-${i}`,
    grant_types: JSON.stringify(i === 2 ? ['client_credentials'] : ['password', 'refresh_token']), service_user_id: i === 2 ? 3 : null,
    created_by: 'user:1', created_at: T(800 + i), last_used_at: i === 1 ? T(900) : null,
  }))).execute();
  await fixTokenTimes(store);
}

/** Fixes the times of tokens and sessions that requests record as they authenticate. */
export async function fixTokenTimes(store: Store): Promise<void> {
  await store.db.updateTable('api_tokens').set({ created_at: T(990), last_used_at: null }).where('token_hash', 'not like', 'fixed-%').execute();
}

/**
 * Rows for the lists that stream, beside the users: `tenants` tenants, every user a member of tenant 1 (the
 * ones in `everyUser`), `roles` roles in tenant 1, `tokens` admin API tokens and as many OAuth clients. One
 * INSERT … SELECT for the memberships, multi-row inserts for the rest.
 */
export async function seedStreamedLists(store: Store, n: { tenants: number; roles: number; tokens: number }): Promise<void> {
  const db = store.db;
  const chunked = async (rows: any[], insert: (rows: any[]) => Promise<unknown>) => {
    for (let i = 0; i < rows.length; i += 500) await insert(rows.slice(i, i + 500));
  };
  await chunked(Array.from({ length: n.tenants }, (_, i) => ({ name: `Tenant ${i}`, name_key: `tenant ${i}`, created_at: T(i), updated_at: T(i) })),
    (rows) => db.insertInto('tenants').values(rows).execute());
  await sql`insert into tenant_members (tenant_id, user_id, created_at, deleted_at) select 1, id, created_at, null from users`.execute(db);
  await chunked(Array.from({ length: n.roles }, (_, i) => ({
    name: `Role ${i}`, name_key: `role ${i}`, type: 'tenant', tenant_id: 1, description: `role number ${i}`,
    permissions: JSON.stringify(['users.view']), created_at: T(i), updated_at: T(i),
  })), (rows) => db.insertInto('roles').values(rows).execute());
  await chunked(Array.from({ length: n.tokens }, (_, i) => ({
    name: `token ${i}`, token_hash: `bulk-admin-hash-${i}`, kind: 'admin', user_id: null, created_by: null, created_at: T(i), expires_at: null, last_used_at: null,
  })), (rows) => db.insertInto('api_tokens').values(rows).execute());
  await chunked(Array.from({ length: n.tokens }, (_, i) => ({
    client_id: `bulk-client-${i}`, name: `client ${i}`, secret_hash: `bulk-secret-${i}`, grant_types: '["password"]', service_user_id: null,
    created_by: null, created_at: T(i), last_used_at: null,
  })), (rows) => db.insertInto('oauth_clients').values(rows).execute());
  // Statistics, as autovacuum would gather them soon after such inserts: without them PostgreSQL may plan a
  // member batch as a sort of every membership.
  await sql`analyze`.execute(db);
}

/** `tokens` personal access tokens of user `userId`. */
export async function seedPersonalTokens(store: Store, userId: number, tokens: number): Promise<void> {
  const rows = Array.from({ length: tokens }, (_, i) => ({
    name: `pat ${i}`, token_hash: `bulk-personal-hash-${i}`, kind: 'personal', user_id: userId, created_by: null,
    created_at: T(i), expires_at: '2099-01-01T00:00:00.000Z', last_used_at: null,
  }));
  for (let i = 0; i < rows.length; i += 500) await store.db.insertInto('api_tokens').values(rows.slice(i, i + 500)).execute();
}
