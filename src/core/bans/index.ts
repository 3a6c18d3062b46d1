// Bans (seed 001): email, domain, ip and name bans, their enforcement and history.
// STUB: filled in by the bans issue.
import type { CoreDeps } from '../deps.js';

export class BansService {
  constructor(private readonly deps: CoreDeps) {}

  /** Registers the identity and login guards that make bans apply on every surface. */
  install(): void {}
}
