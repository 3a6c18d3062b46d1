// Tenants, memberships and tenant roles (directory v1).
// STUB: filled in by the directory issue.
import type { CoreDeps } from '../deps.js';

export class TenantsService {
  constructor(private readonly deps: CoreDeps) {}
}
