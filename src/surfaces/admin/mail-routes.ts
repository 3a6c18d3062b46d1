// /api/auth/password-reset[/confirm] and /api/auth/verify-email[/request]: the admin surface's mail flows
// (docs/delivery.md). A reset request answers the same whether or not the address has an account.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, invalid } from '../../core/index.js';
import { requestContext } from '../context.js';

const ADMIN_PASSWORD_POLICY = { min: 8, max: 128 };

const ResetBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }) }, { additionalProperties: false });
const ConfirmBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 8, maxLength: 128 }) },
  { additionalProperties: false },
);
const TokenBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
const Done = Type.Object({ ok: Type.Boolean(), action: Type.String() });

export async function mailRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['admin: auth'];

  app.post('/api/auth/password-reset', {
    config: { auth: 'public' },
    schema: {
      tags, summary: 'Forgotten password: mails a one-hour reset link when the address has an active account and SMTP is configured; the same answer in every case',
      body: ResetBody, response: { 200: Done },
    },
  }, async (req) => {
    await core.accountMail.requestPasswordReset(requestContext(req, 'admin'), req.body.email, (token) => `/reset-password?token=${encodeURIComponent(token)}`);
    return { ok: true, action: 'password_reset_requested' };
  });

  app.post('/api/auth/password-reset/confirm', {
    config: { auth: 'public' },
    schema: { tags, summary: 'Set a new password with the token of a reset link (spends it; ends every session of the user)', body: ConfirmBody, response: { 200: Done } },
  }, async (req, reply) => {
    await core.accountMail.confirmReset(requestContext(req, 'admin'), req.body.token, req.body.password, ADMIN_PASSWORD_POLICY);
    reply.header('cache-control', 'no-store');
    return { ok: true, action: 'password_reset' };
  });

  app.post('/api/auth/verify-email/request', {
    config: { auth: 'session' },
    schema: {
      tags, summary: 'Mail a verification link (valid 24 hours) to the signed-in user\'s address',
      response: { 200: Type.Object({ ok: Type.Boolean(), action: Type.String(), result: Type.String({ description: 'sent, already_verified, recently_sent, no_email or mail_disabled' }) }) },
    },
  }, async (req) => {
    const p = req.principal!;
    const userId = p.kind === 'user' ? p.userId : p.kind === 'api_token' ? p.userId : null;
    if (!userId) throw invalid('session', 'user_session_required', 'Verifying an address needs a signed-in user');
    const result = await core.accountMail.requestVerification(requestContext(req, 'admin'), userId);
    return { ok: true, action: 'verification_requested', result };
  });

  app.post('/api/auth/verify-email', {
    config: { auth: 'public' },
    schema: {
      tags, summary: 'Confirm an address with the token of a verification link (sets email_verified_at)', body: TokenBody,
      response: { 200: Type.Object({ ok: Type.Boolean(), action: Type.String(), email: Type.String(), email_verified_at: Type.String({ format: 'date-time' }) }) },
    },
  }, async (req) => {
    const user = await core.accountMail.verifyEmail(requestContext(req, 'admin'), req.body.token);
    return { ok: true, action: 'email_verified', email: user.email!, email_verified_at: user.emailVerifiedAt! };
  });
}
