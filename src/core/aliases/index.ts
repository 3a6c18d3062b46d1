// Aliases: forwarding addresses (address → goto mailbox), the resource bans act on.
// STUB: filled in by the bans issue.
import type { CoreDeps } from '../deps.js';

export class AliasesService {
  constructor(private readonly deps: CoreDeps) {}
}
