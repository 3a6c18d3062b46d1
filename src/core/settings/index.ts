// Server-wide settings kept in the store, so every node of a deployment shares them.
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/db.js';

/**
 * The server secret: GATEHOUSE_SECRET when set; otherwise one generated on first start and kept in the
 * store (insert-if-absent, so nodes starting together agree on one value).
 */
export async function resolveServerSecret(store: Store, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const candidate = randomBytes(48).toString('base64url');
  await store.db
    .insertInto('server_settings')
    .values({ key: 'server_secret', value: candidate })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await store.db.selectFrom('server_settings').select('value').where('key', '=', 'server_secret').executeTakeFirstOrThrow();
  return row.value;
}
