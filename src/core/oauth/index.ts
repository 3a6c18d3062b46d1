// OAuth2 for the directory surface: what other code reaches it by (rules: service.ts, SQL: store.ts,
// signing keys: keys.ts).
export * from './service.js';
export type { GrantType, OAuthClient } from './store.js';
