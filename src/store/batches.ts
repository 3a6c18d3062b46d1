// Reading a table of any size a batch at a time, on both engines.
//
// A keyset read: each batch is one short statement (`… where key > $last order by key limit $size`) over an
// index, so no connection, cursor or snapshot is held between batches. A consumer that stops asking (a
// client that went away) costs at most the batch in flight; there is nothing to close. Rows written while a
// read is under way may or may not be seen, exactly as when a client pages through the same list itself.

/** The rows of one keyset page after `after` (every row when undefined), at most `limit`, in key order. */
export type KeysetPage<T, K = number> = (after: K | undefined, limit: number) => Promise<T[]>;

/**
 * Every row `page` reads, `size` at a time, in key order. `keyOf` gives a row's key (what the next page
 * starts after). Stops after a short batch (no extra statement to find the end when the last one is full
 * and the table ends there: that one costs an empty read).
 */
export async function* keysetBatches<T, K = number>(page: KeysetPage<T, K>, keyOf: (row: T) => K, size: number): AsyncGenerator<T[], void, undefined> {
  let after: K | undefined;
  for (;;) {
    const rows = await page(after, size);
    if (rows.length > 0) yield rows;
    if (rows.length < size) return;
    after = keyOf(rows[rows.length - 1]);
  }
}
