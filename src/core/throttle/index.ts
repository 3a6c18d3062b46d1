// Throttling: what other code reaches it by (sign-in counters: service.ts, sign-up gate: signup.ts, SQL: store.ts).
export { addressKey, LoginThrottle, type ThrottleLimits } from './service.js';
export { SignUpGate, type SignUpPolicy } from './signup.js';
