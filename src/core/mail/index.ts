// Mail through the outbox: what the module offers (the sender: ./service.ts; the account flows that send
// mail: ./flows.ts; the templates: ./templates.ts; SQL: ./store.ts).
export { mailSummary, MailService } from './service.js';
export { AccountMail, RESET_INTERVAL_SECONDS, RESET_TTL_SECONDS, VERIFY_TTL_SECONDS, type VerificationRequest } from './flows.js';
export { TEMPLATE_NAMES, type Template, type TemplateName } from './templates.js';
