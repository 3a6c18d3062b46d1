// The audit log: what other modules and the core's users reach it by.
export {
  auditListenerOf, auditRow, AuditService, recordAudit, redactSecrets, setAuditListener,
  type AuditEventInput, type AuditListener, type AuditRow,
} from './service.js';
export type { AuditEvent, AuditQuery } from './store.js';
