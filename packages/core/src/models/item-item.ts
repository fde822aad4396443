import type { Recommender, RecommendQuery, TopItems, UserHistory, UserState } from '../recommender.ts';
import { TopK, topK } from '../top-k.ts';
import {
  type Csr,
  checkHistory,
  csrRow,
  type HistoryWeighting,
  historyWeights,
  NO_WEIGHTING,
} from './common.ts';
import { HistoryModel, type HistoryModelInit } from './history-model.ts';

/** Score of an item an item-item model cannot score (dense model, item outside the kept catalogue): ranks last. */
export const UNSCORED = -1e9;

/** Tie-break added to every score: ε·pop_i / max pop (so equal scores, e.g. 0 in a sparse model, go popular first). */
const TIE_BREAK = 1e-6;

/**
 * The weights of an item-item model, in "contribution" orientation: row j says how much having j in one's history
 * adds to the score of each other item, s_ui = Σ_j x_uj·W_ji.
 * - dense (EASE): W = B restricted to the `kept` items (m × m float32, row-major, B[a·m + b] = B_{kept[a], kept[b]});
 * - sparse (item-kNN): CSR over all items, row j = the items i that have j among their top neighbours, with
 *   sim(i, j) — each item's top-K list, transposed.
 */
export type ItemWeights =
  | { kind: 'dense'; kept: Int32Array; matrix: Float32Array }
  | { kind: 'sparse'; rows: Csr };

/** `history` holds x_uj already weighted (HistoryWeighting); `popularity` is also the tie-break. */
export interface ItemItemModelInit extends HistoryModelInit {
  weights: ItemWeights;
  weighting?: HistoryWeighting;
}

/** An item-item model's user: the weighted history x_u (items ascending). */
export interface ItemItemUserState extends UserState {
  readonly items: Int32Array;
  readonly weights: Float32Array;
}

/**
 * An item-item ranking model as a Recommender: s_ui = Σ_{j ∈ history(u)} x_uj·W_ji, with W the EASE weight matrix B
 * (Steck, "Embarrassingly shallow autoencoders for sparse data", WWW 2019) or item-kNN cosine neighbours (Sarwar et
 * al., "Item-based collaborative filtering recommendation algorithms", WWW 2001). Fold-in is the history itself
 * (no solve); `explain` lists the history items with the largest W_ji·x_uj. A user without any item the model
 * knows gets the training popularity, flagged (`fallback: 'popularity'`).
 */
export class ItemItemModel extends HistoryModel implements Recommender {
  readonly weights: ItemWeights;
  readonly weighting: HistoryWeighting;
  /** dense: item index → row of the kept matrix, −1 when not kept. */
  readonly #position: Int32Array | undefined;
  readonly #base: Float32Array;
  #scores: Float32Array | undefined;
  /** Scratch for the dense scores of the kept items (scoreAll), reused across calls. */
  #acc: Float32Array | undefined;

  constructor(init: ItemItemModelInit) {
    super('ItemItemModel', init);
    this.weights = init.weights;
    this.weighting = init.weighting ?? NO_WEIGHTING;
    const n = this.numItems;
    let maxPop = 0;
    for (let i = 0; i < n; i++) maxPop = Math.max(maxPop, this.popularity[i]!);
    this.#base = new Float32Array(n);
    for (let i = 0; i < n; i++) this.#base[i] = maxPop > 0 ? (TIE_BREAK * this.popularity[i]!) / maxPop : 0;
    const w = this.weights;
    if (w.kind === 'dense') {
      const m = w.kept.length;
      this.expectLength('dense matrix', w.matrix.length, m * m);
      this.#position = new Int32Array(n).fill(-1);
      for (let a = 0; a < m; a++) {
        const i = w.kept[a]!;
        if (!(i >= 0 && i < n) || (a > 0 && i <= w.kept[a - 1]!))
          throw new RangeError(`ItemItemModel: kept items must be ascending indices in 0…${n - 1}`);
        this.#position[i] = a;
      }
      for (let i = 0; i < n; i++) if (this.#position[i] === -1) this.#base[i] = UNSCORED + this.#base[i]!;
    } else {
      this.expectLength('sparse rows.offsets', w.rows.offsets.length, n + 1);
    }
  }

  userState(user: number): ItemItemUserState {
    this.checkUser(user);
    const { items, values } = csrRow(this.history, user);
    return this.#state(user, items, values);
  }

  foldIn(history: UserHistory): ItemItemUserState {
    checkHistory(history, this.numItems, `${this.family} foldIn`);
    return this.#state(-1, history.items, historyWeights(history, this.weighting));
  }

  #state(index: number, items: Int32Array, weights: Float32Array): ItemItemUserState {
    let known = false;
    for (let j = 0; j < items.length && !known; j++) known = this.#contributes(items[j]!) && weights[j] !== 0;
    return known ? { index, items, weights } : { index, items, weights, fallback: 'popularity' };
  }

  #contributes(item: number): boolean {
    const w = this.weights;
    if (w.kind === 'dense') return this.#position![item]! >= 0;
    return w.rows.offsets[item + 1]! > w.rows.offsets[item]!;
  }

  scoreAll(user: UserState, out: Float32Array): Float32Array {
    const s = user as ItemItemUserState;
    if (out.length !== this.numItems)
      throw new RangeError(`scoreAll: out has length ${out.length}, expected ${this.numItems}`);
    if (s.fallback === 'popularity' || !s.items) {
      out.set(this.popularity);
      return out;
    }
    out.set(this.#base);
    const w = this.weights;
    if (w.kind === 'dense') {
      const { kept, matrix } = w;
      const m = kept.length;
      this.#acc ??= new Float32Array(m);
      const acc = this.#acc;
      acc.fill(0);
      for (let j = 0; j < s.items.length; j++) {
        const a = this.#position![s.items[j]!]!;
        const x = s.weights[j]!;
        if (a < 0 || x === 0) continue;
        // s_u += x_uj · B_j,: (one row of B per history item)
        const row = matrix.subarray(a * m, a * m + m);
        for (let b = 0; b < m; b++) acc[b]! += x * row[b]!;
      }
      for (let b = 0; b < m; b++) out[kept[b]!]! += acc[b]!;
    } else {
      const { offsets, items, values } = w.rows;
      for (let j = 0; j < s.items.length; j++) {
        const item = s.items[j]!;
        const x = s.weights[j]!;
        for (let e = offsets[item]!; e < offsets[item + 1]!; e++) out[items[e]!]! += x * values[e]!;
      }
    }
    return out;
  }

  recommend(user: UserState, query: RecommendQuery): TopItems {
    // one score buffer per model, reused: recommend runs to completion on one thread, and topK copies what it keeps.
    // A fresh catalogue-sized array per request (36 KB for 9k movies) was freed later by the GC, and the churn of
    // such blocks between long-lived small ones fragmented the process's heap (resident memory grew in the soak).
    this.#scores ??= new Float32Array(this.numItems);
    return topK(this.scoreAll(user, this.#scores), query);
  }

  /** W_ji: what having j in a history adds to i's score. */
  weight(j: number, i: number): number {
    const w = this.weights;
    if (w.kind === 'dense') {
      const a = this.#position![j]!;
      const b = this.#position![i]!;
      return a < 0 || b < 0 ? 0 : w.matrix[a * w.kept.length + b]!;
    }
    const { offsets, items, values } = w.rows;
    // row j is sorted by target item: binary search for i
    let lo = offsets[j]!;
    let hi = offsets[j + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = items[mid]!;
      if (t === i) return values[mid]!;
      if (t < i) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** The k items that `item` pushes up most when it is in a history (row `item` of W), best first. */
  similarItems(item: number, k: number, allowed?: Uint8Array): TopItems {
    this.checkItem(item);
    const heap = new TopK(k);
    const w = this.weights;
    const take = (i: number, v: number) => {
      if (i !== item && v > 0 && allowed?.[i] !== 0) heap.push(i, v);
    };
    if (w.kind === 'dense') {
      const a = this.#position![item]!;
      const m = w.kept.length;
      if (a >= 0) for (let b = 0; b < m; b++) take(w.kept[b]!, w.matrix[a * m + b]!);
    } else {
      const { offsets, items, values } = w.rows;
      for (let e = offsets[item]!; e < offsets[item + 1]!; e++) take(items[e]!, values[e]!);
    }
    return heap.result();
  }

  /** The history items j with the largest W_ji·x_uj (their contribution to item's score), positive ones only. */
  explain(user: UserState, history: UserHistory, item: number, k: number): TopItems {
    this.checkItem(item);
    const s = user as ItemItemUserState;
    const items = s.items ?? history.items;
    const x = s.weights ?? historyWeights(history, this.weighting);
    const heap = new TopK(k);
    for (let j = 0; j < items.length; j++) {
      const c = this.weight(items[j]!, item) * x[j]!;
      if (c > 0 && items[j] !== item) heap.push(items[j]!, c);
    }
    return heap.result();
  }
}
