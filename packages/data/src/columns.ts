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

/** New columns of `n` rows, all zero, to be filled. */
export function allocColumns(n: number): RatingColumns {
  return {
    length: n,
    users: new Int32Array(n),
    items: new Int32Array(n),
    ratings: new Float32Array(n),
    timestamps: new Int32Array(n),
  };
}

/** Selects rows of `cols` (by row number) into new compact columns. */
export function takeRows(cols: RatingColumns, rows: ArrayLike<number>): RatingColumns {
  const out = allocColumns(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    out.users[j] = cols.users[r]!;
    out.items[j] = cols.items[r]!;
    out.ratings[j] = cols.ratings[r]!;
    out.timestamps[j] = cols.timestamps[r]!;
  }
  return out;
}
