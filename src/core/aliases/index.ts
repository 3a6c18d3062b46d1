// Aliases: what other code reaches them by (rules: service.ts, SQL: store.ts).
export { aliasEtag, AliasesService, type AliasGuard, type AliasPatch, type NewAlias } from './service.js';
export type { Alias, AliasListQuery } from './store.js';
