// Sign-in credential checks and the credential policy: what the module offers (rules: ./service.ts and
// ./credentials.ts; SQL: ./store.ts; what a request reads ahead with its credentials: ./read-ahead.ts).
export { accountThrottleKey, AuthService, type LoginGuard } from './service.js';
export { bannedNow, mayAct, NO_BAN_END, type Standing } from './credentials.js';
