// Request and response schemas of the directory surface (seed 003: PUT /v1/users/{id} and neighbours).
import Type, { type TSchema } from 'typebox';
import { LANGUAGES, SORT_COLUMNS, MAX_ID } from '../../core/index.js';

const Nullable = <T>(type: string, opts: Record<string, unknown> = {}) => Type.Unsafe<T | null>({ type: [type, 'null'], ...opts });
const Str = (opts: Record<string, unknown> = {}) => Type.String(opts);


export const IdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'The user identifier' }),
});

export const TenantHeaders = Type.Object({
  'x-tenant': Type.Optional(Type.String({ description: "Tenant identifier: scopes the request to this tenant (absent: the caller's default tenant)." })),
  'if-match': Type.Optional(Type.String({ description: 'ETag from a previous read; a stale value answers 412.' })),
});

const ActiveFlag = Type.Unsafe<boolean | 0 | 1 | null>({
  type: ['boolean', 'integer', 'null'],
  enum: [true, false, 0, 1, null],
  description: "User's active status (true/false; 1/0 accepted; null leaves it unchanged).",
});

const Languages = Type.Unsafe<string[] | null>({
  type: ['array', 'null'],
  items: { type: 'string', enum: [...LANGUAGES] },
  maxItems: 10,
  description: "User's language preferences (Turkish, English, Other); null clears.",
});

const RoleIds = Type.Unsafe<number[] | null>({
  type: ['array', 'null'],
  items: { type: 'integer', minimum: 1, maximum: MAX_ID },
  maxItems: 100,
  description: 'Role identifiers of this tenant; replaces the user\'s roles in the tenant (null or [] clears).',
});

/** The fields every write accepts, with the page's limits. */
const profile = {
  phone: Type.Optional(Nullable<string>('string', { maxLength: 20 })),
  title: Type.Optional(Nullable<string>('string', { maxLength: 255 })),
  emergency_contact_name: Type.Optional(Nullable<string>('string', { maxLength: 255 })),
  emergency_contact_surname: Type.Optional(Nullable<string>('string', { maxLength: 255 })),
  emergency_contact_phone_number: Type.Optional(Nullable<string>('string', { maxLength: 20 })),
  blood_group: Type.Optional(Nullable<string>('string', { maxLength: 10 })),
  avatar_url: Type.Optional(Nullable<string>('string', { maxLength: 1000 })),
  is_active: Type.Optional(ActiveFlag),
  bio: Type.Optional(Nullable<string>('string', { maxLength: 1000 })),
  language: Type.Optional(Languages),
  role_ids: Type.Optional(RoleIds),
};

export const UpdateUserBody = Type.Object(
  {
    name: Type.Optional(Str({ minLength: 1, maxLength: 255, description: "User's name." })),
    email: Type.Optional(Str({ minLength: 1, maxLength: 255, format: 'email', description: "User's email address." })),
    password: Type.Optional(Str({ minLength: 8, description: "User's password." })),
    password_confirmation: Type.Optional(Str({ minLength: 8, description: 'Must match the password field.' })),
    ...profile,
  },
  { additionalProperties: false },
);

export const CreateUserBody = Type.Object(
  {
    name: Str({ minLength: 1, maxLength: 255 }),
    email: Str({ minLength: 1, maxLength: 255, format: 'email' }),
    password: Str({ minLength: 8 }),
    password_confirmation: Type.Optional(Str({ minLength: 8 })),
    ...profile,
  },
  { additionalProperties: false },
);

export const SyncRolesBody = Type.Object({ role_ids: RoleIds }, { additionalProperties: false });

export const ListUsersQuery = Type.Object({
  search: Type.Optional(Str({ maxLength: 255, description: 'Part of the name, email or username (case-insensitive).' })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Items per page (1..100, default 15).' })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000 })),
  sort_by: Type.Optional(Type.Unsafe<keyof typeof SORT_COLUMNS>({ type: 'string', enum: Object.keys(SORT_COLUMNS) })),
  sort_order: Type.Optional(Type.Unsafe<'asc' | 'desc'>({ type: 'string', enum: ['asc', 'desc'] })),
  is_active: Type.Optional(Type.Unsafe<'true' | 'false' | '1' | '0'>({ type: 'string', enum: ['true', 'false', '1', '0'] })),
  role: Type.Optional(Str({ maxLength: 255, description: 'A role id or name of this tenant.' })),
  trashed: Type.Optional(Type.Unsafe<'with' | 'only' | 'without'>({ type: 'string', enum: ['with', 'only', 'without'], description: 'with: include soft-deleted members; only: just them.' })),
});

const NullStr = (opts: Record<string, unknown> = {}) => Nullable<string>('string', opts);

export const RoleRef = Type.Object({ id: Type.Integer(), name: Type.String() });

export const UserResource = Type.Object({
  id: Type.Integer(),
  name: NullStr(),
  email: NullStr(),
  title: NullStr(),
  phone: NullStr(),
  emergency_contact_name: NullStr(),
  emergency_contact_surname: NullStr(),
  emergency_contact_phone_number: NullStr(),
  blood_group: NullStr(),
  language: Type.Unsafe<string[] | null>({ type: ['array', 'null'], items: { type: 'string' } }),
  avatar_url: NullStr(),
  is_active: Type.Boolean(),
  bio: NullStr(),
  last_login_at: NullStr({ format: 'date-time' }),
  last_login_ip: NullStr(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  deleted_at: NullStr({ format: 'date-time' }),
  roles: Type.Array(RoleRef),
});

export const Success = <T extends TSchema>(data: T) => Type.Object({ success: Type.String(), data });

export const Paginated = <T extends TSchema>(item: T) =>
  Type.Object({
    data: Type.Array(item),
    links: Type.Object({ first: NullStr(), last: NullStr(), prev: NullStr(), next: NullStr() }),
    meta: Type.Object({
      current_page: Type.Integer(),
      from: Type.Union([Type.Integer(), Type.Null()]),
      last_page: Type.Integer(),
      path: Type.String(),
      per_page: Type.Integer(),
      to: Type.Union([Type.Integer(), Type.Null()]),
      total: Type.Integer(),
    }),
  });

export const AccountRole = Type.Object({ id: Type.Integer(), name: Type.String(), permissions: Type.Array(Type.String()) });

export const TokenBody = Type.Object(
  {
    grant_type: Type.Optional(Str({ maxLength: 64 })),
    client_id: Type.Optional(Str({ maxLength: 255 })),
    client_secret: Type.Optional(Str({ maxLength: 512 })),
    username: Type.Optional(Str({ maxLength: 320 })),
    password: Type.Optional(Str({ maxLength: 1024 })),
    refresh_token: Type.Optional(Str({ maxLength: 512 })),
    scope: Type.Optional(Str({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const TokenResponse = Type.Object({
  token_type: Type.String(),
  expires_in: Type.Integer(),
  access_token: Type.String(),
  refresh_token: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
});

export const Jwks = Type.Object({
  keys: Type.Array(Type.Object({
    kty: Type.String(), crv: Type.String(), x: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.String(),
  })),
});
