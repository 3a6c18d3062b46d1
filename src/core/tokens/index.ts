// API tokens, admin and personal: what the module offers (rules: ./service.ts; SQL: ./store.ts).
export { TokensService, type ApiToken, type TokenKind } from './service.js';
