// The credential policy (docs/credentials.md), the part every credential check shares: may this user act
// now? Each check reads the user's standing in the statement it already runs (the session, token or OAuth
// session joined with its user), so the answer costs no round trip and is the same on every node at once.
//
// The events that end credentials for good (password change or reset, sign-out everywhere, deactivation, a
// ban with revoke_sessions) are written in their own transactions through endUserCredentials
// (core/sessions); what is judged here is the standing at the moment of each request:
// - the user exists, is active and not deleted;
// - no active email, domain or name ban matches the user (users.banned_until, kept by the bans service):
//   while one does, every credential of the user is refused (sessions, refresh, OAuth grants, personal and
//   admin API tokens, invite links), and they work again once it ends, unless the ban also revoked them.

/** users.banned_until for a ban without an end. */
export const NO_BAN_END = '9999-12-31T23:59:59.999Z';

/** The columns of a user's standing, as a credential check reads them (PostgreSQL's or SQLite's types). */
export interface Standing {
  is_active: number | boolean | null;
  deleted_at: Date | string | null;
  banned_until: Date | string | null;
}

/** True while an active ban matches the user (banned_until in the future). */
export function bannedNow(bannedUntil: Date | string | null | undefined, nowMs = Date.now()): boolean {
  if (bannedUntil === null || bannedUntil === undefined) return false;
  const until = bannedUntil instanceof Date ? bannedUntil.getTime() : Date.parse(bannedUntil);
  return !(until <= nowMs);
}

/** Whether a user with this standing may act now (undefined: no such user). */
export function mayAct(row: Standing | undefined, nowMs = Date.now()): boolean {
  if (!row) return false;
  if (!(row.is_active === 1 || row.is_active === true) || row.deleted_at !== null) return false;
  return !bannedNow(row.banned_until, nowMs);
}
