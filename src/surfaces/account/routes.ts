// Account routes (seed 002): a signed-in user reads and edits their own account; login, logout, check and
// sign-up manage the `neptun-session` cookie. Each handler parses, makes its core call(s), shapes the reply.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, type Principal, type RequestContext, forbidden, invalid, isDomainError, notFound, unauthenticated, type ActiveSession, etagOf, type User, type UserPatch, normalizeEmail, emptyPatchError, isEmptyPatch } from '../../core/index.js';
import { requestContext } from '../context.js';
import { UPDATE_BODY_MESSAGE } from './errors.js';
import {
  H3ErrorBody, IfMatchHeaders, LoginBody, PASSWORD_MAX, PASSWORD_MIN, SessionReply, SignUpBody, UpdateUserBody, UserIdParams, UserReply,
} from './schemas.js';
import { clearSessionCookie, findAccountSession, setSessionCookie } from './session.js';

const PASSWORD_POLICY = { min: PASSWORD_MIN, max: PASSWORD_MAX };

/** Who creates an account through sign-up: nobody signed in yet, so the audit log names the route. */
const SIGN_UP_PRINCIPAL: Principal = { kind: 'system', label: 'account:sign-up' };

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, H3ErrorBody]));

function accountUser(user: User): { id: number; primary_email: string } {
  // Account sessions are opened by email, so every user reaching this surface has one.
  return { id: user.id, primary_email: user.email ?? '' };
}

export async function accountRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['account'];

  /** Opens an account session for `user`, sets the cookie and ends the session the request came with. */
  async function startSession(req: FastifyRequest, reply: FastifyReply, ctx: RequestContext, user: User) {
    const previous = await findAccountSession(core, req);
    const { session, token } = await core.sessions.open(ctx, {
      userId: user.id, kind: 'account', ttlSeconds: core.config.sessionTtlSeconds, ip: ctx.ip, userAgent: ctx.userAgent, withToken: true,
    });
    setSessionCookie(req, reply, token!, session.expiresAt);
    if (previous) await core.sessions.close(previous.principal, ctx, previous.id, 'replaced_by_login');
    return { user: accountUser(user), loggedInAt: session.createdAt };
  }

  /**
   * As the product: login and sign-up with a live session are refused (403) before the body is looked at,
   * and their 400s are h3's plain "Bad Request" (the product passes no message of its own there).
   */
  const refuseWhenSignedIn = (message: string) => async (req: FastifyRequest) => {
    if (await findAccountSession(core, req)) throw forbidden('already_signed_in', message);
  };
  const CREDENTIALS_400 = { bodyMessage: 'Bad Request', bodyStatusMessage: 'Bad Request' };

  app.post('/api/auth/login', {
    config: { accountAuth: 'public', ...CREDENTIALS_400 },
    preValidation: refuseWhenSignedIn('Please log out before logging in as a different user'),
    schema: {
      tags, summary: 'Sign in with email and password; sets the neptun-session cookie (403 while signed in)', body: LoginBody,
      response: { 200: SessionReply, ...errors(400, 401, 403, 429) },
    },
  }, async (req, reply) => {
    const ctx = requestContext(req, 'account');
    const email = normalizeEmail(req.body.email);
    // A wrong email or password: 401 "Invalid email or password", the product's words.
    const user = await core.auth.verifyCredentials(email, req.body.password, ctx).catch((err: unknown) => {
      throw isDomainError(err) && err.kind === 'unauthenticated' ? unauthenticated('login_failed', 'Invalid email or password') : err;
    });
    return startSession(req, reply, ctx, user);
  });

  app.post('/api/auth/sign-up', {
    config: { accountAuth: 'public', ...CREDENTIALS_400 },
    preValidation: refuseWhenSignedIn('Please log out before creating a new account'),
    schema: {
      tags, summary: 'Create an account and sign in (409 when the email is taken; 403 while signed in or when sign-up is closed)', body: SignUpBody,
      response: { 200: SessionReply, ...errors(400, 403, 409, 429) },
    },
  }, async (req, reply) => {
    const ctx = requestContext(req, 'account');
    if (req.body.confirmPassword !== undefined && req.body.confirmPassword !== req.body.password) {
      throw invalid('confirmPassword', 'password_mismatch', 'Password must match');
    }
    // GATEHOUSE_SIGNUP=closed answers 403; past the per-address limit, 429.
    await core.signup.admit(ctx);
    const user = await core.users.create(SIGN_UP_PRINCIPAL, ctx, { email: req.body.email, password: req.body.password }, { passwordPolicy: PASSWORD_POLICY });
    return startSession(req, reply, ctx, user);
  });

  app.post('/api/auth/logout', {
    config: { accountAuth: 'public' },
    schema: { tags, summary: 'End this session; true when there was one to end', response: { 200: Type.Boolean() } },
  }, async (req, reply) => {
    const session = await findAccountSession(core, req);
    clearSessionCookie(req, reply);
    if (!session) return false;
    await core.sessions.close(session.principal, requestContext(req, 'account'), session.id);
    return true;
  });

  app.route({
    method: 'HEAD',
    url: '/api/auth/check',
    config: { accountAuth: 'session', swagger: { exposeHeadRoute: true } },
    schema: { tags, summary: '200 with a live session, 401 without', response: { 200: Type.Null(), 401: H3ErrorBody } },
    // HEAD carries no body: an empty 200.
    handler: async (_req, reply) => reply.code(200).send(undefined as never),
  });

  app.get('/api/users/:user_id', {
    config: { accountAuth: 'session' },
    schema: {
      tags, summary: 'Your own account (any other id answers 404)', params: UserIdParams,
      response: { 200: UserReply, ...errors(400, 401, 404) },
    },
  }, async (req, reply) => {
    const s: ActiveSession = req.accountSession!;
    if (req.params.user_id !== s.userId) throw notFound('user');
    const user = await core.users.getUser(s.userId);
    reply.header('etag', etagOf(user)).header('cache-control', 'private, no-store');
    return { user: accountUser(user) };
  });

  app.patch('/api/users/:user_id', {
    config: { accountAuth: 'session', bodyMessage: UPDATE_BODY_MESSAGE },
    schema: {
      tags,
      summary: 'Update your email and/or password (seed 002); refreshes the session cookie',
      description:
        'At least one of email or password. Another id answers 404. A changed email or password sets a new ' +
        'neptun-session cookie (the old value stops working); a password change also ends every other session of the user.',
      params: UserIdParams, headers: IfMatchHeaders, body: UpdateUserBody,
      response: { 200: UserReply, ...errors(400, 401, 404, 409, 412, 500) },
    },
  }, async (req, reply) => {
    const s: ActiveSession = req.accountSession!;
    if (req.params.user_id !== s.userId) throw notFound('user');
    const body = req.body ?? {};
    const patch: UserPatch = {};
    if (body.email !== undefined) patch.email = body.email;
    if (body.password !== undefined) patch.password = body.password;
    if (isEmptyPatch(patch)) throw emptyPatchError();
    const result = await core.users.update(s.principal, requestContext(req, 'account'), s.userId, patch, {
      ifMatch: req.headers['if-match'],
      passwordPolicy: PASSWORD_POLICY,
      keepSessionId: s.id,
      // The session carries the new email / survives the password change under a new token, rotated in
      // the update's own transaction so the change and the new cookie land together.
      rotateSessionId: s.id,
    });
    if (result.rotatedToken) setSessionCookie(req, reply, result.rotatedToken, s.expiresAt);
    reply.header('etag', etagOf(result.user));
    return { user: accountUser(result.user) };
  });

  app.delete('/api/users/:user_id', {
    config: { accountAuth: 'session' },
    schema: {
      tags, summary: 'Delete your own account (as the product: true, and the session cookie is cleared); another id answers 404',
      params: UserIdParams, response: { 200: Type.Boolean(), ...errors(400, 401, 404, 409) },
    },
  }, async (req, reply) => {
    const s: ActiveSession = req.accountSession!;
    if (req.params.user_id !== s.userId) throw notFound('user');
    // Every session, token and grant of the user goes with it; the last active admin cannot go (409).
    await core.users.delete(s.principal, requestContext(req, 'account'), s.userId);
    clearSessionCookie(req, reply);
    return true;
  });
}
