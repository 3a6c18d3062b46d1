// POST /oauth/token (RFC 6749: password, refresh_token, client_credentials; form or JSON bodies) and
// GET /.well-known/jwks.json (the public keys that verify access tokens). Errors as RFC 6749 §5.2.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { type Core, OAuthError } from '../../core/index.js';
import { requestContext } from '../context.js';
import { renderOAuthError, send } from './errors.js';
import { Jwks, TokenBody, TokenResponse } from './schemas.js';

/** client_secret_basic: `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1). */
function basicCredentials(req: FastifyRequest): { id: string; secret: string } | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) throw new OAuthError('invalid_client', 'Client authentication failed.');
  try {
    return { id: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' ')) };
  } catch {
    throw new OAuthError('invalid_client', 'Client authentication failed.');
  }
}

export async function oauthRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  app.setErrorHandler((error, req, reply) => send(reply, renderOAuthError(error, req)));

  app.post('/oauth/token', {
    schema: {
      tags: ['directory v1: oauth'],
      summary: 'Issue tokens: grant_type password, refresh_token (rotating; reuse revokes the session) or client_credentials',
      description: 'Client authentication by HTTP Basic or client_id/client_secret in the body. Access tokens are EdDSA JWTs; verify them with /.well-known/jwks.json.',
      body: TokenBody,
      response: { 200: TokenResponse },
    },
  }, async (req, reply) => {
    const b = req.body ?? {};
    const basic = basicCredentials(req);
    if (basic && (b.client_secret !== undefined || (b.client_id !== undefined && b.client_id !== basic.id))) {
      throw new OAuthError('invalid_request', 'Use one client authentication method: HTTP Basic or client_id/client_secret in the body.');
    }
    const result = await core.oauth.token({
      grantType: b.grant_type,
      clientId: basic?.id ?? b.client_id,
      clientSecret: basic?.secret ?? b.client_secret,
      username: b.username,
      password: b.password,
      refreshToken: b.refresh_token,
      scope: b.scope,
    }, requestContext(req, 'directory'));
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return result;
  });

  app.get('/.well-known/jwks.json', {
    schema: { tags: ['directory v1: oauth'], summary: 'Public keys (EdDSA, Ed25519) that verify access tokens', response: { 200: Jwks } },
  }, async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=60');
    return (await core.oauth.jwks()) as Static<typeof Jwks>;
  });
}
