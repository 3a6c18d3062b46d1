// The transactional outbox: what the module offers (rules and the dispatcher: ./service.ts; SQL: ./store.ts;
// payload sealing: ./seal.ts).
export { backoffMs, DELIVERED_RETENTION_DAYS, newMessageId, Outbox, type SendResult, type Sender } from './service.js';
export {
  deleteWebhookMessages, killWebhookMessages,
  type MessageQuery, type NewOutboxRow, type OutboxRow, type OutboxStatus,
} from './store.js';
export { Sealer } from './seal.js';
