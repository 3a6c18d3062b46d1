// The password rules of the user-admin surface (Unleash checks passwords with owasp-password-strength-test's
// defaults): 10 to 128 characters, no character three times in a row, and unless it is a passphrase of 20 or
// more characters, at least one lowercase letter, one uppercase letter, one digit and one other character.
import { invalid } from '../errors.js';
import { checkPassword, type PasswordPolicy } from './index.js';

/** The length limits that go with the strength rules (as a PasswordPolicy). */
export const STRONG_PASSWORD_POLICY: PasswordPolicy = { min: 10, max: 128 };

/** Every rule the password breaks (empty when it is strong). */
export function passwordStrengthIssues(password: string): string[] {
  const issues: string[] = [];
  const length = Array.from(password).length;
  if (length < 10) issues.push('The password must be at least 10 characters long.');
  if (length > 128) issues.push('The password must be fewer than 128 characters.');
  if (/(.)\1\1/su.test(password)) issues.push('The password may not contain sequences of three or more repeated characters.');
  if (length < 20) {
    if (!/\p{Ll}/u.test(password)) issues.push('The password must contain at least one lowercase letter.');
    if (!/\p{Lu}/u.test(password)) issues.push('The password must contain at least one uppercase letter.');
    if (!/[0-9]/.test(password)) issues.push('The password must contain at least one number.');
    if (!/[^\p{L}\p{N}]/u.test(password)) issues.push('The password must contain at least one special character.');
  }
  return issues;
}

/** Throws invalid on `field` (message = the first broken rule, details.issues = all) unless the password is strong. */
export function checkStrongPassword(password: string, field = 'password'): void {
  checkPassword(field, password, { min: 1, max: 1024 });
  const issues = passwordStrengthIssues(password);
  if (issues.length > 0) {
    throw invalid(field, 'weak_password', issues[0], { details: { issues }, constraints: { minLength: 10, maxLength: 128 } });
  }
}
