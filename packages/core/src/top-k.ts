/**
 * Bounded min-heap for top-k selection: O(n log k) over n candidates instead of a full O(n log n) sort.
 * The root holds the smallest of the k best scores seen so far; a new score enters only if it beats the root.
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

  /** The kept items, best first (ties by lower item index first). */
  sorted(): { item: number; score: number }[] {
    const out: { item: number; score: number }[] = [];
    for (let j = 0; j < this.size; j++) out.push({ item: this.items[j]!, score: this.scores[j]! });
    out.sort((a, b) => b.score - a.score || a.item - b.item);
    return out;
  }
}
