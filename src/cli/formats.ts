// The import formats: each turns one user of another system's dump into an ImportRecord (docs/cli.md).
// A mapper returns a record, or { skip } for a row it should not bring in, or throws what is wrong with it.
import type { ImportRecord } from '../core/transfer/index.js';

export const FORMATS = ['gatehouse', 'unleash', 'keycloak', 'supabase', 'logto'] as const;
export type Format = (typeof FORMATS)[number];

export type Mapped = ImportRecord | { skip: string; sourceId?: string | number | null };

type Row = Record<string, unknown>;

export class RowError extends Error {
  constructor(message: string, readonly field?: string, readonly reason = 'invalid') {
    super(message);
  }
}

function str(row: Row, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = row[k];
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
  }
  return null;
}

function id(row: Row, key = 'id'): string | number | null {
  const v = row[key];
  return typeof v === 'string' || typeof v === 'number' ? v : null;
}

/** A time as an ISO string: ISO text, or epoch milliseconds (Keycloak, Logto). */
function time(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number') return new Date(v).toISOString();
  if (typeof v === 'string') return /^\d{12,}$/.test(v) ? new Date(Number(v)).toISOString() : v;
  throw new RowError(`not a time: ${JSON.stringify(v).slice(0, 40)}`, 'created_at', 'invalid_date');
}

/**
 * A peer's username, unless it is the email itself (Keycloak and Unleash allow that; usernames here never
 * contain "@", and the user signs in with the email anyway).
 */
function peerUsername(username: string | null, email: string | null): string | null {
  if (username && email && username.includes('@') && username.trim().toLowerCase() === email.trim().toLowerCase()) return null;
  return username;
}

function strings(v: unknown): string[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null;
}

/** The gatehouse export's own records (src/core/transfer/service.ts ExportedUser). */
function gatehouse(row: Row, source: number): Mapped {
  const memberships = row.memberships;
  if (memberships !== undefined && memberships !== null && !Array.isArray(memberships)) throw new RowError('memberships must be a list', 'memberships');
  return {
    source,
    sourceId: id(row),
    email: str(row, 'email'),
    username: str(row, 'username'),
    name: str(row, 'name'),
    avatarUrl: str(row, 'avatar_url'),
    phone: str(row, 'phone'),
    title: str(row, 'title'),
    emergencyContactName: str(row, 'emergency_contact_name'),
    emergencyContactSurname: str(row, 'emergency_contact_surname'),
    emergencyContactPhoneNumber: str(row, 'emergency_contact_phone_number'),
    bloodGroup: str(row, 'blood_group'),
    bio: str(row, 'bio'),
    languages: strings(row.languages),
    rootRole: str(row, 'root_role'),
    isActive: row.is_active !== false,
    emailVerifiedAt: time(row.email_verified_at),
    createdAt: time(row.created_at),
    passwordHash: str(row, 'password_hash'),
    memberships: (memberships as ImportRecord['memberships']) ?? [],
  };
}

/** Unleash's `users` table, a row per line (bcrypt password_hash). Service accounts and deleted users are skipped. */
function unleash(row: Row, source: number): Mapped {
  if (row.deleted_at) return { skip: 'deleted', sourceId: id(row) };
  if (row.is_service === true) return { skip: 'service_account', sourceId: id(row) };
  return { source, sourceId: id(row), email: str(row, 'email'), username: peerUsername(str(row, 'username'), str(row, 'email')), name: str(row, 'name'), passwordHash: str(row, 'password_hash'), createdAt: time(row.created_at) };
}

/** Supabase `auth.users`, a row per line (bcrypt encrypted_password). Deleted users are skipped. */
function supabase(row: Row, source: number): Mapped {
  if (row.deleted_at) return { skip: 'deleted', sourceId: id(row) };
  let meta = row.raw_user_meta_data;
  if (typeof meta === 'string') {
    try {
      meta = JSON.parse(meta);
    } catch {
      meta = {};
    }
  }
  const m = (meta && typeof meta === 'object' ? meta : {}) as Row;
  return {
    source,
    sourceId: id(row),
    email: str(row, 'email'),
    name: str(m, 'full_name', 'name'),
    phone: str(row, 'phone') || null,
    passwordHash: str(row, 'encrypted_password') || null,
    emailVerifiedAt: time(row.email_confirmed_at ?? null),
    createdAt: time(row.created_at),
  };
}

const LOGTO_METHODS: Record<string, boolean> = { argon2i: true, argon2id: true, argon2d: true, bcrypt: true };

/** Logto's `users` table (snake_case) or its API's camelCase users: argon2i/id/d and bcrypt hashes. */
function logto(row: Row, source: number): Mapped {
  const hash = str(row, 'password_encrypted', 'passwordEncrypted', 'passwordDigest');
  const method = str(row, 'password_encryption_method', 'passwordEncryptionMethod', 'passwordAlgorithm');
  if (hash && method && !LOGTO_METHODS[method.toLowerCase()]) {
    throw new RowError(`Logto password method ${method} cannot be verified here (argon2i, argon2id, argon2d, bcrypt only)`, 'password_hash', 'unsupported_hash');
  }
  return {
    source,
    sourceId: id(row),
    email: str(row, 'primary_email', 'primaryEmail'),
    username: peerUsername(str(row, 'username'), str(row, 'primary_email', 'primaryEmail')),
    name: str(row, 'name'),
    phone: str(row, 'primary_phone', 'primaryPhone') ? `+${str(row, 'primary_phone', 'primaryPhone')!.replace(/^\+/, '')}` : null,
    passwordHash: hash,
    isActive: !(row.is_suspended === true || row.isSuspended === true),
    createdAt: time(row.created_at ?? row.createdAt),
  };
}

function keycloakJson(v: unknown, field: string): Row {
  if (v && typeof v === 'object') return v as Row;
  if (typeof v !== 'string') return {};
  try {
    return JSON.parse(v) as Row;
  } catch {
    throw new RowError(`credentials ${field} is not JSON`, 'credentials');
  }
}

function unpad(b64: string): string {
  return b64.replace(/=+$/, '');
}

/** A Keycloak password credential as a hash string src/core/passwords verifies. */
export function keycloakHash(cred: Row): string {
  const secret = keycloakJson(cred.secretData, 'secretData');
  const data = keycloakJson(cred.credentialData, 'credentialData');
  // Exports before Keycloak 12 keep the parts on the credential itself.
  const value = str(secret, 'value') ?? str(cred, 'hashedSaltedValue');
  const salt = str(secret, 'salt') ?? str(cred, 'salt');
  const algorithm = (str(data, 'algorithm') ?? str(cred, 'algorithm') ?? 'pbkdf2-sha256').toLowerCase();
  const iterations = Number(data.hashIterations ?? cred.hashIterations);
  if (!value || !salt) throw new RowError('password credential without value or salt', 'credentials');
  if (!Number.isInteger(iterations) || iterations < 1) throw new RowError('password credential without hashIterations', 'credentials');
  if (algorithm === 'pbkdf2' || algorithm === 'pbkdf2-sha256' || algorithm === 'pbkdf2-sha512') {
    const digest = algorithm === 'pbkdf2' ? 'sha1' : algorithm.slice(7);
    return `$pbkdf2-${digest}$i=${iterations}$${salt}$${value}`;
  }
  if (/^argon2$/.test(algorithm)) {
    const extra = (data.additionalParameters ?? {}) as Record<string, unknown>;
    const one = (k: string, d: string) => (Array.isArray(extra[k]) ? String((extra[k] as unknown[])[0]) : typeof extra[k] === 'string' ? (extra[k] as string) : d);
    const type = one('type', 'id');
    const version = one('version', '1.3') === '1.0' ? 16 : 19;
    return `$argon2${type}$v=${version}$m=${one('memory', '7168')},t=${iterations},p=${one('parallelism', '1')}$${unpad(salt)}$${unpad(value)}`;
  }
  throw new RowError(`Keycloak hash algorithm ${algorithm} is not supported (pbkdf2, pbkdf2-sha256, pbkdf2-sha512, argon2)`, 'credentials', 'unsupported_hash');
}

/** One user of a Keycloak realm export (`users[]`): its password credential (pbkdf2-sha1/256/512, argon2). */
function keycloak(row: Row, source: number): Mapped {
  if (row.serviceAccountClientId) return { skip: 'service_account', sourceId: id(row) };
  const creds = Array.isArray(row.credentials) ? (row.credentials as Row[]) : [];
  const password = creds.find((c) => c && c.type === 'password');
  const name = [str(row, 'firstName'), str(row, 'lastName')].filter(Boolean).join(' ');
  const email = str(row, 'email');
  return {
    source,
    sourceId: id(row),
    email,
    username: peerUsername(str(row, 'username'), email),
    name: name || null,
    passwordHash: password ? keycloakHash(password) : null,
    isActive: row.enabled !== false,
    emailVerifiedAt: row.emailVerified === true && email ? time(row.createdTimestamp) ?? new Date().toISOString() : null,
    createdAt: time(row.createdTimestamp),
  };
}

export const MAPPERS: Record<Format, (row: Row, source: number) => Mapped> = { gatehouse, unleash, keycloak, supabase, logto };
