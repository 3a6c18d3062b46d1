// timestamptzToIso reads PostgreSQL's UTC timestamp text by position. It must give exactly what a Date
// parsed by node-postgres's own parser prints (toISOString), for every fraction length, and hand anything
// else (infinity, other offsets, years past 9999, BC) to that parser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { timestamptzToIso } from '../src/store/db.js';

const pgParse = pg.types.getTypeParser(1184, 'text') as (text: string) => Date | number;

/** PostgreSQL's text for a UTC instant with `digits` digits of fraction (trailing zeros dropped, as it prints them). */
function pgText(epochMicros: number, digits: number): string {
  const d = new Date(Math.floor(epochMicros / 1000));
  const micros = String(epochMicros % 1_000_000).padStart(6, '0').slice(0, digits).replace(/0+$/, '');
  const base = d.toISOString().slice(0, 19).replace('T', ' ');
  return `${base}${micros ? `.${micros}` : ''}+00`;
}

describe('timestamptzToIso', () => {
  it('matches node-postgres parsing for 30,000 instants and every fraction length', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const seen = new Set<number>();
    for (let i = 0; i < 30_000; i++) {
      // 1970..2400, microsecond resolution
      const micros = Math.floor(rand() * 13_600_000_000) * 1_000_000 + Math.floor(rand() * 1_000_000);
      const text = pgText(micros, i % 7);
      seen.add(text.length);
      const expected = (pgParse(text) as Date).toISOString();
      assert.equal(timestamptzToIso(text), expected, text);
    }
    // every shape: no fraction (22 characters) and 1 to 6 digits (24 to 29)
    assert.deepEqual([...seen].sort(), [22, 24, 25, 26, 27, 28, 29]);
  });

  it('gives anything else to node-postgres', () => {
    for (const text of ['infinity', '-infinity', '10000-01-01 00:00:00+00', '0001-01-01 00:00:00+00 BC', '2026-11-23 15:00:00+05:30', '2026-11-23 15:00:00.1234567+00']) {
      const got = timestamptzToIso(text);
      const want = pgParse(text);
      assert.ok(typeof got !== 'string', `${text} must not be rewritten`);
      assert.equal(String(got), String(want), text);
    }
  });
});
