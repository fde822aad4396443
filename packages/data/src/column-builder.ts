import type { RatingColumns } from './columns.ts';

/**
 * Accumulates ratings into typed columns (16 bytes per rating) and collapses duplicate (user, item) pairs to the
 * latest by timestamp (ties: the later row in the file wins). For watch history (`merge: 'sum'`) a repeated pair is
 * one interaction whose weight is the sum of its rows' weights (two plays weigh 2) and whose time is the latest.
 *
 * Memory: the capacity is sized once from a row-count estimate (file size / bytes per line) and the columns are
 * returned as exact-length views, so untouched capacity is never resident (Linux maps zero pages lazily); only when
 * the estimate is short do the columns grow by doubling. Duplicates are caught inline while each user's rows are
 * contiguous (GroupLens files are sorted by user); if a user reappears later, a final pass groups rows by user
 * (one extra Int32Array) and collapses what is left.
 */
export class ColumnBuilder {
  length = 0;
  duplicates = 0;
  #users: Int32Array;
  #items: Int32Array;
  #ratings: Float32Array;
  #timestamps: Int32Array;
  // Inline duplicate detection while each user's rows are contiguous.
  #grouped = true;
  #lastUser = -1;
  #run = 0;
  #userSeen: Uint8Array = new Uint8Array(1024);
  #itemRun: Int32Array = new Int32Array(1024);
  #itemRow: Int32Array = new Int32Array(1024);

  readonly #sum: boolean;

  constructor(capacity = 1024, merge: 'latest' | 'sum' = 'latest') {
    this.#sum = merge === 'sum';
    capacity = Math.max(16, Math.ceil(capacity));
    this.#users = new Int32Array(capacity);
    this.#items = new Int32Array(capacity);
    this.#ratings = new Float32Array(capacity);
    this.#timestamps = new Int32Array(capacity);
  }

  get capacity(): number {
    return this.#users.length;
  }

  /** Raises the capacity to at least `rows` (used once the first chunk gives a row estimate). */
  reserve(rows: number): void {
    if (rows > this.#users.length) this.#resize(Math.ceil(rows));
  }

  add(user: number, item: number, rating: number, timestamp: number): void {
    if (this.#grouped) {
      if (user !== this.#lastUser) {
        if (user >= this.#userSeen.length) this.#userSeen = growU8(this.#userSeen, user);
        if (this.#userSeen[user] === 1) this.#grouped = false;
        this.#userSeen[user] = 1;
        this.#lastUser = user;
        this.#run++;
      }
      if (this.#grouped) {
        if (item >= this.#itemRun.length) {
          this.#itemRun = growI32(this.#itemRun, item);
          this.#itemRow = growI32(this.#itemRow, item);
        }
        if (this.#itemRun[item] === this.#run) {
          const row = this.#itemRow[item]!;
          if (this.#sum) {
            this.#ratings[row]! += rating;
            if (timestamp > this.#timestamps[row]!) this.#timestamps[row] = timestamp;
          } else if (timestamp >= this.#timestamps[row]!) {
            this.#ratings[row] = rating;
            this.#timestamps[row] = timestamp;
          }
          this.duplicates++;
          return;
        }
        this.#itemRun[item] = this.#run;
        this.#itemRow[item] = this.length;
      }
    }
    const n = this.length;
    if (n === this.#users.length) this.#resize(n * 2);
    this.#users[n] = user;
    this.#items[n] = item;
    this.#ratings[n] = rating;
    this.#timestamps[n] = timestamp;
    this.length = n + 1;
  }

  #resize(capacity: number): void {
    const n = this.length;
    const users = new Int32Array(capacity);
    users.set(this.#users.subarray(0, n));
    this.#users = users;
    const items = new Int32Array(capacity);
    items.set(this.#items.subarray(0, n));
    this.#items = items;
    const ratings = new Float32Array(capacity);
    ratings.set(this.#ratings.subarray(0, n));
    this.#ratings = ratings;
    const timestamps = new Int32Array(capacity);
    timestamps.set(this.#timestamps.subarray(0, n));
    this.#timestamps = timestamps;
  }

  /** Final columns; collapses remaining duplicates when users were not contiguous. */
  finish(userCount: number, itemCount: number): RatingColumns {
    if (!this.#grouped) this.#collapseDuplicates(userCount, itemCount);
    const n = this.length;
    // Exact-length views; copy only when more than half the capacity is unused (then the copy is the smaller cost).
    const trim = <T extends Int32Array | Float32Array>(a: T): T =>
      (a.length > 2 * n + 1024 ? a.slice(0, n) : a.subarray(0, n)) as T;
    const cols: RatingColumns = {
      length: n,
      users: trim(this.#users),
      items: trim(this.#items),
      ratings: trim(this.#ratings),
      timestamps: trim(this.#timestamps),
    };
    this.#itemRun = this.#itemRow = new Int32Array(0);
    this.#userSeen = new Uint8Array(0);
    return cols;
  }

  /** Counting sort of row numbers by user (stable), then per user a last-row-per-item table; compacts in place. */
  #collapseDuplicates(userCount: number, itemCount: number): void {
    const n = this.length;
    const users = this.#users;
    const items = this.#items;
    const timestamps = this.#timestamps;
    const start = new Int32Array(userCount + 1);
    for (let r = 0; r < n; r++) start[users[r]! + 1]!++;
    for (let u = 0; u < userCount; u++) start[u + 1]! += start[u]!;
    const order = new Int32Array(n);
    const next = start.slice(0, userCount);
    for (let r = 0; r < n; r++) order[next[users[r]!]!++] = r;
    const mark = new Int32Array(itemCount).fill(-1);
    const rowOf = new Int32Array(itemCount);
    let dropped = 0;
    for (let u = 0; u < userCount; u++) {
      for (let k = start[u]!; k < start[u + 1]!; k++) {
        const r = order[k]!;
        const i = items[r]!;
        if (mark[i] === u) {
          const kept = rowOf[i]!;
          if (this.#sum) {
            // watch history: one row per pair, the weights summed, the latest time
            this.#ratings[kept]! += this.#ratings[r]!;
            if (timestamps[r]! > timestamps[kept]!) timestamps[kept] = timestamps[r]!;
            users[r] = -1;
          } else if (timestamps[r]! >= timestamps[kept]!) {
            // rows come in file order, so r is later than kept: r wins unless kept is strictly newer
            users[kept] = -1;
            rowOf[i] = r;
          } else users[r] = -1;
          dropped++;
        } else {
          mark[i] = u;
          rowOf[i] = r;
        }
      }
    }
    if (dropped === 0) return;
    let w = 0;
    for (let r = 0; r < n; r++) {
      if (users[r] === -1) continue;
      if (w !== r) {
        users[w] = users[r]!;
        items[w] = items[r]!;
        this.#ratings[w] = this.#ratings[r]!;
        timestamps[w] = timestamps[r]!;
      }
      w++;
    }
    this.length = w;
    this.duplicates += dropped;
  }
}

function growI32(a: Int32Array, index: number): Int32Array {
  let length = a.length;
  while (length <= index) length *= 2;
  const grown = new Int32Array(length);
  grown.set(a);
  return grown;
}

function growU8(a: Uint8Array, index: number): Uint8Array {
  let length = a.length;
  while (length <= index) length *= 2;
  const grown = new Uint8Array(length);
  grown.set(a);
  return grown;
}
