import type { RecommendQuery, TopItems } from './recommender.ts';

/**
 * Bounded min-heap for top-k selection: O(n log k) over n candidates instead of a full O(n log n) sort.
 * The root holds the smallest of the k best scores seen so far; a new score enters only if it beats the root, so
 * −∞ and NaN never enter and, among equal scores, the first pushed (the lower index in a scan) is kept.
 */
export class TopK {
  readonly scores: Float64Array;
  readonly items: Int32Array;
  size = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(Math.max(0, k));
    this.items = new Int32Array(Math.max(0, k));
  }

  /** Smallest score kept so far (−∞ while fewer than k are held): candidates at or below it can be skipped. */
  get threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : this.scores[0]!;
  }

  push(item: number, score: number): void {
    const { scores, items, k } = this;
    if (this.size < k) {
      if (!(score > Number.NEGATIVE_INFINITY)) return;
      // sift up
      let j = this.size++;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (scores[parent]! <= score) break;
        scores[j] = scores[parent]!;
        items[j] = items[parent]!;
        j = parent;
      }
      scores[j] = score;
      items[j] = item;
      return;
    }
    if (k === 0 || !(score > scores[0]!)) return;
    // replace the root, sift down
    let j = 0;
    for (;;) {
      const left = 2 * j + 1;
      if (left >= k) break;
      const right = left + 1;
      const child = right < k && scores[right]! < scores[left]! ? right : left;
      if (scores[child]! >= score) break;
      scores[j] = scores[child]!;
      items[j] = items[child]!;
      j = child;
    }
    scores[j] = score;
    items[j] = item;
  }

  /** The kept items, columnar, best first (ties: lower item index first). */
  result(): TopItems {
    const n = this.size;
    const order = new Int32Array(n);
    for (let j = 0; j < n; j++) order[j] = j;
    const { scores, items } = this;
    order.sort((a, b) => scores[b]! - scores[a]! || items[a]! - items[b]!);
    const outItems = new Int32Array(n);
    const outScores = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      outItems[j] = items[order[j]!]!;
      outScores[j] = scores[order[j]!]!;
    }
    return { items: outItems, scores: outScores };
  }
}

/** `list` itself when ascending, else a sorted copy (the merge-walk below needs ascending order). */
export function ascending(list: Int32Array): Int32Array {
  for (let j = 1; j < list.length; j++) if (list[j - 1]! > list[j]!) return list.slice().sort();
  return list;
}

/**
 * THE top-k of the serving path (every model's `recommend`/`similarItems`/`explain` goes through it): the k best
 * of score_i = scores[i] (+ add[i] when given) over i < scores.length, skipping `query.exclude` (a merge-walk over
 * the ascending list; duplicates and out-of-range entries are harmless) and items with `allowed[i] === 0`. −∞ and
 * NaN scores are never returned. Best first, ties to the lower index. One pass, O(n log k).
 */
export function topK(scores: Float32Array, query: RecommendQuery, add?: Float32Array): TopItems {
  const { k, allowed } = query;
  if (!(Number.isInteger(k) && k >= 0))
    throw new RangeError(`top-k: k must be a non-negative integer, got ${k}`);
  const n = scores.length;
  if (allowed !== undefined && allowed.length < n)
    throw new RangeError(`top-k: allowed has length ${allowed.length}, expected ${n} (one flag per item)`);
  if (add !== undefined && add.length < n)
    throw new RangeError(`top-k: the added term has length ${add.length}, expected ${n}`);
  const exclude = query.exclude === undefined ? undefined : ascending(query.exclude);
  const heap = new TopK(Math.min(k, n));
  const exLength = exclude ? exclude.length : 0;
  let ex = 0;
  let threshold = heap.threshold;
  for (let i = 0; i < n; i++) {
    if (ex < exLength) {
      while (ex < exLength && exclude![ex]! < i) ex++;
      if (ex < exLength && exclude![ex] === i) continue;
    }
    const score = add === undefined ? scores[i]! : scores[i]! + add[i]!;
    if (score > threshold) {
      if (allowed !== undefined && allowed[i] === 0) continue;
      heap.push(i, score);
      threshold = heap.threshold;
    }
  }
  return heap.result();
}
