// The users service: every rule about users lives here, whichever surface calls it. SQL: ./store.ts.
import type { Store } from '../../store/db.js';
import { nowIso, uniqueViolation, type Executor } from '../../store/sql.js';
import type { Updateable } from 'kysely';
import type { UsersTable } from '../../store/schema.js';
import { auditListenerOf, auditRow, recordAudit } from '../audit/index.js';
import { isAdminPrincipal, type Principal, type RequestContext } from '../context.js';
import { conflict, DomainError, invalid, notFound, preconditionFailed } from '../errors.js';
import { checkPassword, type PasswordHasher, type PasswordPolicy, BASE_POLICY } from '../passwords/index.js';
import { checkStrongPassword, STRONG_PASSWORD_POLICY } from '../passwords/strength.js';
import { isAdminRole, ROOT_ROLE_NAMES, ROOT_ROLES } from '../roles/index.js';
import { endUserCredentials, rotateSessionToken } from '../sessions/index.js';
import type { LoginThrottle } from '../throttle/index.js';
import { keysetBatches } from '../../store/batches.js';
import { createUserStore, toUserListItem, toUser, toUserSummary, type ListShape, type PageRead, type UserRow, type UserStore } from './store.js';
import type { NewUser, User, UserCursor, UserListItem, UserListQuery, UserPatch, UserSummary } from './types.js';
import { LANGUAGES, normalizeUserInput, type NormalizedUser } from './input.js';
import { foldKey } from './validation.js';

export { LANGUAGES };
import { usernameKey } from '../identity/index.js';
import { ifMatchSatisfied } from '../etag.js';

/**
 * A check run before a user is created or their email/username changes (bans hook in here).
 * It throws a DomainError to refuse.
 */
export type IdentityGuard = (identity: { email?: string; username?: string }, ex: Executor) => Promise<void> | void;

/** Many identities at once (bulk import): true when the guard it goes with would refuse none of them. */
export type IdentityPrecheck = (identities: Array<{ email?: string; username?: string }>, ex: Executor) => Promise<boolean>;

/**
 * Runs first in a transaction that sets a user's email or username, before any row is locked (bans order
 * their writes against identity changes here).
 */
export type IdentityLock = (ex: Executor) => Promise<void>;

/** Runs in the transaction that changed a user's email or username, after the write (bans re-judge the user). */
export type IdentityHook = (userId: number, ex: Executor) => Promise<void>;

export interface UpdateOptions {
  /** The `If-Match` header, when the client sent one. */
  ifMatch?: string;
  passwordPolicy?: PasswordPolicy;
  /** When the caller changes their own password, this session survives (the others are revoked). */
  keepSessionId?: string | null;
  /** Run inside this open transaction instead of a new one (the directory syncs tenant roles in the same one). */
  ex?: Executor;
  /**
   * Opens the transaction the update runs in, called once the password (if any) is hashed: a caller adds
   * its own writes to the same transaction (the directory locks the membership and syncs tenant roles
   * there) without holding a transaction open while a hash is computed.
   */
  transaction?: <T>(work: (trx: Executor) => Promise<T>) => Promise<T>;
  /**
   * A session whose opaque token is replaced, in the same transaction, when the email or password
   * changes (the account surface's cookie carries the new identity; the old value stops working).
   */
  rotateSessionId?: string;
  /**
   * Runs in the update's transaction once the target row is locked and the update is known to change it
   * (a patch that changes nothing skips it): the caller's last word on whether this user may be changed,
   * decided on fresh data. It throws to refuse, and then nothing is written.
   */
  authorize?: (trx: Executor, before: User, changed: string[]) => Promise<void>;
  /**
   * A password hash stored as it is, in place of hashing `patch.password` (the import brings hashes from
   * other systems): a change when it differs from the stored one, with a password change's consequences.
   */
  passwordHash?: string;
}

export interface UpdateResult {
  user: User;
  changed: string[];
  sessionsRevoked: number;
  /** The new token of `rotateSessionId`, when it was rotated. */
  rotatedToken?: string;
}

const UNIQUE_FIELD: Record<string, string> = {
  'users.email_key': 'email',
  'users.username_key': 'username',
  'users.username_skeleton': 'username',
};

/** The audit view of a user: public fields only. */
export function auditView(u: User): Record<string, unknown> {
  return {
    id: u.id,
    username: u.username,
    name: u.name,
    email: u.email,
    is_active: u.isActive,
    root_role: ROOT_ROLE_NAMES[u.rootRoleId] ?? u.rootRoleId,
    avatar_url: u.avatarUrl,
    phone: u.phone,
    title: u.title,
    emergency_contact_name: u.emergencyContactName,
    emergency_contact_surname: u.emergencyContactSurname,
    emergency_contact_phone_number: u.emergencyContactPhoneNumber,
    blood_group: u.bloodGroup,
    bio: u.bio,
    languages: u.languages,
    deleted_at: u.deletedAt,
    version: u.version,
  };
}

function mapUnique(err: unknown): never {
  const key = uniqueViolation(err);
  if (key !== undefined) {
    const field = UNIQUE_FIELD[key] ?? 'id';
    // A lookalike (same confusable skeleton, another key) is the same conflict as the same name: the
    // surfaces answer it in their username-taken shape.
    if (key === 'users.username_skeleton') throw conflict(field, 'username_taken', 'A user with this username, or one that looks the same, already exists');
    throw conflict(field, `${field}_taken`, `A user with this ${field} already exists`);
  }
  throw err;
}

/**
 * Columns whose change some rule depends on (bans and uniqueness on identity, the last admin and session
 * revocation on role and activity): an update changing one of them takes the locking path.
 */
const IDENTITY_COLUMNS: ReadonlySet<string> = new Set<string>([
  'email', 'email_key', 'username', 'username_key', 'username_skeleton', 'root_role_id', 'is_active', 'email_verified_at', 'password_hash',
]);

/**
 * The columns of `values` that differ from `row`. A username sent unchanged keeps its stored key and
 * skeleton: a row from before migration 0009 may hold none (a lookalike of an older account), and a PUT of
 * the whole user must not claim one for it (409) when it renames nothing.
 */
function changedColumns(row: UserRow, values: Updateable<UsersTable>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if ((row as Record<string, unknown>)[key] !== value) changes[key] = value;
  }
  if (values.username !== undefined && values.username === row.username) {
    delete changes.username_key;
    delete changes.username_skeleton;
  }
  return changes;
}

/**
 * The answer to a patch with no recognised field, on the surfaces that refuse one (the core itself takes an
 * empty patch as a change of nothing).
 */
export function emptyPatchError(): DomainError {
  return invalid('body', 'empty_patch', 'Nothing to update: send at least one field', {
    hint: 'Send at least one of the documented fields',
  });
}

/** True when the patch sets no field. */
export function isEmptyPatch(patch: UserPatch): boolean {
  return !Object.values(patch).some((v) => v !== undefined);
}

export class UsersService {
  private readonly guards: IdentityGuard[] = [];
  /** Per guard (same index), an optional check of many identities at once: true when the guard refuses none of them. */
  private readonly guardPrechecks: Array<IdentityPrecheck | undefined> = [];
  private readonly identityHooks: IdentityHook[] = [];
  private readonly identityLocks: IdentityLock[] = [];
  /** Runs in the transaction of an email change (the mail notice and verification link: src/core/mail/flows.ts). */
  onEmailChanged: ((trx: Executor, before: User, after: User) => Promise<void>) | undefined;

  private readonly rows: UserStore;

  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    /** Limits guesses of the current password on the self-service password routes. */
    private readonly throttle?: LoginThrottle,
  ) {
    this.rows = createUserStore(store);
  }

  addIdentityGuard(guard: IdentityGuard, precheck?: IdentityPrecheck): void {
    this.guards.push(guard);
    this.guardPrechecks.push(precheck);
  }

  addIdentityLock(lock: IdentityLock): void {
    this.identityLocks.push(lock);
  }

  addIdentityHook(hook: IdentityHook): void {
    this.identityHooks.push(hook);
  }

  private async runGuards(identity: { email?: string; username?: string }, ex: Executor): Promise<void> {
    for (const guard of this.guards) await guard(identity, ex);
  }

  /**
   * What create() does before inserting, for a caller that inserts users itself (import, ./import.ts): the
   * identity locks once per transaction (`lock`), then the guards for each new identity (`guard`).
   */
  readonly newIdentity = {
    lock: async (ex: Executor): Promise<void> => {
      for (const lock of this.identityLocks) await lock(ex);
    },
    guard: (identity: { email?: string; username?: string }, ex: Executor): Promise<void> => this.runGuards(identity, ex),
    /**
     * The guards for many identities: for each, the refusal (a DomainError) or undefined. A guard with a
     * precheck that clears them all (one statement) is not run one identity at a time.
     */
    guardMany: async (identities: Array<{ email?: string; username?: string }>, ex: Executor): Promise<Array<unknown>> => {
      const refusals: unknown[] = identities.map(() => undefined);
      for (let g = 0; g < this.guards.length; g++) {
        const precheck = this.guardPrechecks[g];
        if (precheck && (await precheck(identities, ex))) continue;
        for (let i = 0; i < identities.length; i++) {
          if (refusals[i] !== undefined) continue;
          try {
            await this.guards[g](identities[i], ex);
          } catch (err) {
            refusals[i] = err;
          }
        }
      }
      return refusals;
    },
  };

  /** `ctx`: the request this read serves (a row it read ahead is taken instead of reading again). */
  async findUser(id: number, opts: { includeDeleted?: boolean; ctx?: RequestContext } = {}): Promise<User | undefined> {
    const row = await this.rows.findUser(id, opts.ctx?.reads);
    if (!row || (row.deleted_at !== null && !opts.includeDeleted)) return undefined;
    return toUser(row);
  }

  async getUser(id: number, opts: { includeDeleted?: boolean; ctx?: RequestContext } = {}): Promise<User> {
    const user = await this.findUser(id, opts);
    if (!user) throw notFound('user');
    return user;
  }

  /** For sign-in: the user and their password hash, by email or username (case-insensitive). */
  async findForLogin(identifier: string): Promise<{ user: User; passwordHash: string | null } | undefined> {
    // One key for both columns: an email's key and a username's key are made the same way (core/identity).
    const row = await this.rows.findByLogin(usernameKey(identifier));
    return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
  }

  /** A page of users (see UserListQuery); nextCursor is where the next page starts, null after the last. */
  async list(q: UserListQuery): Promise<{ items: User[]; nextCursor: UserCursor | null }> {
    const { rows, nextCursor } = await this.page(q, 'full');
    return { items: rows.map(toUser), nextCursor };
  }

  /**
   * Every live user in id order, `batchSize` at a time, as the user-admin list shows them: a keyset read
   * (src/store/batches.ts), one statement per batch and no connection held between batches, so however many
   * users there are, a reader holds one batch, and one that stops asking stops the reading.
   */
  listItemBatches(batchSize: number): AsyncGenerator<UserListItem[], void, undefined> {
    return keysetBatches(async (after, limit) => (await this.rows.liveItems(after, limit)).map(toUserListItem), (u) => u.id, batchSize);
  }

  /**
   * The first statement of listSummaries(q), to be read before the handler runs, along with the caller's
   * credentials (the admin list's guard); undefined where there is none to read ahead (firstPageQuery).
   * The rows reach listSummaries in its request context (RequestContext.reads), used only for the very same q.
   */
  summaryPageRead(q: UserListQuery): PageRead | undefined {
    return this.rows.pageRead(this.listQuery(q), 'summary');
  }

  /** list(), reading only what a list shows (UserSummary). `ctx`: the request (a page it read ahead is taken). */
  async listSummaries(q: UserListQuery, ctx?: RequestContext): Promise<{ items: UserSummary[]; nextCursor: UserCursor | null }> {
    const { rows, nextCursor } = await this.page(q, 'summary', ctx);
    return { items: rows.map(toUserSummary), nextCursor };
  }

  /** The store's query for page q: the search prefix folded, one more row than the page (is there a next one?). */
  private listQuery(q: UserListQuery): UserListQuery {
    return { ...q, q: q.q ? foldKey(q.q.trim()) : undefined, limit: q.limit + 1 };
  }

  private async page(q: UserListQuery, shape: ListShape, ctx?: RequestContext): Promise<{ rows: Array<UserRow & { search_key?: string }>; nextCursor: UserCursor | null }> {
    const query = this.listQuery(q);
    const rows = await this.rows.page(query, shape, ctx?.reads);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > q.limit ? (query.q ? { id: last.id, key: last.search_key } : { id: last.id }) : null;
    return { rows: page, nextCursor };
  }

  /** Validates and normalises the writable fields shared by create and update (and import: core/transfer). */
  async normalize(input: UserPatch, policy: PasswordPolicy): Promise<NormalizedUser> {
    return normalizeUserInput(input, policy);
  }

  async create(principal: Principal, ctx: RequestContext, input: NewUser, opts: { passwordPolicy?: PasswordPolicy; ex?: Executor; transaction?: UpdateOptions['transaction'] } = {}): Promise<User> {
    if (!input.email && !input.username) {
      throw invalid('email', 'required', 'An email or a username is required');
    }
    const values = await this.normalize(
      {
        email: input.email ?? undefined,
        username: input.username ?? undefined,
        name: input.name ?? undefined,
        password: input.password ?? undefined,
        isActive: input.isActive,
        rootRoleId: input.rootRoleId,
        avatarUrl: input.avatarUrl, phone: input.phone, title: input.title,
        emergencyContactName: input.emergencyContactName, emergencyContactSurname: input.emergencyContactSurname,
        emergencyContactPhoneNumber: input.emergencyContactPhoneNumber, bloodGroup: input.bloodGroup, bio: input.bio,
        languages: input.languages,
      },
      opts.passwordPolicy ?? BASE_POLICY,
    );
    const passwordHash = values._password !== undefined ? await this.hasher.hash(values._password) : null;
    delete values._password;
    let rootRoleId = input.rootRoleId ?? ROOT_ROLES.Member;
    if (input.isAdmin === true && !isAdminRole(rootRoleId)) rootRoleId = ROOT_ROLES.Admin;
    if (input.isAdmin === false && isAdminRole(rootRoleId)) rootRoleId = ROOT_ROLES.Member;
    if (isAdminRole(rootRoleId) && !isAdminPrincipal(principal)) {
      throw new DomainError('forbidden', 'Only administrators can create administrators', { reason: 'admin_required', permission: 'ADMIN' });
    }
    const now = nowIso();
    const run = async (trx: Executor): Promise<User> => {
      for (const lock of this.identityLocks) await lock(trx);
      await this.runGuards({ email: values.email ?? undefined, username: values.username ?? undefined }, trx);
      const row = await this.rows
        .insert(trx, {
          username: values.username ?? null,
          username_key: values.username_key ?? null,
          username_skeleton: values.username_skeleton ?? null,
          name: values.name ?? null,
          name_key: values.name_key ?? null,
          email: values.email ?? null,
          email_key: values.email_key ?? null,
          email_verified_at: input.emailVerified ? now : null,
          password_hash: passwordHash,
          is_active: values.is_active ?? 1,
          root_role_id: rootRoleId,
          account_type: input.accountType ?? 'User',
          avatar_url: values.avatar_url ?? null,
          phone: values.phone ?? null,
          title: values.title ?? null,
          emergency_contact_name: values.emergency_contact_name ?? null,
          emergency_contact_surname: values.emergency_contact_surname ?? null,
          emergency_contact_phone_number: values.emergency_contact_phone_number ?? null,
          blood_group: values.blood_group ?? null,
          bio: values.bio ?? null,
          languages: values.languages ?? null,
          login_attempts: 0,
          created_at: now,
          updated_at: now,
          version: 1,
        })
        .catch(mapUnique);
      const user = toUser(row);
      await recordAudit(trx, principal, ctx, { action: 'user.created', targetType: 'user', targetId: user.id, after: auditView(user) });
      return user;
    };
    if (opts.ex) return run(opts.ex);
    return opts.transaction ? opts.transaction(run) : this.rows.transaction(run);
  }

  /**
   * Applies a partial update in one transaction: all of it lands, with its audit event and session
   * revocations, or none of it does.
   */
  async update(principal: Principal, ctx: RequestContext, id: number, patch: UserPatch, opts: UpdateOptions): Promise<UpdateResult> {
    const selfId = principal.kind === 'user' ? principal.userId : principal.kind === 'api_token' ? principal.userId : null;
    const values = await this.normalize(patch, opts.passwordPolicy ?? BASE_POLICY);
    const password = values._password;
    delete values._password;
    const hashed = password !== undefined ? await this.hasher.hash(password) : undefined;

    if (this.rows.writesWithAuditInOneStatement && !opts.ex && !opts.transaction && !opts.authorize && hashed === undefined && opts.passwordHash === undefined && patch.isAdmin === undefined) {
      const done = await this.updateProfileOptimistic(principal, ctx, id, values, opts);
      // undefined: a concurrent write won the race; the locking path below serialises with it.
      if (done) return done;
    }
    const run = async (trx: Executor): Promise<UpdateResult> => {
      // Lock order: the bans state (when the email or username may change), the admin set (when admin-ness
      // can change), then the target row.
      if (values.email !== undefined || values.username !== undefined) {
        for (const lock of this.identityLocks) await lock(trx);
      }
      const mayDropAdmin = patch.isActive === false || patch.isAdmin === false || patch.rootRoleId !== undefined;
      const adminIds = mayDropAdmin ? await this.rows.lockActiveAdminIds(trx) : [];
      const row = await this.rows.lockUser(trx, id);
      if (!row || row.deleted_at !== null) throw notFound('user');
      const passwordHash = hashed ?? (opts.passwordHash !== undefined && opts.passwordHash !== row.password_hash ? opts.passwordHash : undefined);
      const before = toUser(row);
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, before)) throw preconditionFailed();

      if (patch.isAdmin !== undefined) {
        if (patch.isAdmin && !isAdminRole(before.rootRoleId)) values.root_role_id = ROOT_ROLES.Admin;
        if (!patch.isAdmin && isAdminRole(before.rootRoleId)) values.root_role_id = ROOT_ROLES.Member;
      }
      if (values.root_role_id !== undefined && isAdminRole(values.root_role_id) && !isAdminPrincipal(principal)) {
        throw new DomainError('forbidden', 'Only administrators can grant administrator rights', { reason: 'admin_required', permission: 'ADMIN' });
      }

      // Only what actually differs is a change.
      const changes = changedColumns(row, values);
      if (passwordHash !== undefined) changes.password_hash = passwordHash;
      const changedKeys = Object.keys(changes).filter((k) => !k.endsWith('_key') && !k.endsWith('_skeleton'));
      if (changedKeys.length > 0 && opts.authorize) await opts.authorize(trx, before, changedKeys);

      const losesAdmin =
        isAdminRole(before.rootRoleId) && before.isActive &&
        ((changes.root_role_id !== undefined && !isAdminRole(changes.root_role_id as number)) || changes.is_active === 0);
      if (losesAdmin && adminIds.length <= 1 && adminIds.includes(id)) {
        throw new DomainError('conflict', 'Cannot deactivate or demote the last active administrator', {
          field: changes.is_active === 0 ? 'is_active' : 'is_admin',
          reason: 'last_admin',
        });
      }

      if (changedKeys.length === 0) return { user: before, changed: [], sessionsRevoked: 0 };

      if (changes.email !== undefined || changes.username !== undefined) {
        await this.runGuards({
          email: changes.email as string | undefined,
          username: (changes.username as string | null | undefined) ?? undefined,
        }, trx);
      }
      if (changes.email !== undefined) changes.email_verified_at = principal.kind === 'user' && principal.userId === id ? null : before.emailVerifiedAt;

      const updated = await this.rows
        .updateVersioned(trx, id, before.version, { ...changes, updated_at: nowIso(), version: before.version + 1 })
        .catch(mapUnique);
      // SQLite serialises writers and PostgreSQL holds the row lock, so a lost race here is a stale read.
      if (!updated) throw preconditionFailed('The user changed while this update ran; retry');
      const after = toUser(updated as UserRow);

      // The credential policy (docs/credentials.md): deactivation ends every credential of the user; a
      // password change or reset ends the sessions (all but the caller's own when they changed their own
      // password) and every pending invite link; a root-role change ends the sessions (tokens act with the
      // new role from the next request on).
      const rootRoleChanged = changes.root_role_id !== undefined;
      const deactivated = changes.is_active === 0;
      const revokeAll = deactivated || rootRoleChanged || (passwordHash !== undefined && selfId !== id);
      const reason = passwordHash !== undefined ? 'password_changed' : deactivated ? 'deactivated' : 'role_changed';
      const ended = await endUserCredentials(trx, id, reason, {
        sessions: revokeAll ? true : passwordHash !== undefined ? { except: opts.keepSessionId ?? null } : false,
        tokens: deactivated,
        invites: deactivated || passwordHash !== undefined,
      });
      const sessionsRevoked = ended.sessions;
      if (changes.email !== undefined || changes.username !== undefined) {
        for (const hook of this.identityHooks) await hook(id, trx);
      }
      await recordAudit(trx, principal, ctx, {
        action: 'user.updated',
        targetType: 'user',
        targetId: id,
        before: auditView(before),
        after: {
          ...auditView(after), changed: changedKeys.map((k) => (k === 'password_hash' ? 'password' : k)), sessions_revoked: sessionsRevoked,
          ...(ended.tokens ? { api_tokens_deleted: ended.tokens } : {}), ...(ended.invites ? { invites_ended: ended.invites } : {}),
        },
      });
      if (changes.email !== undefined && this.onEmailChanged) await this.onEmailChanged(trx, before, after);
      let rotatedToken: string | undefined;
      if (opts.rotateSessionId && (changes.email !== undefined || passwordHash !== undefined)) {
        rotatedToken = await rotateSessionToken(trx, opts.rotateSessionId);
      }
      return { user: after, changed: changedKeys, sessionsRevoked, rotatedToken };
    };
    if (opts.ex) return run(opts.ex);
    return opts.transaction ? opts.transaction(run) : this.rows.transaction(run);
  }

  /** Changes the caller's own password after checking the current one; other sessions are revoked. */
  async changeOwnPassword(
    principal: Principal & { kind: 'user' },
    ctx: RequestContext,
    currentPassword: string,
    newPassword: string,
    policy: PasswordPolicy = BASE_POLICY,
    opts: { ifMatch?: string } = {},
  ): Promise<UpdateResult> {
    const row = await this.rows.findUser(principal.userId);
    if (!row || row.deleted_at !== null) throw notFound('user');
    // Checked first (no hash spent on a stale edit) and again, under the row lock, by update().
    if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, toUser(row))) throw preconditionFailed();
    // A stolen session must not become an unlimited oracle for the current password.
    const throttleKey = `self-password:${principal.userId}`;
    await this.throttle?.attempt(throttleKey, ctx.ip);
    const verdict = await this.hasher.verify(row.password_hash, currentPassword);
    if (!verdict.ok) {
      throw invalid('current_password', 'invalid_current_password', 'The current password is not correct');
    }
    await this.throttle?.succeeded(throttleKey, ctx.ip);
    if (currentPassword === newPassword) {
      throw invalid('new_password', 'same_as_current', 'The new password must differ from the current one');
    }
    checkPassword('new_password', newPassword, policy);
    return this.update(principal, ctx, principal.userId, { password: newPassword }, {
      passwordPolicy: policy,
      keepSessionId: principal.sessionId,
      ifMatch: opts.ifMatch,
    });
  }

  /**
   * Deletes a user (hard delete: sessions and tokens go with it). The last active admin cannot be deleted.
   * Returns the user as it was and how many live sessions the deletion ended (revoked first, so the count is
   * the same on PostgreSQL and SQLite whatever the foreign keys then do to the rows).
   */
  async delete(principal: Principal, ctx: RequestContext, id: number, opts: { ifMatch?: string } = {}): Promise<User & { sessionsRevoked: number }> {
    return this.rows.transaction(async (trx) => {
      const adminIds = await this.rows.lockActiveAdminIds(trx);
      const row = await this.rows.lockUser(trx, id);
      if (!row) throw notFound('user');
      const user = toUser(row);
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, user)) throw preconditionFailed();
      if (adminIds.includes(id) && adminIds.length <= 1) {
        throw new DomainError('conflict', 'Cannot delete the last active administrator', { field: 'id', reason: 'last_admin' });
      }
      const sessionsRevoked = (await endUserCredentials(trx, id, 'user_deleted', { sessions: true, tokens: true, invites: true })).sessions;
      await this.rows.delete(trx, id);
      await recordAudit(trx, principal, ctx, { action: 'user.deleted', targetType: 'user', targetId: id, before: auditView(user) });
      return { ...user, sessionsRevoked };
    });
  }

  /** Records a successful sign-in (and upgrades the password hash when asked). */
  async recordLogin(userId: number, ip: string, rehash?: string): Promise<void> {
    await this.rows.recordLogin(userId, ip, rehash);
  }

  async recordFailedLogin(userId: number): Promise<void> {
    await this.rows.countFailedLogin(userId);
  }

  async countActiveAdmins(): Promise<number> {
    return this.rows.anyActiveAdmin();
  }

  /**
   * An administrator sets another user's (or their own) password: strength rules, one transaction with its
   * audit event (user.updated, changed: ["password"]), and every session of the user revoked on every surface.
   */
  async setPasswordAsAdmin(principal: Principal, ctx: RequestContext, id: number, password: string, opts: { ifMatch?: string } = {}): Promise<UpdateResult> {
    checkStrongPassword(password);
    return this.update(principal, ctx, id, { password }, { passwordPolicy: STRONG_PASSWORD_POLICY, keepSessionId: null, ifMatch: opts.ifMatch });
  }

  /**
   * Profile edits on PostgreSQL (name, profile fields, languages; no password, identity, role or activity
   * change, though such fields may be sent unchanged, as a PUT of the whole user sends them): the row is read
   * without a lock (or taken as the request already read it) and written together with its audit event in ONE
   * statement that only applies if the version read is still current (optimistic concurrency). Every rule of
   * update() that can apply to these fields is checked against that read; a lost race re-reads and decides
   * again. Two or three round trips per request (auth with the read, or auth and read; then the write)
   * instead of six (auth, BEGIN, SELECT … FOR UPDATE, UPDATE, INSERT, COMMIT): the profile showed the
   * server's time going to those round trips. It returns undefined, and update() takes its locking path,
   * when the edit changes an identity, role or activity column or a concurrent write moved the version on.
   */
  private async updateProfileOptimistic(
    principal: Principal, ctx: RequestContext, id: number, values: Updateable<UsersTable>, opts: UpdateOptions,
  ): Promise<UpdateResult | undefined> {
    const row = await this.rows.findUser(id, ctx.reads);
    if (!row || row.deleted_at !== null) throw notFound('user');
    const before = toUser(row);
    if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, before)) throw preconditionFailed();
    const changes = changedColumns(row, values);
    // Identity, role and activity changes have rules of their own (ban and uniqueness checks, the last
    // admin, session revocation, the verified flag): the locking path takes them. Sent but unchanged (a
    // PUT of the whole user, as user-admin clients send it) they change nothing, and the edit stays here.
    if (Object.keys(changes).some((k) => IDENTITY_COLUMNS.has(k))) return undefined;
    if (values.root_role_id !== undefined && isAdminRole(values.root_role_id) && !isAdminPrincipal(principal)) return undefined;
    const changedKeys = Object.keys(changes).filter((k) => !k.endsWith('_key') && !k.endsWith('_skeleton'));
    if (changedKeys.length === 0) return { user: before, changed: [], sessionsRevoked: 0 };
    const set = { ...changes, updated_at: nowIso(), version: before.version + 1 } as Updateable<UsersTable>;
    // The row the write will produce (the version guard means nothing else changed it in between).
    const after = toUser({ ...row, ...set } as UserRow);
    const audit = auditRow(principal, ctx, {
      action: 'user.updated',
      targetType: 'user',
      targetId: id,
      before: auditView(before),
      after: { ...auditView(after), changed: changedKeys, sessions_revoked: 0 },
    });
    // Webhook deliveries of the event go in the same statement (none, and no cost, without subscriptions).
    const listener = auditListenerOf(this.store.db);
    const outbox = listener ? await listener.rowsFor(this.store.db, audit) : [];
    const updated = await this.rows.updateWithAudit(id, before.version, set, audit, outbox).catch(mapUnique);
    if (updated && outbox.length > 0) listener!.written();
    if (updated) return { user: after, changed: changedKeys, sessionsRevoked: 0 };
    // A concurrent write moved the version on: the locking path re-reads and decides again.
    return undefined;
  }
}
