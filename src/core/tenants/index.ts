// Tenants, memberships and tenant roles: what the module offers (rules: ./service.ts; SQL: ./store.ts).
export {
  TENANT_PERMISSIONS, TenantsService,
  type DirectoryListInput, type DirectoryUser, type TenantAccess, type TenantPermission,
} from './service.js';
export { SORT_COLUMNS, type SortBy, type Tenant, type TenantRole } from './store.js';
