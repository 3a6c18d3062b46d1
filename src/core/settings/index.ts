// Server-wide settings: what other code reaches them by (rules: service.ts, SQL: store.ts).
export { resolveServerSecret } from './service.js';
