// Export and import of the whole directory (users with their hashes, roles and tenant memberships): what the
// module offers (rules: ./service.ts; SQL: ./store.ts). It sits above users and tenants, which know nothing of it.
export { exportBatches, UserImporter, type ExportedUser, type ImportOutcome, type ImportRecord, type PreparedBatch } from './service.js';
