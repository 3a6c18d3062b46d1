/** A user as a list shows it (see SUMMARY_COLUMNS in ./store.ts). */
/** A user as the user-admin list shows it (Unleash's user shape). */
export type UserListItem = Pick<User, 'id' | 'username' | 'name' | 'email' | 'avatarUrl' | 'loginAttempts' | 'rootRoleId' | 'seenAt' | 'createdAt' | 'accountType'>;
export type UserSummary = Pick<User, 'id' | 'username' | 'name' | 'email' | 'emailVerifiedAt' | 'isActive' | 'rootRoleId' | 'createdAt' | 'updatedAt' | 'lastLoginAt' | 'deletedAt' | 'version'>;

export interface User {
  id: number;
  username: string | null;
  name: string | null;
  email: string | null;
  emailVerifiedAt: string | null;
  isActive: boolean;
  rootRoleId: number;
  accountType: string;
  avatarUrl: string | null;
  phone: string | null;
  title: string | null;
  emergencyContactName: string | null;
  emergencyContactSurname: string | null;
  emergencyContactPhoneNumber: string | null;
  bloodGroup: string | null;
  bio: string | null;
  languages: string[] | null;
  loginAttempts: number;
  lastLoginAt: string | null;
  lastLoginIp: string | null;
  seenAt: string | null;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  version: number;
  hasPassword: boolean;
}

/** Profile fields that accept null to clear (directory surface). */
export const PROFILE_FIELDS = [
  'avatarUrl',
  'phone',
  'title',
  'emergencyContactName',
  'emergencyContactSurname',
  'emergencyContactPhoneNumber',
  'bloodGroup',
  'bio',
] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];

/** Profile values (directory surface): absent is untouched, null clears. */
export interface ProfileValues {
  avatarUrl?: string | null;
  phone?: string | null;
  title?: string | null;
  emergencyContactName?: string | null;
  emergencyContactSurname?: string | null;
  emergencyContactPhoneNumber?: string | null;
  bloodGroup?: string | null;
  bio?: string | null;
  languages?: string[] | null;
}

/** A partial update in core terms. An absent key is untouched; null clears where the field allows it. */
export interface UserPatch extends ProfileValues {
  username?: string | null;
  name?: string | null;
  email?: string;
  password?: string;
  isActive?: boolean;
  rootRoleId?: number;
  /** The admin surface's view of the root role: true → Admin (Owner stays Owner), false → Member. */
  isAdmin?: boolean;
}

export interface NewUser extends ProfileValues {
  username?: string | null;
  name?: string | null;
  email?: string | null;
  password?: string | null;
  isActive?: boolean;
  rootRoleId?: number;
  isAdmin?: boolean;
  emailVerified?: boolean;
  accountType?: string;
}

export interface UserListQuery {
  limit: number;
  /** Keyset cursor: users with a larger id; with `q`, users after (afterKey, afterId) in search order. */
  afterId?: number;
  /** With `q` and afterId: the search key of the last user of the previous page. */
  afterKey?: string;
  /** Case-insensitive prefix of email, username or name (results in search order: matching key, then id). */
  q?: string;
  isActive?: boolean;
  isAdmin?: boolean;
  /** Text the email contains (matched against the lower-cased email; a list in id order, not with `q`). */
  emailContains?: string;
}

/** Where the next page starts: after this id (lists), or after this key and id (searches). */
export interface UserCursor {
  id: number;
  key?: string;
}

/**
 * created_by of the one-time tokens a forgotten-password mail carries: they share the invite table with
 * invites (GET /auth/reset/validate and POST /auth/reset/password accept both).
 */
export const PASSWORD_RESET_TOKEN = 'password-reset';
