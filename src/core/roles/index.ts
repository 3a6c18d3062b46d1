// The role model: what other code reaches it by (rules: service.ts, SQL: store.ts).
export * from './service.js';
