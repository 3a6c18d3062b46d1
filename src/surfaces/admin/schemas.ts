// Request and response schemas of the admin surface (seed 000 and docs/admin.md).
import Type, { type TSchema } from 'typebox';
import { MAX_ID } from '../../core/index.js';

export const NullableString = (opts: Record<string, unknown> = {}) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...opts });
export const NullableInt = () => Type.Unsafe<number | null>({ type: ['integer', 'null'] });

export const IdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'Resource identifier.' }),
});

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'ETag from a previous read; a stale value answers 412.' })),
});

export const UserItem = Type.Object({
  id: Type.Integer(),
  username: NullableString(),
  name: NullableString(),
  email: NullableString(),
  email_verified_at: NullableString({ format: 'date-time' }),
  is_active: Type.Integer({ description: '1 when active, 0 when deactivated' }),
  is_admin: Type.Boolean(),
  root_role: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  last_login_at: NullableString({ format: 'date-time' }),
});

export const Envelope = <T extends TSchema>(item: T, extra: Record<string, TSchema> = {}) =>
  Type.Object({
    ok: Type.Boolean(),
    created: Type.Boolean(),
    updated: Type.Boolean(),
    deleted: Type.Boolean(),
    ...extra,
    item,
  });

const ActiveFlag = Type.Union([Type.Boolean(), Type.Literal(0), Type.Literal(1)], {
  description: 'true/false (1/0 accepted, as responses show it)',
});

const AdminFlag = Type.Union([Type.Boolean(), Type.Literal(0), Type.Literal(1)], {
  description: 'true/false (1/0 accepted, as the product takes them)',
});

// The five root roles by name, as items show them in root_role (an addition beside is_admin, which only
// tells administrators from members): the console's role select sends it.
const RootRoleField = Type.Union(['Admin', 'Editor', 'Viewer', 'Owner', 'Member'].map((n) => Type.Literal(n)), {
  description: 'Root role (Admin, Editor, Viewer, Owner or Member); not together with is_admin',
});

export const PatchUserBody = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    email: Type.Optional(Type.String({ maxLength: 320, description: 'Format: email' })),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
    is_active: Type.Optional(ActiveFlag),
    is_admin: Type.Optional(AdminFlag),
    root_role: Type.Optional(RootRoleField),
    name: Type.Optional(NullableString({ maxLength: 255 })),
  },
  { additionalProperties: false },
);

export const CreateUserBody = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    email: Type.String({ maxLength: 320, description: 'Format: email' }),
    password: Type.String({ minLength: 8, maxLength: 128 }),
    is_active: Type.Optional(ActiveFlag),
    is_admin: Type.Optional(AdminFlag),
    root_role: Type.Optional(RootRoleField),
    name: Type.Optional(NullableString({ maxLength: 255 })),
  },
  { additionalProperties: false },
);

export const SelfPasswordBody = Type.Object(
  {
    current_password: Type.String({ minLength: 1, maxLength: 1024 }),
    new_password: Type.String({ minLength: 8, maxLength: 128 }),
  },
  { additionalProperties: false },
);

export const ListUsersQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'next_cursor of the previous page (a search cursor continues only a search)' })),
  q: Type.Optional(Type.String({ maxLength: 254, description: 'Prefix of email, username or name (case-insensitive)' })),
  is_active: Type.Optional(Type.Boolean()),
  active: Type.Optional(Type.Boolean({ description: 'Same as is_active (the product names this filter active)' })),
  email: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: 'Text the email contains (case-insensitive), as the product filters; not with q' })),
  is_admin: Type.Optional(Type.Boolean()),
  total: Type.Optional(Type.Boolean({ description: 'true: answer total and total_exact too (a bounded count: docs/admin.md); false or absent: the page alone, read with the credential check' })),
});

export const SignInBody = Type.Object(
  {
    identifier: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'Email or username' })),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const SessionInfo = Type.Object({
  session_family_id: Type.String(),
  access_expires_at: Type.String({ format: 'date-time' }),
  refresh_expires_at: Type.String({ format: 'date-time' }),
});

export const TokenItem = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  kind: Type.String(),
  user_id: NullableInt(),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: NullableString({ format: 'date-time' }),
  last_used_at: NullableString({ format: 'date-time' }),
});

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    expires_at: Type.Optional(NullableString({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

export const AuditQuery = Type.Object({
  action: Type.Optional(Type.String({ maxLength: 200, description: 'One action or a comma-separated list' })),
  target_type: Type.Optional(Type.String({ maxLength: 64 })),
  target_id: Type.Optional(Type.String({ maxLength: 64 })),
  actor_type: Type.Optional(Type.String({ maxLength: 64 })),
  actor_id: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  cursor: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});
