// One user's ways in, for administrators: what the module offers (rules: ./service.ts; SQL: ./store.ts).
export { MAX_SESSIONS_LISTED, UserAccessService } from './service.js';
export type { UserMembershipView, UserSessionView, UserTokenView } from './store.js';
