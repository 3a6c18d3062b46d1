// Invite links (Unleash's /auth/reset/*): a user created without a password receives a one-time token in
// `inviteLink`; with it they check the link and set their first password. Public routes: the token is the key.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, unauthenticated, rootRoleName, checkStrongPassword } from '../../core/index.js';
import { requestContext } from '../context.js';
import { Empty, PasswordBody } from './schemas.js';

const SURFACE = 'useradmin' as const;

const ResetEmailBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }) }, { additionalProperties: false });
const TokenQuery = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) });
const AcceptBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ maxLength: 1024 }) },
  { additionalProperties: false },
);
const TokenUser = Type.Object({
  id: Type.Integer(),
  name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.String({ format: 'date-time' }),
  role: Type.Object({ id: Type.Integer(), name: Type.String(), type: Type.String() }),
});

export async function inviteRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['user-admin: invites'];

  app.get('/auth/reset/validate', {
    config: { useradminAuth: 'public' },
    schema: { tags, summary: 'The user an invite token belongs to (401 InvalidTokenError when unknown, used or expired)', querystring: TokenQuery, response: { 200: TokenUser } },
  }, async (req, reply) => {
    const invite = await core.invites.findInvite(req.query.token);
    if (!invite) throw unauthenticated('invalid_invite', 'The invite link is not valid: it is unknown, already used or expired.');
    reply.header('cache-control', 'no-store');
    const u = invite.user;
    return {
      id: u.id, name: u.name, email: u.email, username: u.username, createdBy: invite.createdBy, expiresAt: invite.expiresAt,
      role: { id: u.rootRoleId, name: rootRoleName(u.rootRoleId), type: 'root' },
    };
  });

  app.post('/auth/reset/password', {
    config: { useradminAuth: 'public' },
    schema: { tags, summary: 'Set your first password with an invite token (spends the token)', body: AcceptBody, response: { 200: Empty } },
  }, async (req, reply) => {
    await core.invites.acceptInvite(requestContext(req, SURFACE), req.body.token, req.body.password);
    return reply.code(200).send();
  });

  app.post('/auth/reset/password-email', {
    config: { useradminAuth: 'public' },
    schema: {
      tags, summary: 'Forgotten password: mails a reset link (valid 1 hour) when the address has an account and SMTP is configured; answers 200 in every case',
      body: ResetEmailBody, response: { 200: Empty },
    },
  }, async (req, reply) => {
    await core.accountMail.requestPasswordReset(requestContext(req, SURFACE), req.body.email, (token) => `/reset-password?token=${encodeURIComponent(token)}`);
    return reply.code(200).send();
  });

  app.post('/auth/reset/validate-password', {
    config: { useradminAuth: 'public' },
    schema: { tags, summary: 'Check a password against the password rules before setting it', body: PasswordBody, response: { 200: Empty } },
  }, async (req, reply) => {
    checkStrongPassword(req.body.password);
    return reply.code(200).send();
  });
}
