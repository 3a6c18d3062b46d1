// One identity key. Every place that compares identities (sign-in lookup, uniqueness, the sign-in throttle's
// account key, ban matching) goes through the functions below, so a spelling that one of them treats as
// "alice" is "alice" for all of them.
//
// The comparison key (identityKey): NFKC, then lower case, then the Greek final sigma folded to σ, then NFKC
// again. JavaScript has no full case folding (Unicode CaseFolding.txt, status C+F); toLowerCase is its
// closest stand-in, and the differences that matter here are patched: toLowerCase turns a word-final Σ into
// ς where folding gives σ, so the same name in capitals and in lower case would get two keys. What is left
// out of full folding on purpose: ß and ẞ stay ß (full folding makes them "ss", which would merge
// "straße" with an existing "strasse" account under a new rule), and a few compatibility folds NFKC already
// does (ſ → s, ﬁ → fi, fullwidth and mathematical letters → ASCII). The second NFKC puts back into normal
// form what lower-casing may take out of it.
//
// The confusable skeleton (identitySkeleton): Unicode Technical Standard #39 §4 — NFD, each character
// replaced by its prototype from the confusables table, NFD again — applied to the comparison key with
// default-ignorable and format characters (zero-width space, soft hyphen, bidi controls, …) removed first,
// and lower-cased once more (the table's prototypes include capitals: 0 → O; in a case-insensitive
// namespace O and o are one letter, so b0b, bOb and bob share a skeleton). Two usernames with one skeleton
// look alike: "alice" and Cyrillic "аlice", "paypal" and "раураl", but also "amie" and "arnie" (m → rn) and
// "user1" and "userl" (1 → l), as the standard intends. Names in one script that look like nothing else keep
// a skeleton of their own ("иван" ≠ "ivan"), so non-Latin names are accepted; they only conflict with a name
// that looks the same.
//
// The table comes from the `unhomoglyph` package: Unicode's confusables.txt (version 13.0.0), one prototype
// per source code point, made for exactly this comparison ("prohibit register similar looking nicknames").
import unhomoglyph from 'unhomoglyph';
import { invalid } from '../errors.js';

/**
 * Characters a username may not hold: controls (C0, C1, DEL), format characters (zero-width space and
 * joiners, soft hyphen, word joiner, BOM, bidi embeddings, overrides and isolates, tag characters),
 * default-ignorable code points (variation selectors, Hangul fillers, combining grapheme joiner, …), lone
 * surrogates, private-use characters, and the line and paragraph separators. Each either renders as nothing
 * or can reorder or disguise the characters around it.
 */
const FORBIDDEN_IN_USERNAME = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u;
/** The same set, every occurrence: what the skeleton drops (rows and ban values from before the rule). */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/gu;

/** The comparison key of an identity string (username, email, name): NFKC, lower case, σ for ς, NFKC. */
export function identityKey(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(/ς/g, 'σ').normalize('NFKC');
}

/** The comparison key of an email address (stored addresses are ASCII, so this is their lower case). */
export function emailKey(raw: string): string {
  return identityKey(raw.trim());
}

/** The comparison key of a username, or of a sign-in identifier (matched against email and username keys). */
export function usernameKey(raw: string): string {
  return identityKey(raw.trim());
}

/** UTS #39 skeleton: NFD, every code point through the confusables table, NFD. */
function tr39(value: string): string {
  return unhomoglyph(value.normalize('NFD')).normalize('NFD');
}

/**
 * The confusable skeleton of a username (or of a name ban's value, or an alias's local part): equal for two
 * strings that look alike. Not for display: "m" becomes "rn".
 */
export function identitySkeleton(raw: string): string {
  return tr39(tr39(usernameKey(raw).replace(INVISIBLE, '')).toLowerCase());
}

/** The first character a username may not hold, as U+XXXX; undefined when there is none. */
export function forbiddenUsernameCharacter(value: string): string | undefined {
  const m = FORBIDDEN_IN_USERNAME.exec(value);
  if (!m) return undefined;
  return `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

export interface CheckedUsername {
  /** As given, trimmed: what is stored and shown. */
  username: string;
  /** identityKey: unique, matched at sign-in. */
  key: string;
  /** identitySkeleton: unique, so no two usernames look alike; matched by name bans. */
  skeleton: string;
}

/**
 * Validates a username for storing (create, rename) and returns its key and skeleton. Throws 400 on `field`:
 * too_short / too_long, invalid_username (contains "@", also once folded: a fullwidth ＠ is "@"),
 * invalid_characters (controls, invisible, format and bidi characters: see FORBIDDEN_IN_USERNAME).
 */
export function checkUsername(raw: string, field = 'username', maxLength = 255): CheckedUsername {
  const username = raw.trim();
  if (username.length === 0) {
    throw invalid(field, 'too_short', 'Username must not be empty', { constraints: { minLength: 1, maxLength } });
  }
  if (Array.from(username).length > maxLength) {
    throw invalid(field, 'too_long', `Username must be at most ${maxLength} characters`, { constraints: { minLength: 1, maxLength } });
  }
  const key = usernameKey(username);
  // The fold counts too: NFKC turns a fullwidth ＠ (U+FF20) or ﹫ into "@", and the key is what sign-in matches.
  if (username.includes('@') || key.includes('@')) {
    throw invalid(field, 'invalid_username', 'Username must not contain "@"', { hint: 'Usernames cannot look like emails' });
  }
  const bad = forbiddenUsernameCharacter(username) ?? forbiddenUsernameCharacter(key);
  if (bad !== undefined) {
    throw invalid(field, 'invalid_characters', `Username must not contain control, invisible, format or bidirectional characters (found ${bad})`, {
      hint: 'Remove zero-width, soft hyphen, direction-override and other invisible characters',
    });
  }
  return { username, key, skeleton: identitySkeleton(username) };
}
