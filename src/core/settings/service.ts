// Server-wide settings kept in the store, so every node of a deployment shares them. SQL: store.ts.
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/db.js';
import { createSettingsStore } from './store.js';

/**
 * The server secret: GATEHOUSE_SECRET when set; otherwise one generated on first start and kept in the
 * store (insert-if-absent, so nodes starting together agree on one value).
 */
export async function resolveServerSecret(store: Store, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const settings = createSettingsStore(store);
  await settings.insertIfAbsent('server_secret', randomBytes(48).toString('base64url'));
  return settings.read('server_secret');
}
