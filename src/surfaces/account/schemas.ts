// Request and response schemas of the account surface (seed 002 and docs/account.md).
// Email syntax is the core's rule (checked there, reported as Zod's invalid_string issue); the schemas
// hold types and the length bounds that keep oversized input out.
import Type from 'typebox';

/** Ids are 32-bit integers on both engines. */
export { MAX_ID } from '../../core/index.js';
import { MAX_ID } from '../../core/index.js';
/** The shared password policy (core BASE_POLICY): 8..1024 characters. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;
/** Long enough for any address the core accepts (254) plus surrounding spaces it trims. */
export const EMAIL_MAX = 320;

export const UserIdParams = Type.Object({
  user_id: Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'Unique identifier of the user (your own id).' }),
});

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'ETag from a previous read; a stale value answers 412.' })),
});

const Email = Type.String({ maxLength: EMAIL_MAX, description: 'A mailbox such as name@example.com (stored trimmed and lower-cased).' });
const NewPassword = Type.String({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, description: `${PASSWORD_MIN} to ${PASSWORD_MAX} characters.` });

export const UpdateUserBody = Type.Object(
  {
    email: Type.Optional(Email),
    password: Type.Optional(NewPassword),
  },
  { additionalProperties: false, description: 'At least one of email or password. Unknown fields are ignored.' },
);

export const LoginBody = Type.Object(
  {
    email: Email,
    // Sign-in does not re-apply the password policy: any string up to the maximum is checked against the hash.
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX }),
  },
  { additionalProperties: false },
);

export const SignUpBody = Type.Object(
  {
    email: Email,
    password: NewPassword,
    confirmPassword: Type.Optional(Type.String({ maxLength: PASSWORD_MAX, description: "The product's sign-up form sends it; when sent it must equal password." })),
  },
  { additionalProperties: false },
);

export const AccountUser = Type.Object({
  id: Type.Integer(),
  primary_email: Type.String(),
});

export const UserReply = Type.Object({ user: AccountUser });

export const SessionReply = Type.Object({
  user: AccountUser,
  loggedInAt: Type.String({ format: 'date-time' }),
});

/** h3's error body. `data.issues` follows Zod v3's issue format. */
export const H3ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    statusMessage: Type.String(),
    message: Type.String(),
    data: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);
