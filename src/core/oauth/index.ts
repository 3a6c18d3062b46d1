// OAuth2: clients, the token endpoint's grants, EdDSA access tokens and the JWKS.
// STUB: filled in by the directory issue.
import type { CoreDeps } from '../deps.js';

export class OAuthService {
  constructor(private readonly deps: CoreDeps) {}
}
