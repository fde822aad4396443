import { IdMap } from '@movierec/data';
import { UnknownItemError, UnknownUserError } from './errors.ts';
import { solveBiasedRidge } from './linalg.ts';
import type { MFParams, UserVector } from './params.ts';
import { type RatedIndex, ratedItems } from './rated-index.ts';
import type { RecommendOptions, ScoredItem } from './recommender.ts';
import { DotScorer } from './score.ts';
import { checkTemporal, clampTime, temporalOffset } from './temporal.ts';
import { TopK } from './top-k.ts';

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

export interface MFModelInit {
  params: MFParams;
  /** External user ID ↔ dense index; default: IDs "0"…"numUsers-1". */
  users?: IdMap;
  /** External movie ID ↔ dense index; default: IDs "0"…"numItems-1". */
  items?: IdMap;
  /** The training configuration (JSON-serialisable); kept in the artifact. */
  config?: Readonly<Record<string, unknown>>;
  log?: TrainingLog;
  /** Items each user rated in training, for `excludeRated`. */
  rated?: RatedIndex;
}

function identityMap(size: number): IdMap {
  const map = new IdMap();
  for (let j = 0; j < size; j++) map.add(j);
  return map;
}

/**
 * Biased matrix factorisation as a Recommender: r̂(u,i) = μ + b_u + b_i + p_u·q_i
 * (Koren, Bell & Volinsky, "Matrix factorization techniques for recommender systems", IEEE Computer 2009).
 * Users and items are dense indices; `userIndex`/`itemIndex` map external IDs and throw typed errors.
 */
export class MFModel {
  readonly params: MFParams;
  readonly users: IdMap;
  readonly items: IdMap;
  readonly config: Readonly<Record<string, unknown>>;
  readonly log: TrainingLog;
  readonly rated: RatedIndex | undefined;
  /** Default λ for foldIn. */
  foldInL2: number;
  #itemScorer: DotScorer | undefined;
  #rankScoreBias: Float32Array | undefined;
  #userScorer: DotScorer | undefined;
  #itemInvNorms: Float32Array | undefined;
  #userInvNorms: Float32Array | undefined;

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
    this.params = params;
    this.users = init.users ?? identityMap(numUsers);
    this.items = init.items ?? identityMap(numItems);
    expect('users IdMap', this.users.size, numUsers);
    expect('items IdMap', this.items.size, numItems);
    if (init.rated) expect('rated index offsets', init.rated.offsets.length, numUsers + 1);
    this.config = init.config ?? {};
    this.log = init.log ?? { engine: 'unknown', epochs: [] };
    this.rated = init.rated;
    const l2 = this.config.foldInL2;
    this.foldInL2 = typeof l2 === 'number' && l2 > 0 ? l2 : 1;
  }

  get numUsers(): number {
    return this.params.numUsers;
  }
  get numItems(): number {
    return this.params.numItems;
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

  #checkUser(u: number): void {
    if (!(Number.isInteger(u) && u >= 0 && u < this.params.numUsers)) throw new UnknownUserError(u);
  }
  #checkItem(i: number): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.params.numItems)) throw new UnknownItemError(i);
  }

  /**
   * r̂(u,i) = μ + b_u + b_i + p_u·q_i, plus the time-aware terms at time `at` when the model has them
   * (params.temporal: b_{i,Bin(t)} + α_u·dev_u(t) + b_{u,day(t)}, Koren 2009). `at` is Unix seconds, default "now"
   * = the newest training rating's time; later times are clamped to it, earlier ones to the oldest (see
   * temporal.ts); a folded-in UserVector gets the movie's bin term only. RangeError for NaN or before 1970.
   */
  predict(user: number | UserVector, item: number, at?: number): number {
    this.#checkItem(item);
    const { factors: k, itemFactors, itemBias, globalMean } = this.params;
    let bias: number;
    let p: Float32Array;
    let off = 0;
    if (typeof user === 'number') {
      this.#checkUser(user);
      bias = this.params.userBias[user]!;
      p = this.params.userFactors;
      off = user * k;
    } else {
      bias = user.bias;
      p = user.factors;
    }
    let dot = 0;
    const q = item * k;
    for (let f = 0; f < k; f++) dot += p[off + f]! * itemFactors[q + f]!;
    const tp = this.params.temporal;
    if (tp) {
      const t = at === undefined ? tp.trainEnd : clampTime(tp, at);
      dot += temporalOffset(tp, typeof user === 'number' ? user : -1, item, t);
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
    this.#checkUser(user);
    const k = this.params.factors;
    return {
      bias: this.params.userBias[user]!,
      factors: this.params.userFactors.slice(user * k, (user + 1) * k),
    };
  }

  /**
   * Top-k items by r̂ (plus the ranking-only itemRankBias when the model has one; the returned score is r̂),
   * best first, with a bounded min-heap (partial selection). `excludeRated: true` drops the
   * user's training items (needs the model's rated index and a user index; a UserVector excludes nothing unless
   * given an explicit list); an Int32Array excludes exactly those items.
   */
  recommend(user: number | UserVector, options: RecommendOptions): ScoredItem[] {
    const { k, excludeRated = true, filter } = options;
    if (!(Number.isInteger(k) && k >= 0))
      throw new RangeError(`recommend: k must be a non-negative integer, got ${k}`);
    const { factors: nf, itemFactors, itemBias, numItems } = this.params;
    let p: Float32Array;
    let bias: number;
    if (typeof user === 'number') {
      this.#checkUser(user);
      p = this.params.userFactors.subarray(user * nf, (user + 1) * nf);
      bias = this.params.userBias[user]!;
    } else {
      if (user.factors.length !== nf)
        throw new RangeError(
          `recommend: user vector has ${user.factors.length} factors, the model has ${nf}`,
        );
      p = user.factors;
      bias = user.bias;
    }
    let exclude: Int32Array | undefined;
    if (excludeRated === true) {
      if (typeof user === 'number' && this.rated) exclude = ratedItems(this.rated, user);
    } else if (excludeRated !== false) {
      exclude = isSorted(excludeRated) ? excludeRated : excludeRated.slice().sort();
    }
    const heap = new TopK(Math.min(k, numItems));
    this.#itemScorer ??= new DotScorer(itemFactors, nf, numItems);
    // Ranking-only term (MFParams.itemRankBias): rank by r̂ + itemRankBias_i, report r̂ (the sum is built once).
    const rankBias = this.params.itemRankBias;
    if (rankBias && !this.#rankScoreBias) {
      this.#rankScoreBias = new Float32Array(numItems);
      for (let i = 0; i < numItems; i++) this.#rankScoreBias[i] = itemBias[i]! + rankBias[i]!;
    }
    const scoreBias = rankBias ? this.#rankScoreBias : itemBias;
    selectTopK(this.#itemScorer.dots(p), scoreBias, numItems, exclude, filter, heap, -1);
    const base = this.params.globalMean + bias;
    return heap
      .sorted()
      .map(({ item, score }) => ({ item, score: score + base - (rankBias ? rankBias[item]! : 0) }));
  }

  /** Items most similar to `item` by cosine similarity of factors q_i·q_j / (‖q_i‖‖q_j‖), the item itself excluded. */
  similarItems(item: number, k: number): ScoredItem[] {
    this.#checkItem(item);
    const { itemFactors, factors, numItems } = this.params;
    this.#itemScorer ??= new DotScorer(itemFactors, factors, numItems);
    this.#itemInvNorms ??= inverseRowNorms(itemFactors, factors, numItems);
    return cosineTopK(this.#itemScorer, itemFactors, this.#itemInvNorms, factors, numItems, item, k);
  }

  /** Users most similar to `user` by cosine similarity of factors p_u·p_v / (‖p_u‖‖p_v‖), the user excluded. */
  similarUsers(user: number, k: number): ScoredItem[] {
    this.#checkUser(user);
    const { userFactors, factors, numUsers } = this.params;
    this.#userScorer ??= new DotScorer(userFactors, factors, numUsers);
    this.#userInvNorms ??= inverseRowNorms(userFactors, factors, numUsers);
    return cosineTopK(this.#userScorer, userFactors, this.#userInvNorms, factors, numUsers, user, k);
  }

  /**
   * Fold-in: bias and factors for a user outside the model from their ratings, by regularised least squares
   * against the fixed item factors with the bias as an extra unknown (as one ALS half-step, Hu/Koren/Volinsky 2008;
   * Koren 2009): minimise Σ_i (r_i − μ − b_i − b − p·q_i)² + λ(‖p‖² + b²), i.e. solve (AᵀA + λI)x = Aᵀ(r − μ − b_i)
   * with A's rows [q_i, 1] and x = [p, b], by Cholesky on the (k+1)×(k+1) system.
   */
  foldIn(items: Int32Array, ratings: Float32Array, options: FoldInOptions = {}): UserVector {
    if (items.length !== ratings.length)
      throw new RangeError(`foldIn: items has ${items.length} entries but ratings has ${ratings.length}`);
    const lambda = options.l2 ?? this.foldInL2;
    if (!(lambda >= 0)) throw new RangeError(`foldIn: l2 must be ≥ 0, got ${lambda}`);
    const { factors: k, itemFactors, itemBias, globalMean } = this.params;
    const n = items.length;
    const targets = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const i = items[j]!;
      this.#checkItem(i);
      const r = ratings[j]!;
      if (!Number.isFinite(r)) throw new RangeError(`foldIn: rating ${j} (item ${i}) is ${r}`);
      targets[j] = r - globalMean - itemBias[i]!;
    }
    const gram = new Float64Array((k + 1) * (k + 1));
    const rhs = new Float64Array(k + 1);
    if (!solveBiasedRidge(itemFactors, k, items, targets, n, lambda, lambda, gram, rhs))
      throw new RangeError(`foldIn: the system is singular with l2 = ${lambda}; use l2 > 0`);
    return { bias: rhs[k]!, factors: Float32Array.from(rhs.subarray(0, k)) };
  }
}

function isSorted(a: Int32Array): boolean {
  for (let j = 1; j < a.length; j++) if (a[j - 1]! > a[j]!) return false;
  return true;
}

/** 1/‖m_r‖ per row (0 for a zero row, so it scores 0). */
function inverseRowNorms(m: Float32Array, k: number, rows: number): Float32Array {
  const inv = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let f = r * k, end = f + k; f < end; f++) s += m[f]! * m[f]!;
    inv[r] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  return inv;
}

/**
 * Top-k selection over precomputed dots: score_i = b_i + p·q_i (μ + b_u is added by the caller), skipping the sorted
 * `exclude` list by a merge-walk and `skip`; `filter` is consulted only for items that would enter the heap.
 */
function selectTopK(
  dots: Float32Array,
  itemBias: Float32Array | undefined,
  numItems: number,
  exclude: Int32Array | undefined,
  filter: ((item: number) => boolean) | undefined,
  heap: TopK,
  skip: number,
): void {
  // merge-walk over the sorted exclusion list (duplicates and out-of-range entries are harmless)
  let ex = 0;
  const exLength = exclude ? exclude.length : 0;
  let threshold = heap.threshold;
  for (let i = 0; i < numItems; i++) {
    if (ex < exLength) {
      while (ex < exLength && exclude![ex]! < i) ex++;
      if (ex < exLength && exclude![ex] === i) continue;
    }
    if (i === skip) continue;
    const score = itemBias ? itemBias[i]! + dots[i]! : dots[i]!;
    if (score > threshold) {
      if (filter && !filter(i)) continue;
      heap.push(i, score);
      threshold = heap.threshold;
    }
  }
}

/** cos(m_row, m_j) = m_row·m_j / (‖m_row‖‖m_j‖) for all j ≠ row, top `count` by a bounded heap. */
function cosineTopK(
  scorer: DotScorer,
  m: Float32Array,
  invNorms: Float32Array,
  k: number,
  rows: number,
  row: number,
  count: number,
): ScoredItem[] {
  if (!(Number.isInteger(count) && count >= 0))
    throw new RangeError(`k must be a non-negative integer, got ${count}`);
  const dots = scorer.dots(m.subarray(row * k, (row + 1) * k));
  const heap = new TopK(Math.min(count, rows - 1));
  let threshold = heap.threshold;
  for (let j = 0; j < rows; j++) {
    if (j === row) continue;
    const s = dots[j]! * invNorms[j]!;
    if (s > threshold) {
      heap.push(j, s);
      threshold = heap.threshold;
    }
  }
  const inv = invNorms[row]!;
  return heap.sorted().map(({ item, score }) => ({ item, score: score * inv }));
}
