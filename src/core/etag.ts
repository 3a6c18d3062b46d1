// Entity tags for optimistic concurrency: every versioned record (users, bans, aliases, tenants, roles) is
// tagged by its id and version, and a write sent with `If-Match` applies only while the tag still matches.

/** The strong entity tag of a versioned record. */
export function etagOf(record: { id: number; version: number }): string {
  return `"${record.id}.${record.version}"`;
}

/** True when `ifMatch` (a list of entity tags, or `*`) matches the record's current tag. Weak tags compare by value. */
export function ifMatchSatisfied(ifMatch: string, record: { id: number; version: number }): boolean {
  const current = etagOf(record);
  return ifMatch
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === current);
}
