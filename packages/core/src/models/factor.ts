import { CosineIndex } from '../cosine.ts';
import { choleskyInPlace, choleskySolveInPlace } from '../linalg.ts';
import type { Recommender, RecommendQuery, TopItems, UserHistory, UserState } from '../recommender.ts';
import { DotScorer } from '../score.ts';
import { TopK, topK } from '../top-k.ts';
import { checkHistory } from './common.ts';
import { HistoryModel, type HistoryModelInit } from './history-model.ts';

/**
 * Confidence of an interaction of value r (Hu, Koren & Volinsky, "Collaborative filtering for implicit feedback
 * datasets", ICDM 2008, §4): 'linear' c = 1 + α·r, 'log' c = 1 + α·log(1 + r/ε).
 */
export interface Confidence {
  scheme: 'linear' | 'log';
  alpha: number;
  epsilon: number;
}

export function confidence(c: Confidence, r: number): number {
  return c.scheme === 'linear' ? 1 + c.alpha * r : 1 + c.alpha * Math.log1p(r / c.epsilon);
}

export interface FactorModelInit extends HistoryModelInit {
  factors: number;
  /** numUsers × factors, row-major. */
  userFactors: Float32Array;
  /** numItems × factors, row-major. */
  itemFactors: Float32Array;
  /** Optional per-item score offset (BPR's item bias). */
  itemBias?: Float32Array;
  /** How a new history is folded in: confidence-weighted least squares (Hu et al. 2008) with this λ and confidence. */
  foldIn: { l2: number; confidence: Confidence };
}

export interface FactorUserState extends UserState {
  readonly factors: Float32Array;
}

/**
 * A dot-product ranking model (implicit ALS, BPR-MF) as a Recommender: s_ui = p_u·q_i (+ b_i). Fold-in of a new
 * history is the closed-form confidence-weighted least squares of Hu, Koren & Volinsky 2008 against the fixed item
 * factors, p_u = (QᵀQ + Qᵀ(C_u − I)Q + λI)⁻¹ Qᵀ C_u p(u) with p(u) = 1 on the history — exact for iALS, and the
 * same solve for BPR (its item factors fixed; documented in the trainer's README). QᵀQ is computed once.
 */
export class FactorModel extends HistoryModel implements Recommender {
  readonly factors: number;
  readonly userFactors: Float32Array;
  readonly itemFactors: Float32Array;
  readonly itemBias: Float32Array | undefined;
  readonly foldInSettings: { l2: number; confidence: Confidence };
  #gram: Float64Array | undefined;
  #scorer: DotScorer | undefined;
  #scores: Float32Array | undefined;
  #cosine: CosineIndex | undefined;

  constructor(init: FactorModelInit) {
    super('FactorModel', init);
    this.factors = init.factors;
    this.userFactors = init.userFactors;
    this.itemFactors = init.itemFactors;
    this.itemBias = init.itemBias;
    this.foldInSettings = init.foldIn;
    const k = this.factors;
    this.expectLength('userFactors', this.userFactors.length, this.numUsers * k);
    this.expectLength('itemFactors', this.itemFactors.length, this.numItems * k);
    if (this.itemBias) this.expectLength('itemBias', this.itemBias.length, this.numItems);
  }

  userState(user: number): FactorUserState {
    this.checkUser(user);
    const k = this.factors;
    const empty = this.history.offsets[user + 1] === this.history.offsets[user];
    const factors = this.userFactors.subarray(user * k, user * k + k);
    return empty ? { index: user, factors, fallback: 'popularity' } : { index: user, factors };
  }

  /** QᵀQ (k × k), once. */
  #itemGram(): Float64Array {
    if (!this.#gram) {
      const k = this.factors;
      const g = new Float64Array(k * k);
      const q = this.itemFactors;
      for (let i = 0; i < this.numItems; i++) {
        const base = i * k;
        for (let a = 0; a < k; a++) {
          const qa = q[base + a]!;
          for (let b = 0; b <= a; b++) g[a * k + b]! += qa * q[base + b]!;
        }
      }
      for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) g[a * k + b] = g[b * k + a]!;
      this.#gram = g;
    }
    return this.#gram;
  }

  /**
   * p_u = (QᵀQ + Σ_{j∈h} (c_j − 1) q_j q_jᵀ + λI)⁻¹ Σ_{j∈h} c_j q_j — Hu, Koren & Volinsky 2008, eq. (4), with
   * p(u)_j = 1 on the history and c_j = confidence(value_j); O(k²·|h| + k³).
   */
  foldIn(history: UserHistory): FactorUserState {
    checkHistory(history, this.numItems, `${this.family} foldIn`);
    const k = this.factors;
    const factors = new Float32Array(k);
    if (history.items.length === 0) return { index: -1, factors, fallback: 'popularity' };
    const { l2, confidence: conf } = this.foldInSettings;
    const a = Float64Array.from(this.#itemGram());
    const rhs = new Float64Array(k);
    const q = this.itemFactors;
    for (let j = 0; j < history.items.length; j++) {
      const base = history.items[j]! * k;
      const c = confidence(conf, history.values[j]!);
      for (let x = 0; x < k; x++) {
        const qx = q[base + x]!;
        rhs[x]! += c * qx;
        for (let y = 0; y <= x; y++) a[x * k + y]! += (c - 1) * qx * q[base + y]!;
      }
    }
    for (let x = 0; x < k; x++) a[x * k + x]! += l2;
    if (!choleskyInPlace(a, k))
      throw new RangeError(`${this.family} foldIn: the system is not positive definite`);
    choleskySolveInPlace(a, k, rhs);
    for (let x = 0; x < k; x++) factors[x] = rhs[x]!;
    return { index: -1, factors };
  }

  scoreAll(user: UserState, out: Float32Array): Float32Array {
    if (out.length !== this.numItems)
      throw new RangeError(`scoreAll: out has length ${out.length}, expected ${this.numItems}`);
    const s = user as FactorUserState;
    if (s.fallback === 'popularity') {
      out.set(this.popularity);
      return out;
    }
    out.set(this.#dotScorer.dots(s.factors));
    if (this.itemBias) for (let i = 0; i < this.numItems; i++) out[i]! += this.itemBias[i]!;
    return out;
  }

  recommend(user: UserState, query: RecommendQuery): TopItems {
    // one score buffer per model, reused: recommend runs to completion on one thread, and topK copies what it keeps.
    // A fresh catalogue-sized array per request (36 KB for 9k movies) was freed later by the GC, and the churn of
    // such blocks between long-lived small ones fragmented the process's heap (resident memory grew in the soak).
    this.#scores ??= new Float32Array(this.numItems);
    return topK(this.scoreAll(user, this.#scores), query);
  }

  get #dotScorer(): DotScorer {
    this.#scorer ??= new DotScorer(this.itemFactors, this.factors, this.numItems);
    return this.#scorer;
  }

  /** Core's cosine over the item factors: cos(q_i, q_j) = q_i·q_j / (‖q_i‖‖q_j‖). */
  get #itemCosine(): CosineIndex {
    this.#cosine ??= new CosineIndex(this.itemFactors, this.factors, this.numItems, this.#dotScorer);
    return this.#cosine;
  }

  /** cos(q_i, q_j). */
  cosine(i: number, j: number): number {
    return this.#itemCosine.pair(i, j);
  }

  /** Nearest items by cosine of the item factors (itself excluded). */
  similarItems(item: number, k: number, allowed?: Uint8Array): TopItems {
    this.checkItem(item);
    return this.#itemCosine.nearest(item, { k, ...(allowed ? { allowed } : {}) });
  }

  /** The history items most similar (cosine of item factors) to `item`, positive ones only. */
  explain(_user: UserState, history: UserHistory, item: number, k: number): TopItems {
    this.checkItem(item);
    const heap = new TopK(k);
    for (let j = 0; j < history.items.length; j++) {
      const h = history.items[j]!;
      if (h === item || !(h >= 0 && h < this.numItems)) continue;
      const c = this.cosine(h, item);
      if (c > 0) heap.push(h, c);
    }
    return heap.result();
  }
}
