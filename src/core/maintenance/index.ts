// Housekeeping: what other code reaches it by (rules: service.ts, SQL: store.ts).
export { purgeExpired, schedulePurge, type PurgeResult } from './service.js';
