// The core's one way in: builds the service graph over a store. Surfaces receive a Core.
import type { Config } from '../platform/config.js';
import type { Store } from '../store/db.js';
import { AuthService } from './auth/index.js';
import { SYSTEM_CONTEXT, SYSTEM_PRINCIPAL } from './context.js';
import { PasswordHasher } from './passwords/index.js';
import { ROOT_ROLES } from './roles/index.js';
import { SessionService } from './sessions/index.js';
import { resolveServerSecret } from './settings/index.js';
import { LoginThrottle } from './throttle/index.js';
import { SignUpGate } from './throttle/signup.js';
import { TokensService } from './tokens/index.js';
import { UsersService } from './users/service.js';
import type { CoreDeps } from './deps.js';
import { BansService } from './bans/index.js';
import { AliasesService } from './aliases/index.js';
import { TenantsService } from './tenants/index.js';
import { OAuthService } from './oauth/index.js';
import { Outbox } from './outbox/index.js';
import { WebhooksService } from './webhooks/index.js';
import { MailService } from './mail/index.js';
import { AccountMail } from './mail/flows.js';
import { UserAccessService } from './user-access/index.js';

export interface Core extends CoreDeps {
  bans: BansService;
  aliases: AliasesService;
  tenants: TenantsService;
  oauth: OAuthService;
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
  const accountMail = new AccountMail(deps, mail);
  const core: Core = {
    ...deps,
    outbox,
    webhooks: new WebhooksService(deps, outbox),
    mail,
    accountMail,
    userAccess: new UserAccessService(deps, accountMail),
    bans: new BansService(deps),
    aliases: new AliasesService(deps),
    tenants: new TenantsService(deps),
    oauth: new OAuthService(deps),
    signup: new SignUpGate(store, config),
  };
  core.bans.install();
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

export { DomainError, isDomainError } from './errors.js';
export type { Principal, RequestContext } from './context.js';
export { checkUsername, emailKey, identityKey, identitySkeleton, usernameKey } from './identity/index.js';
