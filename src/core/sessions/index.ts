// The session store, one for every surface: what the module offers (rules: ./service.ts; SQL: ./store.ts).
export {
  createSession, endUserCredentials, issueRefreshToken, rotateSessionToken, SessionService,
  type ActiveSession, type EndWhat, type NewSessionInput, type RefreshOutcome, type SessionInfo, type SessionKind,
} from './service.js';
export { revokeSession, revokeUserSessions } from './store.js';
