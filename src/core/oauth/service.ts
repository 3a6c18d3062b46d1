// OAuth2 for the directory surface: clients (id + hashed secret, managed by admins), the token endpoint's
// grants (password, refresh_token with rotation and reuse detection, client_credentials for a service
// account), short-lived EdDSA access tokens and the JWKS that verifies them.
//
// Sessions: every grant opens a session of kind 'oauth' in the one session store (refresh tokens in
// refresh_tokens, rotated by SessionService.rotateRefresh). An access token names its session (`sid`), and
// every request re-checks that session with one indexed query, so revoking a user's sessions (password
// change, deactivation, ban, sign-out everywhere) or deleting the client shuts its access tokens out at
// once, not when they expire.
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import type { CoreDeps } from '../deps.js';
import { recordAudit } from '../audit/index.js';
import { type Principal, type RequestContext } from '../context.js';
import { isDomainError, invalid, notFound } from '../errors.js';
import { rootRolePermissions, ROOT_ROLES } from '../roles/index.js';
import { createSession, issueRefreshToken } from '../sessions/index.js';
import { auditView } from '../users/service.js';
import { normalizeText } from '../users/validation.js';
import { randomId, randomToken, safeEqual, sha256Hex, uuid } from '../../platform/crypto.js';
import { SigningKeys, SIGNING_ALG } from './keys.js';
import { mayAct } from '../auth/credentials.js';
import { keysetBatches } from '../../store/batches.js';
import { createOAuthStore, type GrantType, type OAuthClient, type OAuthStore } from './store.js';

export const GRANT_TYPES: readonly GrantType[] = ['password', 'refresh_token', 'client_credentials'];
/** Access tokens live at most this long (GATEHOUSE_ACCESS_TTL lowers it). */
export const MAX_ACCESS_TTL_SECONDS = 300;
export const ISSUER = 'gatehouse';
export const AUDIENCE = 'gatehouse-directory';

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'temporarily_unavailable';

/** An RFC 6749 §5.2 error from the token endpoint. */
export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    message: string,
    readonly status = code === 'invalid_client' ? 401 : 400,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'OAuthError';
  }
}

export interface TokenRequest {
  grantType: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  username?: string;
  password?: string;
  refreshToken?: string;
  scope?: string;
}

export interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  access_token: string;
  refresh_token?: string;
  scope?: string;
}

export interface AccessClaims {
  userId: number;
  sessionId: string;
  clientId: string;
  tenants: number[];
}

const DUMMY_HASH = sha256Hex('gatehouse-dummy-client-secret');

export class OAuthService {
  readonly keys: SigningKeys;
  readonly accessTtlSeconds: number;
  private readonly oauth: OAuthStore;

  constructor(private readonly deps: CoreDeps) {
    this.oauth = createOAuthStore(deps.store);
    this.accessTtlSeconds = Math.min(deps.config.accessTtlSeconds, MAX_ACCESS_TTL_SECONDS);
    this.keys = new SigningKeys(deps.store, deps.secret, (this.accessTtlSeconds + 180) * 1000);
  }

  // ------------------------------------------------------------------ clients (admin)

  async listClients(): Promise<OAuthClient[]> {
    return this.oauth.listClients();
  }

  /** listClients, `batchSize` at a time (a keyset read: src/store/batches.ts), for a streamed list. */
  clientBatches(batchSize: number): AsyncGenerator<OAuthClient[], void, undefined> {
    return keysetBatches((after, limit) => this.oauth.listClients({ after, limit }), (c) => c.id, batchSize);
  }

  /** Creates a client; the secret is returned here once and only its SHA-256 is kept (it is 256 random bits). */
  async createClient(principal: Principal, ctx: RequestContext, input: { name: string; grantTypes?: string[] }): Promise<{ client: OAuthClient; secret: string }> {
    const name = normalizeText(input.name, 'name', 255);
    if (!name) throw invalid('name', 'required', 'A client name is required', { constraints: { minLength: 1, maxLength: 255 } });
    const grants = [...new Set(input.grantTypes ?? ['password', 'refresh_token'])];
    for (const g of grants) {
      if (!(GRANT_TYPES as readonly string[]).includes(g)) {
        throw invalid('grant_types', 'unknown_grant_type', `Unknown grant type ${JSON.stringify(g)}: use ${GRANT_TYPES.join(', ')}`, { constraints: { items: { enum: [...GRANT_TYPES] } } });
      }
    }
    if (grants.length === 0) throw invalid('grant_types', 'too_few', 'A client needs at least one grant type', { constraints: { minItems: 1 } });
    const clientId = uuid();
    const secret = randomToken('gcs_');
    return this.oauth.transaction(async (trx) => {
      let serviceUserId: number | null = null;
      if (grants.includes('client_credentials')) {
        // The service account a client_credentials token acts as; admins add it to tenants like any user.
        const svc = await this.deps.users.create(principal, ctx, {
          username: `oauth-client-${clientId}`, name, accountType: 'Service', rootRoleId: ROOT_ROLES.Member, emailVerified: false,
        }, { ex: trx });
        serviceUserId = svc.id;
      }
      const client = await this.oauth.insertClient(trx, {
        clientId, name, secretHash: sha256Hex(secret), grantTypes: grants as GrantType[], serviceUserId,
        createdBy: principal.kind === 'system' ? 'system' : `${principal.kind}:${principal.kind === 'user' ? principal.userId : principal.tokenId}`,
      });
      await recordAudit(trx, principal, ctx, {
        action: 'oauth_client.created', targetType: 'oauth_client', targetId: client.id,
        after: { id: client.id, client_id: client.clientId, name: client.name, grant_types: client.grantTypes, service_user_id: serviceUserId },
      });
      return { client, secret };
    });
  }

  /**
   * Gives a client a new secret, returned here once (only its SHA-256 is kept); the old one stops working at
   * the token endpoint at once. Sessions already granted to the client are left alone.
   */
  async rotateClientSecret(principal: Principal, ctx: RequestContext, id: number): Promise<{ client: OAuthClient; secret: string }> {
    const secret = randomToken('gcs_');
    return this.oauth.transaction(async (trx) => {
      const client = await this.oauth.findClient({ id }, trx);
      if (!client) throw notFound('oauth_client');
      await this.oauth.updateClientSecret(trx, id, sha256Hex(secret));
      await recordAudit(trx, principal, ctx, {
        action: 'oauth_client.secret_rotated', targetType: 'oauth_client', targetId: id,
        after: { id, client_id: client.clientId, name: client.name },
      });
      const { secretHash: _drop, ...rest } = client;
      return { client: rest, secret };
    });
  }

  /** Deletes a client: every session granted to it is revoked and its service account deleted, at once. */
  async deleteClient(principal: Principal, ctx: RequestContext, id: number): Promise<OAuthClient> {
    return this.oauth.transaction(async (trx) => {
      const client = await this.oauth.findClient({ id }, trx);
      if (!client) throw notFound('oauth_client');
      const revoked = await this.oauth.deleteClient(trx, id, 'oauth_client_deleted');
      if (client.serviceUserId !== null) {
        const user = await this.oauth.deleteServiceUser(trx, client.serviceUserId);
        if (user) {
          await recordAudit(trx, principal, ctx, { action: 'user.deleted', targetType: 'user', targetId: user.id, before: auditView(user) });
        }
      }
      await recordAudit(trx, principal, ctx, {
        action: 'oauth_client.deleted', targetType: 'oauth_client', targetId: id,
        before: { id, client_id: client.clientId, name: client.name, grant_types: client.grantTypes }, after: { sessions_revoked: revoked },
      });
      const { secretHash: _drop, ...rest } = client;
      return rest;
    });
  }

  // ------------------------------------------------------------------ signing keys (admin)

  async rotateKeys(principal: Principal, ctx: RequestContext): Promise<{ kid: string; retired: string[] }> {
    const result = await this.oauth.transaction(async (trx) => {
      const r = await this.keys.rotate(trx);
      await recordAudit(trx, principal, ctx, { action: 'oauth.signing_key_rotated', targetType: 'signing_key', targetId: r.kid, after: { kid: r.kid, retired: r.retired } });
      return r;
    });
    this.keys.invalidate();
    await this.keys.reload();
    return result;
  }

  async describeKeys() {
    await this.keys.reload();
    return this.keys.describe();
  }

  async jwks() {
    return this.keys.jwks();
  }

  // ------------------------------------------------------------------ the token endpoint

  private async authenticateClient(clientId: string | undefined, secret: string | undefined): Promise<OAuthClient> {
    if (!clientId || !secret) throw new OAuthError('invalid_client', 'Client authentication failed.');
    const client = clientId.length <= 200 ? await this.oauth.findClient({ clientId }) : undefined;
    const ok = safeEqual(sha256Hex(secret), client?.secretHash ?? DUMMY_HASH);
    if (!client || !ok) throw new OAuthError('invalid_client', 'Client authentication failed.');
    const { secretHash: _drop, ...rest } = client;
    return rest;
  }

  async token(req: TokenRequest, ctx: RequestContext): Promise<TokenResponse> {
    const grant = req.grantType;
    if (!grant) throw new OAuthError('invalid_request', 'The request is missing a required parameter: grant_type.');
    if (!(GRANT_TYPES as readonly string[]).includes(grant)) {
      throw new OAuthError('unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
    }
    // Missing grant parameters are reported before client authentication, as RFC 6749 lists them first.
    if (grant === 'password' && (!req.username || !req.password)) {
      throw new OAuthError('invalid_request', `The request is missing a required parameter: ${req.username ? 'password' : 'username'}.`);
    }
    if (grant === 'refresh_token' && !req.refreshToken) {
      throw new OAuthError('invalid_request', 'The request is missing a required parameter: refresh_token.');
    }
    const client = await this.authenticateClient(req.clientId, req.clientSecret);
    if (!client.grantTypes.includes(grant as GrantType)) {
      throw new OAuthError('unauthorized_client', 'The client is not authorized to use this grant type.');
    }
    await this.oauth.touchClient(client.id);
    if (grant === 'password') return this.passwordGrant(client, req.username!, req.password!, ctx);
    if (grant === 'refresh_token') return this.refreshGrant(client, req.refreshToken!);
    return this.clientCredentialsGrant(client, ctx);
  }

  private async passwordGrant(client: OAuthClient, username: string, password: string, ctx: RequestContext): Promise<TokenResponse> {
    let user;
    try {
      user = await this.deps.auth.verifyCredentials(username, password, ctx);
    } catch (err) {
      if (isDomainError(err)) {
        if (err.kind === 'too_many_requests') throw new OAuthError('invalid_grant', err.message, 429, err.retryAfterSeconds);
        if (err.kind === 'banned') throw new OAuthError('invalid_grant', 'The user is banned.');
        throw new OAuthError('invalid_grant', 'The user credentials were incorrect.');
      }
      throw err;
    }
    const { session, refreshToken } = await this.openSession(client, user.id, ctx, { refresh: client.grantTypes.includes('refresh_token'), ttlSeconds: this.deps.config.refreshTtlSeconds });
    return this.respond(client, user.id, session.id, refreshToken);
  }

  private async refreshGrant(client: OAuthClient, token: string): Promise<TokenResponse> {
    if (token.length > 512) throw new OAuthError('invalid_grant', 'The refresh token is invalid.');
    // A live token of another kind of session or of another client is refused without being spent.
    const live = await this.deps.sessions.findByRefreshToken(token);
    if (live) {
      const owner = live.kind === 'oauth' ? await this.oauth.sessionClientId(live.id) : undefined;
      if (owner !== client.id) throw new OAuthError('invalid_grant', 'The refresh token is invalid.');
    }
    const outcome = await this.deps.sessions.rotateRefresh(token, 'oauth_refresh_token_reuse');
    if (outcome.kind === 'reused') throw new OAuthError('invalid_grant', 'The refresh token has already been used; its session is revoked.');
    if (outcome.kind === 'invalid') throw new OAuthError('invalid_grant', 'The refresh token is invalid.');
    return this.respond(client, outcome.session.userId, outcome.session.id, outcome.refreshToken);
  }

  private async clientCredentialsGrant(client: OAuthClient, ctx: RequestContext): Promise<TokenResponse> {
    const svc = client.serviceUserId !== null
      ? await this.oauth.serviceUserStanding(client.serviceUserId)
      : undefined;
    // The service account's standing, as for any user (a name ban on it refuses the grant).
    if (!svc || !mayAct(svc)) throw new OAuthError('unauthorized_client', 'The client has no active service account.');
    const { session } = await this.openSession(client, svc.id, ctx, { refresh: false, ttlSeconds: this.accessTtlSeconds });
    return this.respond(client, svc.id, session.id, null);
  }

  private async openSession(client: OAuthClient, userId: number, ctx: RequestContext, opts: { refresh: boolean; ttlSeconds: number }) {
    return this.oauth.transaction(async (trx) => {
      const { session } = await createSession(trx, {
        userId, kind: 'oauth', ttlSeconds: opts.ttlSeconds, ip: ctx.ip, userAgent: ctx.userAgent, data: { client_id: client.clientId },
      });
      await this.oauth.linkSession(trx, session.id, client.id);
      const refreshToken = opts.refresh ? await issueRefreshToken(trx, session.id, session.expiresAt) : null;
      const principal: Principal = { kind: 'user', userId, sessionId: session.id, rootRoleId: 0, permissions: new Set(), label: `user:${userId}` };
      await recordAudit(trx, principal, ctx, {
        action: 'session.created', targetType: 'user', targetId: userId,
        after: { session_id: session.id, kind: 'oauth', client_id: client.clientId, expires_at: session.expiresAt },
      });
      return { session, refreshToken };
    });
  }

  private async respond(client: OAuthClient, userId: number, sessionId: string, refreshToken: string | null): Promise<TokenResponse> {
    const tenants = await this.oauth.tenantsOf(userId);
    const access = await this.signAccessToken({ userId, sessionId, clientId: client.clientId, tenants });
    return {
      token_type: 'Bearer',
      expires_in: this.accessTtlSeconds,
      access_token: access,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
  }

  async signAccessToken(c: AccessClaims): Promise<string> {
    const { kid, privateKey } = await this.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: c.sessionId, client_id: c.clientId, tenants: c.tenants })
      .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(String(c.userId))
      .setIssuedAt(now)
      .setExpirationTime(now + this.accessTtlSeconds)
      .setJti(randomId(12))
      .sign(privateKey);
  }

  /**
   * The principal of an access token: signature (EdDSA, a published kid), issuer, audience and expiry,
   * then its session re-checked in the store. Undefined when any of it fails.
   */
  async authenticate(token: string): Promise<(Principal & { kind: 'user' }) | undefined> {
    if (token.length > 4096) return undefined;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, async (header) => {
        const key = typeof header.kid === 'string' ? await this.keys.publicKey(header.kid) : undefined;
        if (!key) throw new joseErrors.JWKSNoMatchingKey();
        return key;
      }, { algorithms: [SIGNING_ALG], issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' }));
    } catch {
      return undefined;
    }
    if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string') return undefined;
    const live = await this.oauth.findLiveSession(payload.sid);
    if (!live || String(live.userId) !== payload.sub) return undefined;
    return {
      kind: 'user',
      userId: live.userId,
      sessionId: live.sessionId,
      rootRoleId: live.rootRoleId,
      permissions: rootRolePermissions(live.rootRoleId),
      label: live.label,
    };
  }
}
