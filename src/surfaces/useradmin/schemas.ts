// Request and response schemas of the user-admin surface (seed 004, Unleash's user admin API).
import Type from 'typebox';
import { MAX_ID } from '../../core/index.js';

const NullableString = (opts: Record<string, unknown> = {}) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...opts });
const NullableInt = () => Type.Unsafe<number | null>({ type: ['integer', 'null'] });
const Loose = Type.Unsafe<Record<string, unknown> | null>({ type: ['object', 'null'], additionalProperties: true });

export const IdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'The user id' }),
});

export const TokenIdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'The personal access token id' }),
});

export const RootRoleInput = Type.Union([Type.Integer(), Type.String({ maxLength: 64 })], {
  description: "The role to assign to the user: the role's id or its unique name (Admin, Editor, Viewer, Owner, Member).",
});

export const UnleashUser = Type.Object({
  id: Type.Integer({ description: 'The user id' }),
  isAPI: Type.Boolean({ description: '(Deprecated) always false' }),
  name: NullableString({ description: 'Name of the user' }),
  email: Type.Optional(Type.String({ description: 'Email of the user' })),
  username: NullableString({ description: 'A unique username for the user' }),
  imageUrl: Type.String({ description: 'URL used for the user profile image' }),
  inviteLink: Type.Optional(Type.String()),
  loginAttempts: Type.Integer({ description: 'How many unsuccessful attempts at logging in the user has made' }),
  emailSent: Type.Boolean({ description: 'Is the welcome email sent to the user or not' }),
  rootRole: Type.Union([Type.Integer(), Type.String()], { description: 'The root role: a role id, or its name when created with a name' }),
  seenAt: NullableString({ format: 'date-time', description: 'The last time this user logged in' }),
  createdAt: Type.String({ format: 'date-time' }),
  accountType: Type.String({ description: 'A user is either an actual User or a Service Account' }),
  permissions: Type.Array(Type.String(), { description: 'Deprecated' }),
});

export const RootRoleItem = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  description: NullableString(),
  type: Type.String(),
  project: NullableString(),
});

export const UsersResponse = Type.Object({ users: Type.Array(UnleashUser), rootRoles: Type.Array(RootRoleItem) });

export const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 254, description: 'Prefix of the email, username or name (at least 2 characters)' })),
});

export const CreateUserBody = Type.Object(
  {
    username: Type.Optional(Type.String({ maxLength: 255, description: 'Required when email is not given' })),
    email: Type.Optional(Type.String({ maxLength: 320, description: 'Required when username is not given' })),
    name: Type.Optional(NullableString({ maxLength: 255 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    rootRole: RootRoleInput,
    sendEmail: Type.Optional(Type.Boolean({ description: 'Send the invite mail (a user created without a password, with an email) when the server has SMTP configured; default true. emailSent says whether it was queued' })),
  },
  { additionalProperties: false },
);

export const UpdateUserBody = Type.Object(
  {
    email: Type.Optional(Type.String({ maxLength: 320 })),
    name: Type.Optional(NullableString({ maxLength: 255 })),
    rootRole: Type.Optional(RootRoleInput),
  },
  { additionalProperties: false },
);

export const PasswordBody = Type.Object({ password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false });

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 320, description: 'Username or email' }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

/** 200 with an empty body, as Unleash answers deletes and password changes (plain JSON Schema: nothing to infer). */
export const Empty: Record<string, unknown> = { description: 'Empty body', type: 'null' };

export const CurrentUserResponse = Type.Object({
  user: UnleashUser,
  permissions: Type.Array(Type.Object({ permission: Type.String() })),
  feedback: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'Always empty here' }),
  splash: Type.Object({}, { additionalProperties: true, description: 'Always empty here' }),
});

export const PatItem = Type.Object({
  id: Type.Integer(),
  description: Type.String(),
  expiresAt: NullableString({ format: 'date-time' }),
  createdAt: Type.String({ format: 'date-time' }),
  seenAt: NullableString({ format: 'date-time' }),
  userId: NullableInt(),
});

export const CreatedPat = Type.Object({ ...PatItem.properties, secret: Type.String({ description: 'Shown once' }) });

export const CreatePatBody = Type.Object(
  {
    description: Type.String({ maxLength: 255 }),
    expiresAt: Type.String({ maxLength: 64, description: 'ISO-8601 date-time in the future' }),
  },
  { additionalProperties: false },
);

export const EventsQuery = Type.Object({
  type: Type.Optional(Type.String({ maxLength: 500, description: 'An event type or a comma-separated list (IS:/IS_ANY_OF: prefixes accepted)' })),
  targetUser: Type.Optional(Type.String({ maxLength: 24, description: 'Events about this user id' })),
  createdBy: Type.Optional(Type.String({ maxLength: 24, description: 'Events made by this user id' })),
  from: Type.Optional(Type.String({ maxLength: 64, description: 'ISO date-time: events at or after' })),
  to: Type.Optional(Type.String({ maxLength: 64, description: 'ISO date-time: events before' })),
  cursor: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'nextCursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

export const EventItem = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.String(),
  createdByUserId: NullableInt(),
  data: Loose,
  preData: Loose,
  tags: Type.Array(Type.Object({ type: Type.String(), value: Type.String() })),
  featureName: NullableString(),
  project: NullableString(),
  environment: NullableString(),
  ip: NullableString(),
});

export const EventsResponse = Type.Object({
  version: Type.Integer(),
  events: Type.Array(EventItem),
  nextCursor: NullableInt(),
});

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'ETag from a previous read; a stale value answers 412 PreconditionFailedError.' })),
});
