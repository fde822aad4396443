import { CosineIndex } from './cosine.ts';
import { UnknownItemError, UnknownUserError } from './errors.ts';
import { solveBiasedRidge } from './linalg.ts';
import type { MFParams, UserVector } from './params.ts';
import { ParamsModel, type ParamsModelInit } from './params-model.ts';
import type { Recommender, RecommendQuery, TopItems, UserHistory, UserState } from './recommender.ts';
import { DotScorer } from './score.ts';
import { checkTemporal, clampTime, temporalOffset } from './temporal.ts';
import { topK } from './top-k.ts';

/** One epoch of training as recorded in the model (JSON-serialisable). */
export interface EpochRecord {
  epoch: number;
  /** Training loss as the engine reports it (see the engine's docs). */
  loss: number;
  seconds: number;
  ratingsPerSecond: number;
  validationRmse?: number;
  validationMae?: number;
}

/** How a model was trained (JSON-serialisable; stored in the artifact header). */
export interface TrainingLog {
  engine: string;
  epochs: EpochRecord[];
  /** Epoch whose weights the model holds when early stopping restored the best ones. */
  bestEpoch?: number;
  stoppedEarly?: boolean;
  numRatings?: number;
  /** Anything else an engine wants to record (e.g. the tfjs backend). */
  [key: string]: unknown;
}

export interface FoldInOptions {
  /** λ in (AᵀA + λI)x = Aᵀ(r − μ − b_i); default the model's foldInL2 (1 unless the config says otherwise). */
  l2?: number;
}

export type MFModelInit = ParamsModelInit<MFParams, TrainingLog>;

/** An MF user as MFModel scores them: b_u and p_u (trained: a view of the model's row; folded in: its own). */
export interface MFUserState extends UserState, UserVector {}

/**
 * Biased matrix factorisation as a Recommender (family 'mf', task 'rating'): r̂(u,i) = μ + b_u + b_i + p_u·q_i
 * (Koren, Bell & Volinsky, "Matrix factorization techniques for recommender systems", IEEE Computer 2009).
 * Users and items are dense indices; `userIndex`/`itemIndex` map external IDs and throw typed errors.
 */
export class MFModel extends ParamsModel<MFParams, TrainingLog> implements Recommender {
  readonly family = 'mf';
  readonly task = 'rating' as const;
  /** Default λ for foldIn. */
  foldInL2: number;
  #itemScorer: DotScorer | undefined;
  #rankTerm: Float32Array | undefined;
  #itemCosineIndex: CosineIndex | undefined;
  #userCosineIndex: CosineIndex | undefined;

  constructor(init: MFModelInit) {
    const { params } = init;
    const { factors, numUsers, numItems } = params;
    const expect = (what: string, got: number, want: number) => {
      if (got !== want) throw new RangeError(`MFModel: ${what} has length ${got}, expected ${want}`);
    };
    expect('userBias', params.userBias.length, numUsers);
    expect('itemBias', params.itemBias.length, numItems);
    if (params.itemRankBias) expect('itemRankBias', params.itemRankBias.length, numItems);
    expect('userFactors', params.userFactors.length, numUsers * factors);
    expect('itemFactors', params.itemFactors.length, numItems * factors);
    if (params.temporal) checkTemporal(params.temporal, numUsers, numItems);
    super('MFModel', init, { engine: 'unknown', epochs: [] });
    const l2 = this.config.foldInL2;
    this.foldInL2 = typeof l2 === 'number' && l2 > 0 ? l2 : 1;
  }

  get factors(): number {
    return this.params.factors;
  }
  get globalMean(): number {
    return this.params.globalMean;
  }

  /** Dense index of an external user ID; throws UnknownUserError. */
  userIndex(id: string | number): number {
    const u = this.users.indexOf(id);
    if (u < 0) throw new UnknownUserError(id);
    return u;
  }

  /** Dense index of an external movie ID; throws UnknownItemError. */
  itemIndex(id: string | number): number {
    const i = this.items.indexOf(id);
    if (i < 0) throw new UnknownItemError(id);
    return i;
  }

  /** The trained user u's state (bias and a view of p_u); throws UnknownUserError. */
  userState(user: number): MFUserState {
    this.checkUser(user);
    const k = this.params.factors;
    return {
      index: user,
      bias: this.params.userBias[user]!,
      factors: this.params.userFactors.subarray(user * k, (user + 1) * k),
    };
  }

  /** A trained user's index or a state (trained or folded in) → bias and factors, checked against the model. */
  #user(user: number | UserState, what: string): MFUserState {
    if (typeof user === 'number') return this.userState(user);
    const state = user as Partial<MFUserState>;
    if (!(state.factors instanceof Float32Array) || typeof state.bias !== 'number')
      throw new TypeError(
        `${what}: the user state is not an MF user (bias and factors); build it with this model`,
      );
    if (state.factors.length !== this.params.factors)
      throw new RangeError(
        `${what}: user vector has ${state.factors.length} factors, the model has ${this.params.factors}`,
      );
    return state as MFUserState;
  }

  /**
   * r̂(u,i) = μ + b_u + b_i + p_u·q_i for a trained user's index or a (folded-in) user state, plus the time-aware
   * terms at time `at` when the model has them (params.temporal: b_{i,Bin(t)} + α_u·dev_u(t) + b_{u,day(t)},
   * Koren 2009). `at` is Unix seconds, default "now" = the newest training rating's time; later times are clamped
   * to it, earlier ones to the oldest, a user's own terms to their last training rating (see temporal.ts); a
   * folded-in user (state index −1) has no drift history and gets the movie's bin term only. RangeError for NaN
   * or a time before 1970.
   */
  predict(user: number | UserState, item: number, at?: number): number {
    this.checkItem(item);
    const state = this.#user(user, 'predict');
    const { bias, factors: p } = state;
    const { factors: k, itemFactors, itemBias, globalMean } = this.params;
    let dot = 0;
    const q = item * k;
    for (let f = 0; f < k; f++) dot += p[f]! * itemFactors[q + f]!;
    const tp = this.params.temporal;
    if (tp) {
      const t = at === undefined ? tp.trainEnd : clampTime(tp, at);
      const u = state.index >= 0 && state.index < this.params.numUsers ? state.index : -1;
      dot += temporalOffset(tp, u, item, t);
    } else if (at !== undefined && !(Number.isFinite(at) && at >= 0))
      throw new RangeError(`predict: time ${at} is not a Unix time in seconds at or after 1970-01-01`);
    return globalMean + bias + itemBias[item]! + dot;
  }

  /** r̂ for each (users[j], items[j]) pair; throws the typed error for the first unknown index. */
  predictMany(users: Int32Array, items: Int32Array, out?: Float32Array): Float32Array {
    if (users.length !== items.length)
      throw new RangeError(`predictMany: users has ${users.length} entries but items has ${items.length}`);
    const n = users.length;
    const result = out ?? new Float32Array(n);
    if (result.length < n) throw new RangeError(`predictMany: out has length ${result.length} < ${n}`);
    const {
      factors: k,
      userFactors,
      itemFactors,
      userBias,
      itemBias,
      globalMean,
      numUsers,
      numItems,
    } = this.params;
    const tp = this.params.temporal;
    for (let j = 0; j < n; j++) {
      const u = users[j]!;
      const i = items[j]!;
      if (u < 0 || u >= numUsers) throw new UnknownUserError(u);
      if (i < 0 || i >= numItems) throw new UnknownItemError(i);
      const pu = u * k;
      const qi = i * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += userFactors[pu + f]! * itemFactors[qi + f]!;
      // time-aware terms (if any) at "now", the newest training time, as predict() without `at`
      if (tp) dot += temporalOffset(tp, u, i, tp.trainEnd);
      result[j] = globalMean + userBias[u]! + itemBias[i]! + dot;
    }
    return result;
  }

  /** The user's factors as a vector (a copy) and bias. */
  userVector(user: number): UserVector {
    const { bias, factors } = this.userState(user);
    return { bias, factors: factors.slice() };
  }

  get #scorer(): DotScorer {
    this.#itemScorer ??= new DotScorer(this.params.itemFactors, this.params.factors, this.params.numItems);
    return this.#itemScorer;
  }

  /**
   * The per-item part of the ranking key: b_i (+ the ranking-only itemRankBias_i when the model has it), so the
   * key is μ + b_u + this_i + p_u·q_i (built once).
   */
  get #rankItemTerm(): Float32Array {
    if (this.#rankTerm) return this.#rankTerm;
    const { itemBias, itemRankBias, numItems } = this.params;
    if (!itemRankBias) return (this.#rankTerm = itemBias);
    const term = new Float32Array(numItems);
    for (let i = 0; i < numItems; i++) term[i] = itemBias[i]! + itemRankBias[i]!;
    return (this.#rankTerm = term);
  }

  /** out[i] = r̂(u,i) + itemRankBias_i (the ranking key; r̂ alone when the model has no ranking-only term). */
  scoreAll(user: number | UserState, out: Float32Array): Float32Array {
    const { bias, factors } = this.#user(user, 'scoreAll');
    const n = this.params.numItems;
    if (out.length < n) throw new RangeError(`scoreAll: out has length ${out.length}, expected ${n}`);
    const dots = this.#scorer.dots(factors);
    const term = this.#rankItemTerm;
    const base = this.params.globalMean + bias;
    for (let i = 0; i < n; i++) out[i] = base + term[i]! + dots[i]!;
    return out;
  }

  /**
   * Top-k items by r̂ (plus the ranking-only itemRankBias when the model has one; the returned score is r̂),
   * best first, through core's one top-k over the SIMD dot products (μ + b_u, the same for every item, is added
   * after selection). Excludes exactly `query.exclude` (e.g. `trainedHistory(u)`), keeps only `query.allowed`.
   */
  recommend(user: number | UserState, query: RecommendQuery): TopItems {
    const { bias, factors } = this.#user(user, 'recommend');
    const top = topK(this.#scorer.dots(factors), query, this.#rankItemTerm);
    const base = this.params.globalMean + bias;
    const rankBias = this.params.itemRankBias;
    const { items, scores } = top;
    for (let j = 0; j < items.length; j++) {
      // report r̂ = μ + b_u + (b_i + p·q_i): the selection key minus the ranking-only term
      scores[j] = base + scores[j]! - (rankBias ? rankBias[items[j]!]! : 0);
    }
    return top;
  }

  /** cos(q_i, q_j) = q_i·q_j / (‖q_i‖‖q_j‖) over the item factors: what similarItems and explain rank by. */
  protected get itemCosine(): CosineIndex {
    const { itemFactors, factors, numItems } = this.params;
    this.#itemCosineIndex ??= new CosineIndex(itemFactors, factors, numItems, this.#scorer);
    return this.#itemCosineIndex;
  }

  /** Users most similar to `user` by cosine similarity of factors p_u·p_v / (‖p_u‖‖p_v‖), the user excluded. */
  similarUsers(user: number, k: number): TopItems {
    this.checkUser(user);
    const { userFactors, factors, numUsers } = this.params;
    this.#userCosineIndex ??= new CosineIndex(userFactors, factors, numUsers);
    return this.#userCosineIndex.nearest(user, { k });
  }

  /**
   * Fold-in: bias and factors for a user outside the model from their ratings, by regularised least squares
   * against the fixed item factors with the bias as an extra unknown (as one ALS half-step, Hu/Koren/Volinsky 2008;
   * Koren 2009): minimise Σ_i (r_i − μ − b_i − b − p·q_i)² + λ(‖p‖² + b²), i.e. solve (AᵀA + λI)x = Aᵀ(r − μ − b_i)
   * with A's rows [q_i, 1] and x = [p, b], by Cholesky on the (k+1)×(k+1) system. `history.values` are ratings.
   */
  foldIn(history: UserHistory, options: FoldInOptions = {}): MFUserState {
    const { items, values: ratings } = history;
    if (items.length !== ratings.length)
      throw new RangeError(`foldIn: items has ${items.length} entries but values has ${ratings.length}`);
    const lambda = options.l2 ?? this.foldInL2;
    if (!(lambda >= 0)) throw new RangeError(`foldIn: l2 must be ≥ 0, got ${lambda}`);
    const { factors: k, itemFactors, itemBias, globalMean } = this.params;
    const n = items.length;
    const targets = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const i = items[j]!;
      this.checkItem(i);
      const r = ratings[j]!;
      if (!Number.isFinite(r)) throw new RangeError(`foldIn: rating ${j} (item ${i}) is ${r}`);
      targets[j] = r - globalMean - itemBias[i]!;
    }
    const gram = new Float64Array((k + 1) * (k + 1));
    const rhs = new Float64Array(k + 1);
    if (!solveBiasedRidge(itemFactors, k, items, targets, n, lambda, lambda, gram, rhs))
      throw new RangeError(`foldIn: the system is singular with l2 = ${lambda}; use l2 > 0`);
    return { index: -1, bias: rhs[k]!, factors: Float32Array.from(rhs.subarray(0, k)) };
  }
}
