// The writable fields of a user as the core stores them: every input (create, update, import) validated and
// normalised the same way (identity keys, text limits, profile fields, languages). Rules only, no SQL.
import type { Updateable } from 'kysely';
import type { UsersTable } from '../../store/schema.js';
import { invalid } from '../errors.js';
import { checkPassword, type PasswordPolicy } from '../passwords/index.js';
import { ROOT_ROLE_NAMES } from '../roles/index.js';
import { emailKey } from '../identity/index.js';
import { PROFILE_FIELDS, type UserPatch } from './types.js';
import { checkImageUrl, foldKey, normalizeEmail, normalizeText, normalizeUsername } from './validation.js';

export const LANGUAGES = ['Turkish', 'English', 'Other'] as const;

const COLUMN_OF: Record<(typeof PROFILE_FIELDS)[number], keyof UsersTable> = {
  avatarUrl: 'avatar_url',
  phone: 'phone',
  title: 'title',
  emergencyContactName: 'emergency_contact_name',
  emergencyContactSurname: 'emergency_contact_surname',
  emergencyContactPhoneNumber: 'emergency_contact_phone_number',
  bloodGroup: 'blood_group',
  bio: 'bio',
};

const PROFILE_LIMITS: Record<(typeof PROFILE_FIELDS)[number], number> = {
  avatarUrl: 1000,
  phone: 20,
  title: 255,
  emergencyContactName: 255,
  emergencyContactSurname: 255,
  emergencyContactPhoneNumber: 20,
  bloodGroup: 10,
  bio: 1000,
};

/** The columns an input sets, and the password to hash (never stored as given). */
export type NormalizedUser = Updateable<UsersTable> & { _password?: string };

/** Validates and normalises the writable fields shared by create and update (and import: core/transfer). */
export function normalizeUserInput(input: UserPatch, policy: PasswordPolicy): NormalizedUser {
  const out: NormalizedUser = {};
  if (input.email !== undefined) {
    const email = normalizeEmail(input.email);
    out.email = email;
    out.email_key = emailKey(email);
  }
  if (input.username !== undefined) {
    if (input.username === null) {
      out.username = null;
      out.username_key = null;
      out.username_skeleton = null;
    } else {
      const { username, key, skeleton } = normalizeUsername(input.username);
      out.username = username;
      out.username_key = key;
      out.username_skeleton = skeleton;
    }
  }
  if (input.name !== undefined) {
    if (input.name === null) {
      out.name = null;
      out.name_key = null;
    } else {
      const name = normalizeText(input.name, 'name', 255);
      out.name = name || null;
      out.name_key = name ? foldKey(name) : null;
    }
  }
  if (input.password !== undefined) {
    checkPassword('password', input.password, policy);
    out._password = input.password;
  }
  if (input.isActive !== undefined) out.is_active = input.isActive ? 1 : 0;
  if (input.rootRoleId !== undefined) {
    if (!ROOT_ROLE_NAMES[input.rootRoleId]) throw invalid('rootRole', 'unknown_role', 'Unknown root role');
    out.root_role_id = input.rootRoleId;
  }
  for (const field of PROFILE_FIELDS) {
    const value = input[field];
    if (value === undefined) continue;
    const column = COLUMN_OF[field];
    if (value === null) (out as Record<string, unknown>)[column] = null;
    else {
      const snake = String(column);
      const text = normalizeText(value, snake, PROFILE_LIMITS[field], field === 'bio');
      if (field === 'avatarUrl' && text !== '') checkImageUrl(text, snake);
      (out as Record<string, unknown>)[column] = text === '' ? null : text;
    }
  }
  if (input.languages !== undefined) {
    if (input.languages === null) out.languages = null;
    else {
      for (const lang of input.languages) {
        if (!(LANGUAGES as readonly string[]).includes(lang)) {
          throw invalid('language', 'invalid_language', `The selected language is invalid: use ${LANGUAGES.join(', ')}`, {
            constraints: { oneOf: [...LANGUAGES] },
          });
        }
      }
      out.languages = JSON.stringify([...new Set(input.languages)]);
    }
  }
  return out;
}
