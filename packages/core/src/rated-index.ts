import type { RatingColumns } from '@movierec/data';

/**
 * The items each user rated in training, as compressed sparse rows: user u's items are
 * items[offsets[u] … offsets[u+1]), sorted ascending and without duplicates. Used to exclude rated movies from
 * recommendations with one merge-walk during the scoring loop.
 */
export interface RatedIndex {
  /** Length numUsers + 1. */
  readonly offsets: Int32Array;
  readonly items: Int32Array;
}

/** Builds the CSR index of (user → sorted rated items) from rating columns; O(n + numUsers) plus per-row sorts. */
export function buildRatedIndex(columns: RatingColumns, numUsers: number): RatedIndex {
  const n = columns.length;
  const counts = new Int32Array(numUsers + 1);
  for (let r = 0; r < n; r++) {
    const u = columns.users[r]!;
    if (u < 0 || u >= numUsers)
      throw new RangeError(`buildRatedIndex: row ${r} has user ${u} outside 0…${numUsers - 1}`);
    counts[u + 1]!++;
  }
  for (let u = 0; u < numUsers; u++) counts[u + 1]! += counts[u]!;
  const cursor = counts.slice(0, numUsers);
  const items = new Int32Array(n);
  for (let r = 0; r < n; r++) items[cursor[columns.users[r]!]!++] = columns.items[r]!;
  // sort each row and drop duplicate (user, item) pairs, compacting in place
  const offsets = new Int32Array(numUsers + 1);
  let write = 0;
  for (let u = 0; u < numUsers; u++) {
    const row = items.subarray(counts[u]!, counts[u + 1]!);
    row.sort();
    offsets[u] = write;
    let last = -1;
    for (let j = 0; j < row.length; j++) {
      const it = row[j]!;
      if (it !== last) items[write++] = it;
      last = it;
    }
  }
  offsets[numUsers] = write;
  return { offsets, items: write === n ? items : items.slice(0, write) };
}

/** User u's rated items (a view). */
export function ratedItems(index: RatedIndex, user: number): Int32Array {
  return index.items.subarray(index.offsets[user]!, index.offsets[user + 1]!);
}
