// POST /auth/simple/login (the unleash-session cookie) and /logout.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Core } from '../../core/index.js';
import { cookieValue } from '../../platform/http.js';
import { requestContext } from '../context.js';
import { SESSION_COOKIE } from './auth.js';
import { LoginBody, UnleashUser } from './schemas.js';
import { unleashUser } from './serialize.js';

const SURFACE = 'useradmin' as const;

function cookieOptions(req: FastifyRequest) {
  return { httpOnly: true, sameSite: 'lax' as const, path: '/', secure: req.protocol === 'https' };
}

export async function sessionRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['user-admin: auth'];

  app.post('/auth/simple/login', {
    config: { useradminAuth: 'public' },
    schema: {
      tags, summary: 'Sign in with a username or email and a password; sets the unleash-session cookie',
      body: LoginBody, response: { 200: UnleashUser },
    },
  }, async (req, reply) => {
    const ctx = requestContext(req, SURFACE);
    const user = await core.auth.verifyCredentials(req.body.username, req.body.password, ctx);
    const ttl = core.config.sessionTtlSeconds;
    const { token } = await core.sessions.open(ctx, {
      userId: user.id, kind: 'useradmin', ttlSeconds: ttl, ip: ctx.ip, userAgent: ctx.userAgent, withToken: true,
    });
    reply.setCookie(SESSION_COOKIE, token!, { ...cookieOptions(req), maxAge: ttl });
    reply.header('cache-control', 'no-store');
    return unleashUser(user);
  });

  const logout = async (req: FastifyRequest, reply: FastifyReply) => {
    const presented = cookieValue(req, SESSION_COOKIE);
    const session = presented && presented.length <= 512 ? await core.sessions.authenticate({ token: presented }, 'useradmin') : undefined;
    if (session) await core.sessions.close(session.principal, requestContext(req, SURFACE), session.id);
    reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
    reply.header('cache-control', 'no-store');
    // Unleash answers a logout with a redirect to the start page.
    return reply.code(302).header('location', '/').send();
  };
  const logoutSchema = { tags, summary: 'End the unleash-session session and clear its cookie (302 to /)', response: { 302: { type: 'null', description: 'Redirect to /' } } };
  app.post('/logout', { config: { useradminAuth: 'public' }, schema: logoutSchema }, logout);
  app.get('/logout', { config: { useradminAuth: 'public' }, schema: logoutSchema }, logout);
}
