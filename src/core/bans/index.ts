// Bans (seed 001): what other code reaches them by (rules: service.ts, SQL: store.ts, the ip ban cache:
// cache.ts, value rules: values.ts, address ranges: ip.ts).
export {
  banEtag, BansService, REASON_MAX,
  type AliasDisabler, type BanPatch, type BanWriteResult, type NewBan,
} from './service.js';
export { BAN_TYPES, type BanType, type BanProbe } from './values.js';
export { isBanActive, type Ban, type BanListQuery } from './store.js';
export type { BanNotice } from './cache.js';
