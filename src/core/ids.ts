// Values the core's callers need to bound and show what the store keeps, without reaching into the store:
// the largest id a row can have (route schemas bound ids by it) and timestamps as ISO-8601 text (the store
// returns a Date on PostgreSQL, text on SQLite).
export { MAX_ID, toIso } from '../store/sql.js';
