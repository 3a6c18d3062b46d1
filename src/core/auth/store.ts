// SQL of the credential policy's cuts (docs/credentials.md) on the tables the sessions module does not own:
// invite links and API tokens. No rules here.
import { nowIso, type Executor } from '../../store/sql.js';

/** Spends every pending invite (set-your-password) token of a user; returns how many. */
export async function endPendingInvites(ex: Executor, userId: number): Promise<number> {
  const r = await ex.updateTable('useradmin_invites').set({ used_at: nowIso() }).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Deletes the user's personal access tokens and the admin API tokens that act for them; returns how many. */
export async function deleteTokensOf(ex: Executor, userId: number): Promise<number> {
  const r = await ex.deleteFrom('api_tokens').where((eb) => eb.or([eb('user_id', '=', userId), eb('creator_user_id', '=', userId)])).executeTakeFirst();
  return Number(r.numDeletedRows);
}
