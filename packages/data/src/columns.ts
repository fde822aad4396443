/**
 * Columnar rating data: the one shape every reader produces and every engine consumes.
 * Row r is (users[r], items[r], ratings[r], timestamps[r]); indices are dense (see IdMap).
 */
export interface RatingColumns {
  /** Number of ratings; arrays may be longer (capacity), only [0, length) is meaningful. */
  readonly length: number;
  /** Dense user index per rating, 0 ≤ u < userIds.size. */
  readonly users: Int32Array;
  /** Dense item (movie) index per rating, 0 ≤ i < itemIds.size. */
  readonly items: Int32Array;
  /** Rating value (e.g. 0.5 … 5.0 in half steps). */
  readonly ratings: Float32Array;
  /** Unix time in seconds; 0 where the source has none. */
  readonly timestamps: Int32Array;
}

/** Selects rows of `cols` (by row number) into new compact columns. */
export function takeRows(cols: RatingColumns, rows: ArrayLike<number>): RatingColumns {
  const n = rows.length;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const ratings = new Float32Array(n);
  const timestamps = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const r = rows[j]!;
    users[j] = cols.users[r]!;
    items[j] = cols.items[r]!;
    ratings[j] = cols.ratings[r]!;
    timestamps[j] = cols.timestamps[r]!;
  }
  return { length: n, users, items, ratings, timestamps };
}
