// SQL of the mail flows: one-time password tokens share the invite table (an invite is a first password
// reset; GET /auth/reset/validate and POST /auth/reset/password accept both), told apart by created_by.
import type { Store } from '../../store/db.js';
import type { Executor } from '../../store/sql.js';
import { PASSWORD_RESET_TOKEN as RESET_CREATED_BY } from '../users/types.js';

export { RESET_CREATED_BY };

export async function insertResetToken(ex: Executor, row: { tokenHash: string; userId: number; now: string; expiresAt: string }): Promise<void> {
  await ex.insertInto('useradmin_invites').values({
    token_hash: row.tokenHash, user_id: row.userId, created_by: RESET_CREATED_BY, created_at: row.now, expires_at: row.expiresAt, used_at: null,
  }).execute();
}

/** Whether a reset token was issued to the user since `since` (one mail per user per interval). */
export async function resetIssuedSince(ex: Executor, userId: number, since: string): Promise<boolean> {
  const row = await ex.selectFrom('useradmin_invites').select('user_id')
    .where('user_id', '=', userId).where('created_by', '=', RESET_CREATED_BY).where('created_at', '>', since)
    .limit(1).executeTakeFirst();
  return row !== undefined;
}

/** A reset token's row (locked with `forUpdate`). */
export async function findResetToken(ex: Executor, tokenHash: string, opts: { forUpdate?: boolean } = {}) {
  let q = ex.selectFrom('useradmin_invites').selectAll().where('token_hash', '=', tokenHash).where('created_by', '=', RESET_CREATED_BY);
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Spends every open invite and reset token of a user (a password was just set). */
export async function spendPasswordTokens(ex: Executor, userId: number, now: string): Promise<void> {
  await ex.updateTable('useradmin_invites').set({ used_at: now }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
}

export async function insertVerification(ex: Executor, row: { tokenHash: string; userId: number; email: string; now: string; expiresAt: string }): Promise<void> {
  await ex.insertInto('email_verifications').values({
    token_hash: row.tokenHash, user_id: row.userId, email: row.email, created_at: row.now, expires_at: row.expiresAt, used_at: null,
  }).execute();
}

export async function verificationIssuedSince(ex: Executor, userId: number, since: string): Promise<boolean> {
  const row = await ex.selectFrom('email_verifications').select('user_id').where('user_id', '=', userId).where('created_at', '>', since).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** A verification token's row (locked with `forUpdate`). */
export async function findVerification(ex: Executor, tokenHash: string, opts: { forUpdate?: boolean } = {}) {
  let q = ex.selectFrom('email_verifications').selectAll().where('token_hash', '=', tokenHash);
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function spendVerifications(ex: Executor, userId: number, now: string): Promise<void> {
  await ex.updateTable('email_verifications').set({ used_at: now }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
}

/** Marks the user's address verified if it is still `email`; the changed row, or undefined. */
export async function markEmailVerified(ex: Executor, userId: number, email: string, now: string) {
  return ex.updateTable('users')
    .set((eb) => ({ email_verified_at: now, updated_at: now, version: eb('version', '+', 1) }))
    .where('id', '=', userId).where('email', '=', email).where('deleted_at', 'is', null).where('email_verified_at', 'is', null)
    .returningAll().executeTakeFirst();
}

/**
 * The mail flows' statements bound to a store (its database and engine). Row locks are decided here: FOR
 * UPDATE on PostgreSQL, nothing on SQLite (its writers are serialised by the database itself).
 */
export function createMailStore(store: Store) {
  const { db, engine } = store;
  const locks = engine === 'postgres';
  return {
    transaction: <T>(work: (trx: Executor) => Promise<T>): Promise<T> => db.transaction().execute(work),
    /** A reset token's row, locked (PostgreSQL) for the transaction that spends it. */
    lockResetToken: (trx: Executor, tokenHash: string) => findResetToken(trx, tokenHash, { forUpdate: locks }),
    /** A verification token's row, locked (PostgreSQL) for the transaction that spends it. */
    lockVerification: (trx: Executor, tokenHash: string) => findVerification(trx, tokenHash, { forUpdate: locks }),
  };
}

export type MailStore = ReturnType<typeof createMailStore>;
