// Users: what the module offers (rules: ./service.ts; SQL and rows: ./store.ts; input rules: ./validation.ts).
export {
  auditView, emptyPatchError, isEmptyPatch, LANGUAGES, UsersService,
  type IdentityGuard, type IdentityHook, type IdentityLock, type IdentityPrecheck, type UpdateOptions, type UpdateResult,
} from './service.js';
export { findUserRow, toUser, type PageRead, type UserRow } from './store.js';
export * from './types.js';
