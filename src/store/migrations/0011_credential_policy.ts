// The credential policy (docs/credentials.md) reads two facts with every credential check, from rows the
// check already joins:
// - users.banned_until: until when an active email, domain or name ban matches the user (null: none; a ban
//   without an end gives 9999-12-31). Kept by the bans service whenever a ban or the user's identity
//   changes, so the per-request check is a comparison on the user row, on every node at once.
// - api_tokens.creator_user_id: the user an admin API token acts for (its creator, or the creator of the
//   token that created it); null only for tokens the system made (GATEHOUSE_INIT_API_TOKEN). The token acts
//   with that user's current power and is deleted with them.
import type { Kysely } from 'kysely';
import type { Engine } from '../sql.js';
import { columnTypes, type VersionedMigration } from './types.js';

export const NO_BAN_END = '9999-12-31T23:59:59.999Z';

async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const t = columnTypes(engine);
  await db.schema.alterTable('users').addColumn('banned_until', t.timestamp).execute();
  await db.schema.alterTable('api_tokens').addColumn('creator_user_id', 'integer', (c) => c.references('users.id').onDelete('cascade')).execute();
  await db.schema.createIndex('api_tokens_creator_idx').on('api_tokens').column('creator_user_id').execute();
  await db.schema.createIndex('api_tokens_user_idx').ifNotExists().on('api_tokens').column('user_id').execute();

  // Admin tokens made before: follow created_by ("user:N", "api_token:N" → that token's creator, "system").
  const tokens = await db.selectFrom('api_tokens').select(['id', 'kind', 'created_by']).execute() as Array<{ id: number; kind: string; created_by: string | null }>;
  const byId = new Map(tokens.map((r) => [Number(r.id), r]));
  const users = new Set((await db.selectFrom('users').select('id').execute()).map((r: { id: number }) => Number(r.id)));
  const creatorOf = (id: number, depth = 0): number | null | 'gone' => {
    const row = byId.get(id);
    if (!row || depth > 50) return 'gone';
    const m = /^(user|api_token):(\d+)$/.exec(row.created_by ?? '');
    if (!m) return row.created_by === 'system' ? null : 'gone';
    const n = Number(m[2]);
    if (m[1] === 'user') return users.has(n) ? n : 'gone';
    const parent = byId.get(n);
    if (parent?.kind === 'personal') return 'gone';
    return creatorOf(n, depth + 1);
  };
  for (const row of tokens) {
    if (row.kind !== 'admin') continue;
    const creator = creatorOf(Number(row.id));
    // A token whose creating user is gone would keep powers nobody holds any more: the policy ends it.
    if (creator === 'gone') await db.deleteFrom('api_tokens').where('id', '=', row.id).execute();
    else if (creator !== null) await db.updateTable('api_tokens').set({ creator_user_id: creator }).where('id', '=', row.id).execute();
  }

  // The standing of users matched by bans active now (email, domain with its subdomains, name).
  const now = new Date().toISOString();
  const bans = await db.selectFrom('bans').select(['ban_type', 'ban_value', 'expires_at']).where('revoked_at', 'is', null).where('ban_type', '!=', 'ip').execute() as Array<{ ban_type: string; ban_value: string; expires_at: Date | string | null }>;
  const until = new Map<number, string>();
  for (const b of bans) {
    const end = b.expires_at === null ? NO_BAN_END : new Date(b.expires_at).toISOString();
    if (end <= now) continue;
    let q = db.selectFrom('users').select('id');
    if (b.ban_type === 'email') q = q.where('email_key', '=', b.ban_value);
    else if (b.ban_type === 'domain') q = q.where((eb: any) => eb.or([eb('email_key', 'like', `%@${b.ban_value}`), eb('email_key', 'like', `%.${b.ban_value}`)]));
    else q = q.where('username_key', '=', b.ban_value);
    for (const u of await q.execute() as Array<{ id: number }>) {
      const id = Number(u.id);
      if ((until.get(id) ?? '') < end) until.set(id, end);
    }
  }
  for (const [id, end] of until) await db.updateTable('users').set({ banned_until: end }).where('id', '=', id).execute();
}

export const migration0011: VersionedMigration = { name: '0011_credential_policy', up };
