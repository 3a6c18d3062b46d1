// SQL of the mail flows: one-time password tokens share the invite table (an invite is a first password
// reset; GET /auth/reset/validate and POST /auth/reset/password accept both), told apart by created_by.
import type { Executor } from '../../store/sql.js';

export const RESET_CREATED_BY = 'password-reset';

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
