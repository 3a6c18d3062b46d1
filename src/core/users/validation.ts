// Identity rules shared by every surface: email syntax and normalisation, usernames, names.
import { invalid } from '../errors.js';
import { checkUsername, identityKey, type CheckedUsername } from '../identity/index.js';

const LOCAL_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LOCAL_RE = new RegExp(`^${LOCAL_ATOM}(\\.${LOCAL_ATOM})*$`);
const LABEL_RE = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const TLD_RE = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function hasControlChars(value: string): boolean {
  return CONTROL_RE.test(value);
}

/** A domain name with at least two labels and a real-looking TLD (lower-cased, no trailing dot). */
export function isValidDomain(domain: string): boolean {
  if (domain.length === 0 || domain.length > 253) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  if (!labels.every((l) => LABEL_RE.test(l))) return false;
  return TLD_RE.test(labels[labels.length - 1]);
}

export function isValidEmail(email: string): boolean {
  if (email.length > 254) return false;
  const at = email.lastIndexOf('@');
  if (at <= 0) return false;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64 || !LOCAL_RE.test(local)) return false;
  return isValidDomain(domain);
}

/** Trims and case-folds an email; throws invalid on `field` when it is not a real mailbox. */
export function normalizeEmail(raw: string, field = 'email'): string {
  const email = raw.trim().toLowerCase();
  if (!isValidEmail(email)) {
    throw invalid(field, 'invalid_email', 'Invalid email', {
      hint: 'Use a mailbox such as name@example.com (local part at most 64 characters, domain with a TLD, 254 in all)',
      constraints: { format: 'email', maxLength: 254 },
    });
  }
  return email;
}

export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

/** The case-insensitive lookup key of a username or name: the one identity key (core/identity). */
export function foldKey(value: string): string {
  return identityKey(value);
}

/** A username for storing: trimmed, checked (core/identity checkUsername), with its key and confusable skeleton. */
export function normalizeUsername(raw: string, field = 'username', maxLength = 255): CheckedUsername {
  return checkUsername(raw, field, maxLength);
}

/** Free text (names, titles, reasons): trimmed, no control characters, at most `maxLength` characters. */
export function normalizeText(raw: string, field: string, maxLength: number, allowNewlines = false): string {
  const value = raw.trim();
  if (Array.from(value).length > maxLength) {
    throw invalid(field, 'too_long', `${field} must be at most ${maxLength} characters`, { constraints: { maxLength } });
  }
  const probe = allowNewlines ? value.replace(/[\r\n\t]/g, '') : value;
  if (hasControlChars(probe)) {
    throw invalid(field, 'invalid_characters', `${field} must not contain control characters`);
  }
  return value;
}

/**
 * A picture URL a client will load (avatar_url, echoed as imageUrl): when it names a scheme, http or https
 * only. javascript:, data:, vbscript: or file: would run or load whatever the writer chose in the reader's
 * page. A value without a scheme (a relative reference, the contracts' "<string>" placeholder) names no
 * other scheme and stays accepted. Control characters, which browsers drop from a scheme, are refused before.
 */
export function checkImageUrl(value: string, field: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return;
  let ok = scheme === 'http' || scheme === 'https';
  if (ok) {
    try {
      ok = new URL(value).hostname !== '';
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw invalid(field, 'invalid_url', `${field} must be an http or https URL`, {
      hint: 'Use an absolute URL such as https://example.com/me.png',
      constraints: { format: 'uri', schemes: ['http', 'https'] },
    });
  }
}
