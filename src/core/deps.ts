// What every capability service may depend on: the base services built first by createCore.
import type { Config } from '../platform/config.js';
import type { Store } from '../store/db.js';
import type { AuthService } from './auth/index.js';
import type { PasswordHasher } from './passwords/index.js';
import type { SessionService } from './sessions/index.js';
import type { LoginThrottle } from './throttle/index.js';
import type { TokensService } from './tokens/index.js';
import type { UsersService } from './users/index.js';

export interface CoreDeps {
  config: Config;
  store: Store;
  secret: string;
  hasher: PasswordHasher;
  users: UsersService;
  auth: AuthService;
  sessions: SessionService;
  tokens: TokensService;
  throttle: LoginThrottle;
}
