// The role model: five root roles with fixed ids (Unleash's ids for the same names), each a set of named
// permissions. Tenant roles (directory surface) live in the same table with type 'tenant'.
import type { Store } from '../../store/db.js';
import { createRolesStore, type RolesStore, type RoleView } from './store.js';
import { ADMIN_PERMISSION } from '../context.js';
import { invalid } from '../errors.js';

export const ROOT_ROLES = { Admin: 1, Editor: 2, Viewer: 3, Owner: 4, Member: 5 } as const;
export type RootRoleName = keyof typeof ROOT_ROLES;
export const ROOT_ROLE_NAMES: Record<number, RootRoleName> = { 1: 'Admin', 2: 'Editor', 3: 'Viewer', 4: 'Owner', 5: 'Member' };

// Mirrors the rows seeded by migration 0001 (root roles are fixed; their permissions never change at run time).
const ROOT_PERMISSIONS: Record<number, ReadonlySet<string>> = {
  1: new Set([ADMIN_PERMISSION]),
  2: new Set(['EDITOR', 'users.view']),
  3: new Set(['users.view']),
  4: new Set([ADMIN_PERMISSION]),
  5: new Set(),
};

export type { RoleView } from './store.js';

/** is_admin on the admin surface ⇔ root role Admin or Owner. */
export function isAdminRole(rootRoleId: number): boolean {
  return rootRoleId === ROOT_ROLES.Admin || rootRoleId === ROOT_ROLES.Owner;
}

export function rootRolePermissions(rootRoleId: number): ReadonlySet<string> {
  return ROOT_PERMISSIONS[rootRoleId] ?? new Set();
}

export function rootRoleName(rootRoleId: number): RootRoleName {
  return ROOT_ROLE_NAMES[rootRoleId] ?? 'Member';
}

/** A root role given as its id or its unique name (case-insensitive). Unknown → invalid on `field`. */
export function resolveRootRole(value: unknown, field = 'rootRole'): number {
  if (typeof value === 'number' && Number.isInteger(value) && ROOT_ROLE_NAMES[value]) return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed) && ROOT_ROLE_NAMES[Number(trimmed)]) return Number(trimmed);
    const match = (Object.keys(ROOT_ROLES) as RootRoleName[]).find((n) => n.toLowerCase() === trimmed.toLowerCase());
    if (match) return ROOT_ROLES[match];
  }
  throw invalid(field, 'unknown_role', `Unknown root role ${JSON.stringify(value)}: use an id (1-5) or one of Admin, Editor, Viewer, Owner, Member`, {
    constraints: { oneOf: Object.keys(ROOT_ROLES), ids: Object.values(ROOT_ROLES) },
  });
}

/** Reads of the role table (the root roles are fixed; their rows carry names and descriptions). */
export class RolesService {
  private readonly roles: RolesStore;

  constructor(store: Store) {
    this.roles = createRolesStore(store);
  }

  /** The five root roles, by id. */
  listRoot(): Promise<RoleView[]> {
    return this.roles.listRoot();
  }
}
