import type { RatingColumns } from './columns.ts';
import { Rng } from './rng.ts';

/** A train/test split of rating columns, with how many test users/items never appear in train (cold start). */
export interface Split {
  readonly train: RatingColumns;
  readonly test: RatingColumns;
  /** Distinct users with a test rating and no training rating. */
  readonly unseenUsers: number;
  /** Distinct items with a test rating and no training rating. */
  readonly unseenItems: number;
}

/** Rows where mask[r] === value, in their original order. */
function takeMask(cols: RatingColumns, mask: Uint8Array, value: number): RatingColumns {
  const n = cols.length;
  let m = 0;
  for (let r = 0; r < n; r++) if (mask[r] === value) m++;
  const users = new Int32Array(m);
  const items = new Int32Array(m);
  const ratings = new Float32Array(m);
  const timestamps = new Int32Array(m);
  let w = 0;
  for (let r = 0; r < n; r++) {
    if (mask[r] !== value) continue;
    users[w] = cols.users[r]!;
    items[w] = cols.items[r]!;
    ratings[w] = cols.ratings[r]!;
    timestamps[w] = cols.timestamps[r]!;
    w++;
  }
  return { length: m, users, items, ratings, timestamps };
}

function maxPlusOne(a: Int32Array, n: number): number {
  let m = -1;
  for (let r = 0; r < n; r++) if (a[r]! > m) m = a[r]!;
  return m + 1;
}

/** Counts distinct ids among test rows (mask === testValue) that have no train row. */
function unseen(ids: Int32Array, n: number, mask: Uint8Array, testValue: number): number {
  const size = maxPlusOne(ids, n);
  const state = new Uint8Array(size); // bit 1: in train, bit 2: in test
  for (let r = 0; r < n; r++) state[ids[r]!]! |= mask[r] === testValue ? 2 : 1;
  let count = 0;
  for (let k = 0; k < size; k++) if (state[k] === 2) count++;
  return count;
}

/** Split by a mask: rows with isTest[r] === 1 go to test, the rest to train, both in original order. */
function splitByMask(cols: RatingColumns, isTest: Uint8Array): Split {
  const n = cols.length;
  return {
    train: takeMask(cols, isTest, 0),
    test: takeMask(cols, isTest, 1),
    unseenUsers: unseen(cols.users, n, isTest, 1),
    unseenItems: unseen(cols.items, n, isTest, 1),
  };
}

function checkRatio(name: string, x: number): void {
  if (!(x > 0 && x < 1)) throw new RangeError(`${name} must be strictly between 0 and 1, got ${x}`);
}

/** Marks exactly round(n·ratio) rows, chosen uniformly (partial Fisher–Yates over row numbers). */
function sampleRows(n: number, count: number, rng: Rng): Uint8Array {
  const mask = new Uint8Array(n);
  const perm = new Int32Array(n);
  for (let r = 0; r < n; r++) perm[r] = r;
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
    mask[perm[i]!] = 1;
  }
  return mask;
}

/** Random holdout: exactly round(n · testRatio) ratings, uniformly at random, go to test. */
export function randomSplit(cols: RatingColumns, options: { testRatio: number; seed: number }): Split {
  checkRatio('testRatio', options.testRatio);
  const n = cols.length;
  const mask = sampleRows(n, Math.round(n * options.testRatio), new Rng(options.seed));
  return splitByMask(cols, mask);
}

export interface UserHoldoutOptions {
  /** 'recent': each user's latest ratings by timestamp (ties: later row); 'random': a random subset per user. */
  strategy: 'random' | 'recent';
  /** Hold out this many ratings per user … */
  k?: number;
  /** … or this fraction of each user's ratings (rounded); default 0.2 when k is absent. */
  fraction?: number;
  /** Users keep at least this many ratings in train (default 1); users with fewer ratings are all train. */
  minTrain?: number;
  /** Seed for 'random' (default 0). */
  seed?: number;
}

/** Per-user holdout for ranking evaluation: every user with enough ratings has some in test, the rest in train. */
export function userHoldout(cols: RatingColumns, options: UserHoldoutOptions): Split {
  const { strategy, k } = options;
  const fraction = options.fraction ?? 0.2;
  const minTrain = options.minTrain ?? 1;
  if (k !== undefined && !(Number.isInteger(k) && k >= 1))
    throw new RangeError(`k must be an integer ≥ 1, got ${k}`);
  if (k === undefined) checkRatio('fraction', fraction);
  if (strategy !== 'random' && strategy !== 'recent') {
    throw new RangeError(`strategy must be 'random' or 'recent', got ${JSON.stringify(strategy)}`);
  }
  const n = cols.length;
  const userCount = maxPlusOne(cols.users, n);
  // counting sort of row numbers by user, stable (rows stay in file order within a user)
  const start = new Int32Array(userCount + 1);
  for (let r = 0; r < n; r++) start[cols.users[r]! + 1]!++;
  for (let u = 0; u < userCount; u++) start[u + 1]! += start[u]!;
  const order = new Int32Array(n);
  const next = start.slice(0, userCount);
  for (let r = 0; r < n; r++) order[next[cols.users[r]!]!++] = r;
  const rng = new Rng(options.seed ?? 0);
  const ts = cols.timestamps;
  const mask = new Uint8Array(n);
  for (let u = 0; u < userCount; u++) {
    const s = start[u]!;
    const count = start[u + 1]! - s;
    const want = k ?? Math.round(count * fraction);
    const h = Math.min(want, count - minTrain);
    if (h <= 0) continue;
    const rows = order.subarray(s, s + count);
    if (strategy === 'recent') {
      rows.sort((a, b) => ts[a]! - ts[b]! || a - b);
      for (let j = count - h; j < count; j++) mask[rows[j]!] = 1;
    } else {
      for (let j = 0; j < h; j++) {
        const pick = j + rng.int(count - j);
        const t = rows[j]!;
        rows[j] = rows[pick]!;
        rows[pick] = t;
        mask[rows[j]!] = 1;
      }
    }
  }
  return splitByMask(cols, mask);
}

/**
 * k-fold cross-validation: rows are shuffled once (by seed) and cut into k near-equal folds; fold f tests on its
 * rows and trains on the rest. Train/test columns are built when first read, so k folds of a big set do not all
 * sit in memory at once.
 */
export function kFold(cols: RatingColumns, options: { k: number; seed: number }): Split[] {
  const { k } = options;
  if (!(Number.isInteger(k) && k >= 2 && k <= 255))
    throw new RangeError(`k must be an integer in 2…255, got ${k}`);
  const n = cols.length;
  if (n < k) throw new RangeError(`kFold: ${n} ratings cannot make ${k} folds`);
  const perm = new Rng(options.seed).permutation(n);
  const foldOf = new Uint8Array(n);
  // fold f holds shuffled positions [⌊f·n/k⌋, ⌊(f+1)·n/k⌋)
  for (let f = 0; f < k; f++) {
    for (let j = Math.floor((f * n) / k); j < Math.floor(((f + 1) * n) / k); j++) foldOf[perm[j]!] = f;
  }
  const folds: Split[] = [];
  for (let f = 0; f < k; f++) {
    const isTest = () => foldOf.map((v) => (v === f ? 1 : 0));
    let built: Split | undefined;
    const get = () => {
      built ??= splitByMask(cols, isTest());
      return built;
    };
    const mask = isTest();
    const unseenUsers = unseen(cols.users, n, mask, 1);
    const unseenItems = unseen(cols.items, n, mask, 1);
    folds.push({
      get train() {
        return get().train;
      },
      get test() {
        return get().test;
      },
      unseenUsers,
      unseenItems,
    });
  }
  return folds;
}
