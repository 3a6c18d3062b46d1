// The core's one way in: builds the service graph over a store. Surfaces receive a Core.
import type { Config } from '../platform/config.js';
import { pingStore, type Store } from '../store/db.js';
import { AuthService } from './auth/index.js';
import { SYSTEM_CONTEXT, SYSTEM_PRINCIPAL } from './context.js';
import { PasswordHasher } from './passwords/index.js';
import { ROOT_ROLES, RolesService } from './roles/index.js';
import { SessionService } from './sessions/index.js';
import { resolveServerSecret } from './settings/index.js';
import { LoginThrottle, SignUpGate } from './throttle/index.js';
import { TokensService } from './tokens/index.js';
import { UsersService } from './users/index.js';
import { InvitesService } from './invites/index.js';
import type { CoreDeps } from './deps.js';
import { BansService } from './bans/index.js';
import { AliasesService } from './aliases/index.js';
import { TenantsService } from './tenants/index.js';
import { OAuthService } from './oauth/index.js';
import { Outbox } from './outbox/index.js';
import { WebhooksService } from './webhooks/index.js';
import { AccountMail, MailService } from './mail/index.js';
import { AuditService } from './audit/index.js';
import { UserAccessService } from './user-access/index.js';

export interface Core extends CoreDeps {
  /** Readiness: whether the store answers now, and which engine it is (never throws). */
  ping(): Promise<{ ok: boolean; store: Store['engine'] }>;
  /** Reads of the audit log. */
  audit: AuditService;
  /** Reads of the role table. */
  roles: RolesService;
  bans: BansService;
  aliases: AliasesService;
  tenants: TenantsService;
  oauth: OAuthService;
  /** User-admin invite links (set your first password). */
  invites: InvitesService;
  /** Self-service sign-up: open or closed, and a per-address limit. */
  signup: SignUpGate;
  /** Mail and webhook messages; its dispatcher runs only once started (serve, or a test that asks). */
  outbox: Outbox;
  webhooks: WebhooksService;
  mail: MailService;
  /** Invite and password-reset mail (flows over `mail`). */
  accountMail: AccountMail;
  /** An admin's view of one user's sessions, tokens, memberships and invites; users list totals (issue 20). */
  userAccess: UserAccessService;
}

export async function createCore(config: Config, store: Store): Promise<Core> {
  const hasher = new PasswordHasher(config.argon2, config.hashConcurrency);
  const throttle = new LoginThrottle(store, config.login);
  const users = new UsersService(store, hasher, throttle);
  const deps: CoreDeps = {
    config,
    store,
    secret: await resolveServerSecret(store, config.secret),
    hasher,
    users,
    auth: new AuthService(users, hasher, throttle),
    sessions: new SessionService(store),
    tokens: new TokensService(store),
    throttle,
  };
  const outbox = new Outbox(store, config.delivery);
  const mail = new MailService(deps, outbox);
  const audit = new AuditService(store);
  const accountMail = new AccountMail(deps, mail);
  const core: Core = {
    ping: async () => ({ ok: await pingStore(store), store: store.engine }),
    audit,
    roles: new RolesService(store),
    ...deps,
    outbox,
    webhooks: new WebhooksService(deps, outbox),
    mail,
    accountMail,
    userAccess: new UserAccessService(deps, accountMail),
    bans: new BansService(deps, audit),
    aliases: new AliasesService(deps),
    tenants: new TenantsService(deps),
    oauth: new OAuthService(deps),
    invites: new InvitesService(store, users),
    signup: new SignUpGate(store, config),
  };
  core.bans.install();
  // Bans and aliases meet here, so neither imports the other: an alias that will be active passes the ban
  // check, and a ban write that asks for it deactivates the aliases it matches.
  core.aliases.addGuard((ex, target, fields) => core.bans.assertNotBanned(ex, target, fields));
  core.bans.setAliasDisabler((trx, principal, ctx, ban) => core.aliases.disableMatching(trx, principal, ctx, ban));
  core.webhooks.install();
  core.mail.install();
  users.onEmailChanged = (trx, before, after) => core.accountMail.emailChanged(trx, before, after);
  return core;
}

/** First admin and init API token from the configuration; safe to run on every start and on every node. */
export async function bootstrap(core: Core): Promise<{ adminCreated: boolean }> {
  let adminCreated = false;
  const admin = core.config.admin;
  if (admin && (await core.users.countActiveAdmins()) === 0) {
    const existing = await core.users.findForLogin(admin.email);
    if (!existing) {
      try {
        await core.users.create(SYSTEM_PRINCIPAL, SYSTEM_CONTEXT, {
          email: admin.email,
          username: admin.username ?? 'admin',
          password: admin.password,
          rootRoleId: ROOT_ROLES.Owner,
          emailVerified: true,
        });
        adminCreated = true;
      } catch (err) {
        // Another node created it first.
        if ((err as { kind?: string }).kind !== 'conflict') throw err;
      }
    }
  }
  if (core.config.initApiToken) {
    await core.tokens.ensureInitToken(SYSTEM_PRINCIPAL, SYSTEM_CONTEXT, core.config.initApiToken);
  }
  return { adminCreated };
}

export { DomainError, domainErrorOf, isDomainError, unavailable } from './errors.js';
export { REASONS, type Reason, type Resource } from './reasons.js';
export type { Principal, ReadCache, RequestContext } from './context.js';
export { checkUsername, emailKey, identityKey, identitySkeleton, usernameKey } from './identity/index.js';

// What the surfaces use, and the only way they reach the core.
export { foldKey, isValidEmail, normalizeEmail } from './users/validation.js';
export { ADMIN_PERMISSION, hasPermission } from './context.js';
export { forbidden, invalid, notFound, unauthenticated } from './errors.js';
export type { ActiveSession } from './sessions/index.js';
export { etagOf } from './etag.js';
export type { ProfileValues, User, UserCursor, UserListItem, UserListQuery, UserPatch, UserSummary } from './users/types.js';
export { MAX_ID, toIso } from './ids.js';
export { type Alias, aliasEtag } from './aliases/index.js';
export { BAN_TYPES, type Ban, type BanPatch, type BanWriteResult, banEtag, isBanActive } from './bans/index.js';
export { ROOT_ROLE_NAMES, type RoleView, isAdminRole, resolveRootRole, rootRoleName } from './roles/index.js';
export type { ApiToken } from './tokens/index.js';
export { GRANT_TYPES, type OAuthClient, OAuthError } from './oauth/index.js';
export { type DirectoryUser, SORT_COLUMNS, TENANT_PERMISSIONS, type Tenant, type TenantAccess, type TenantRole } from './tenants/index.js';
export { mailSummary } from './mail/index.js';
export type { OutboxRow } from './outbox/index.js';
export type { Webhook } from './webhooks/index.js';
export { LANGUAGES, emptyPatchError, isEmptyPatch } from './users/index.js';
export { checkStrongPassword } from './passwords/strength.js';
export type { ReadAheadRequest } from './auth/read-ahead.js';
export type { AuditEvent } from './audit/index.js';
export type { UserMembershipView, UserSessionView, UserTokenView } from './user-access/index.js';
