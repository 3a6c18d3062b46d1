// Webhook subscriptions: what the module offers (rules and the sender: ./service.ts; SQL: ./store.ts;
// signing: ./sign.ts; the receiver check: ./target.ts).
export { KNOWN_EVENT_TYPES, SUBSCRIPTION_TTL_MS, WebhooksService, type Webhook, type WebhookInput } from './service.js';
export type { WebhookRow } from './store.js';
export { isPrivateAddress } from './target.js';
export { signatureOf } from './sign.js';
