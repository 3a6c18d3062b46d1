// /api/admin/user (the caller) and /api/admin/user/tokens (the caller's personal access tokens). A personal
// token acts as its owner, with the owner's root-role permissions, and is shown once at creation.
import type { FastifyInstance } from 'fastify';
import { sendStreamedList } from '../json-stream.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Core } from '../../core/index.js';
import { requestContext } from '../context.js';
import { requireUser } from './auth.js';
import { CreatedPat, CreatePatBody, CurrentUserResponse, Empty, PatItem, TokenIdParams } from './schemas.js';
import { patItem, unleashUser } from './serialize.js';

const SURFACE = 'useradmin' as const;

export async function tokenRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['user-admin: personal access tokens'];

  app.get('/api/admin/user', {
    config: { useradminAuth: 'user' },
    schema: { tags, summary: 'The signed-in user (or the owner of the personal access token) and their permissions', response: { 200: CurrentUserResponse } },
  }, async (req) => {
    const p = req.principal!;
    const user = await core.users.getUser(requireUser(p));
    const permissions = p.kind === 'system' ? [] : [...p.permissions].map((permission) => ({ permission }));
    return { user: unleashUser(user), permissions, feedback: [], splash: {} };
  });

  app.get('/api/admin/user/tokens', {
    config: { useradminAuth: 'user' },
    schema: { tags, summary: "The caller's personal access tokens (never their secrets)", response: { 200: Type.Object({ pats: Type.Array(PatItem) }) } },
  }, async (req, reply) => {
    const userId = requireUser(req.principal!);
    // Streamed (docs/limits.md): nothing bounds how many tokens a user creates.
    return sendStreamedList(reply, {
      envelope: { pats: [] }, key: 'pats', itemSchema: PatItem,
      batches: core.tokens.listBatches({ kind: 'personal', userId }, 500), toItem: patItem,
    });
  });

  app.post('/api/admin/user/tokens', {
    config: { useradminAuth: 'user' },
    schema: {
      tags, summary: 'Create a personal access token (description unique per user, expiry in the future; the secret is shown once)',
      body: CreatePatBody, response: { 201: CreatedPat },
    },
  }, async (req, reply) => {
    const userId = requireUser(req.principal!);
    const { token, secret } = await core.tokens.createPersonal(req.principal!, requestContext(req, SURFACE), {
      userId, name: req.body.description, expiresAt: req.body.expiresAt,
    });
    reply.code(201).header('cache-control', 'no-store');
    return { ...patItem(token), secret };
  });

  app.delete('/api/admin/user/tokens/:id', {
    config: { useradminAuth: 'user' },
    schema: { tags, summary: 'Delete one of your personal access tokens', params: TokenIdParams, response: { 200: Empty } },
  }, async (req, reply) => {
    const userId = requireUser(req.principal!);
    await core.tokens.delete(req.principal!, requestContext(req, SURFACE), req.params.id, { kind: 'personal', userId });
    return reply.code(200).send();
  });
}
