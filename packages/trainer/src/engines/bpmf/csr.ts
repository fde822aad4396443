import type { RatingColumns } from '@movierec/data';

/**
 * Compressed rows of a rating matrix: for each row entity (user or item) the columns it rated and the rating
 * rows' values, contiguous. `start[r] … start[r+1]` indexes `cols` / `values`.
 */
export interface Csr {
  readonly rows: number;
  readonly start: Int32Array;
  readonly cols: Int32Array;
  readonly values: Float32Array;
}

/**
 * Groups ratings by user (byUser = true) or by item, in the order they appear; `shared`: the arrays live on
 * SharedArrayBuffers (for worker threads).
 */
export function toCsr(train: RatingColumns, rows: number, byUser: boolean, shared = false): Csr {
  const n = train.length;
  const keys = byUser ? train.users : train.items;
  const other = byUser ? train.items : train.users;
  const buffer = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const start = new Int32Array(buffer(4 * (rows + 1)));
  for (let r = 0; r < n; r++) start[keys[r]! + 1]!++;
  for (let r = 0; r < rows; r++) start[r + 1]! += start[r]!;
  const fill = start.slice(0, rows);
  const cols = new Int32Array(buffer(4 * n));
  const values = new Float32Array(buffer(4 * n));
  for (let r = 0; r < n; r++) {
    const k = keys[r]!;
    const at = fill[k]!++;
    cols[at] = other[r]!;
    values[at] = train.ratings[r]!;
  }
  return { rows, start, cols, values };
}
