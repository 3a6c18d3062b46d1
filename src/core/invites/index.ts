// User-admin invites: what the module offers (rules: ./service.ts; SQL: ./store.ts).
export { InvitesService } from './service.js';
