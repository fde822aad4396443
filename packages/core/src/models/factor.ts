import type { IdMap } from '@movierec/data';
import { UnknownItemError, UnknownUserError } from '../errors.ts';
import { choleskyInPlace, choleskySolveInPlace } from '../linalg.ts';
import type { TrainingLog } from '../model.ts';
import type {
  ModelTask,
  Recommender,
  RecommendQuery,
  TopItems,
  UserHistory,
  UserState,
} from '../recommender.ts';
import { DotScorer } from '../score.ts';
import { TopK, topK } from '../top-k.ts';
import { type Csr, checkHistory, csrRow } from './common.ts';

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

export interface FactorModelInit {
  family: string;
  users: IdMap;
  items: IdMap;
  factors: number;
  /** numUsers × factors, row-major. */
  userFactors: Float32Array;
  /** numItems × factors, row-major. */
  itemFactors: Float32Array;
  /** Optional per-item score offset (BPR's item bias). */
  itemBias?: Float32Array;
  /** How a new history is folded in: confidence-weighted least squares (Hu et al. 2008) with this λ and confidence. */
  foldIn: { l2: number; confidence: Confidence };
  /** Each trained user's history (items ascending, values as trained on). */
  history: Csr;
  /** Training interactions per item: the popularity fallback. */
  popularity: Float32Array;
  config?: Readonly<Record<string, unknown>>;
  /** How it was trained (the MF model's TrainingLog shape: engine, epochs, anything else). */
  log?: TrainingLog;
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
export class FactorModel implements Recommender {
  readonly family: string;
  readonly task: ModelTask = 'ranking';
  readonly numUsers: number;
  readonly numItems: number;
  readonly users: IdMap;
  readonly items: IdMap;
  readonly factors: number;
  readonly userFactors: Float32Array;
  readonly itemFactors: Float32Array;
  readonly itemBias: Float32Array | undefined;
  readonly foldInSettings: { l2: number; confidence: Confidence };
  readonly history: Csr;
  readonly popularity: Float32Array;
  readonly config: Readonly<Record<string, unknown>>;
  readonly log: TrainingLog;
  #gram: Float64Array | undefined;
  #scorer: DotScorer | undefined;
  #invNorms: Float32Array | undefined;

  constructor(init: FactorModelInit) {
    this.family = init.family;
    this.users = init.users;
    this.items = init.items;
    this.numUsers = init.users.size;
    this.numItems = init.items.size;
    this.factors = init.factors;
    this.userFactors = init.userFactors;
    this.itemFactors = init.itemFactors;
    this.itemBias = init.itemBias;
    this.foldInSettings = init.foldIn;
    this.history = init.history;
    this.popularity = init.popularity;
    this.config = init.config ?? {};
    this.log = init.log ?? { engine: init.family, epochs: [] };
    const k = this.factors;
    const expect = (what: string, got: number, want: number) => {
      if (got !== want) throw new RangeError(`FactorModel: ${what} has length ${got}, expected ${want}`);
    };
    expect('userFactors', this.userFactors.length, this.numUsers * k);
    expect('itemFactors', this.itemFactors.length, this.numItems * k);
    if (this.itemBias) expect('itemBias', this.itemBias.length, this.numItems);
    expect('popularity', this.popularity.length, this.numItems);
    expect('history.offsets', this.history.offsets.length, this.numUsers + 1);
  }

  userState(user: number): FactorUserState {
    if (!(Number.isInteger(user) && user >= 0 && user < this.numUsers)) throw new UnknownUserError(user);
    const k = this.factors;
    const empty = this.history.offsets[user + 1] === this.history.offsets[user];
    const factors = this.userFactors.subarray(user * k, user * k + k);
    return empty ? { index: user, factors, fallback: 'popularity' } : { index: user, factors };
  }

  trainedHistory(user: number): Int32Array | undefined {
    if (!(Number.isInteger(user) && user >= 0 && user < this.numUsers)) return undefined;
    return csrRow(this.history, user).items;
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
    this.#scorer ??= new DotScorer(this.itemFactors, this.factors, this.numItems);
    out.set(this.#scorer.dots(s.factors));
    if (this.itemBias) for (let i = 0; i < this.numItems; i++) out[i]! += this.itemBias[i]!;
    return out;
  }

  recommend(user: UserState, query: RecommendQuery): TopItems {
    return topK(this.scoreAll(user, new Float32Array(this.numItems)), query);
  }

  #norms(): Float32Array {
    if (!this.#invNorms) {
      const k = this.factors;
      const inv = new Float32Array(this.numItems);
      for (let i = 0; i < this.numItems; i++) {
        let s = 0;
        for (let f = 0; f < k; f++) s += this.itemFactors[i * k + f]! ** 2;
        inv[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
      }
      this.#invNorms = inv;
    }
    return this.#invNorms;
  }

  /** cos(q_i, q_j) = q_i·q_j / (‖q_i‖‖q_j‖). */
  cosine(i: number, j: number): number {
    const k = this.factors;
    const inv = this.#norms();
    let s = 0;
    for (let f = 0; f < k; f++) s += this.itemFactors[i * k + f]! * this.itemFactors[j * k + f]!;
    return s * inv[i]! * inv[j]!;
  }

  /** Nearest items by cosine of the item factors (itself excluded). */
  similarItems(item: number, k: number, allowed?: Uint8Array): TopItems {
    if (!(Number.isInteger(item) && item >= 0 && item < this.numItems)) throw new UnknownItemError(item);
    const f = this.factors;
    this.#scorer ??= new DotScorer(this.itemFactors, f, this.numItems);
    const dots = this.#scorer.dots(this.itemFactors.subarray(item * f, item * f + f));
    const inv = this.#norms();
    const heap = new TopK(k);
    for (let i = 0; i < this.numItems; i++) {
      if (i === item || (allowed && allowed[i] === 0)) continue;
      heap.push(i, dots[i]! * inv[i]! * inv[item]!);
    }
    return heap.result();
  }

  /** The history items most similar (cosine of item factors) to `item`, positive ones only. */
  explain(_user: UserState, history: UserHistory, item: number, k: number): TopItems {
    if (!(Number.isInteger(item) && item >= 0 && item < this.numItems)) throw new UnknownItemError(item);
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
