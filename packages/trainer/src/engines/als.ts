import { type MFParams, solveBiasedRidge } from '@movierec/core';
import { type RatingColumns, Rng } from '@movierec/data';
import type { Engine, EpochStats, FitOptions, TrainConfig } from '../engine.ts';
import {
  DivergenceError,
  initialParams,
  meanRating,
  TrainingInputError,
  validateTraining,
  yieldToEventLoop,
} from './common.ts';

/** Ratings grouped by row (user or item): the other side's index and the rating, rows given by offsets. */
export interface RatingRows {
  offsets: Int32Array;
  others: Int32Array;
  ratings: Float32Array;
}

/** Groups the rating columns by user (byUser = true) or by item, as compressed sparse rows (counting sort, O(n)). */
export function groupRatings(train: RatingColumns, rows: number, byUser: boolean): RatingRows {
  const key = byUser ? train.users : train.items;
  const other = byUser ? train.items : train.users;
  const n = train.length;
  const offsets = new Int32Array(rows + 1);
  for (let r = 0; r < n; r++) offsets[key[r]! + 1]!++;
  for (let j = 0; j < rows; j++) offsets[j + 1]! += offsets[j]!;
  const cursor = offsets.slice(0, rows);
  const others = new Int32Array(n);
  const ratings = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const at = cursor[key[r]!]!++;
    others[at] = other[r]!;
    ratings[at] = train.ratings[r]!;
  }
  return { offsets, others, ratings };
}

/**
 * One ALS half-step: for every row x (user or item) with ratings, solve the biased ridge system against the fixed
 * other side (Zhou et al. 2008; with biases as in Koren 2009):
 *   minimise Σ_j (r_j − μ − b_other(j) − b_x − f_x·g_j)² + λ‖f_x‖² + λ_b·b_x²  ⇒  (AᵀA + diag(λ…λ, λ_b))[f_x, b_x] = Aᵀy,
 * A's rows [g_j, 1], y_j = r_j − μ − b_other(j). Rows without ratings keep their values.
 */
export function alsHalfStep(
  rows: RatingRows,
  count: number,
  factors: Float32Array,
  bias: Float32Array,
  otherFactors: Float32Array,
  otherBias: Float32Array,
  k: number,
  mu: number,
  lambda: number,
  lambdaBias: number,
): void {
  let maxDegree = 0;
  for (let x = 0; x < count; x++) maxDegree = Math.max(maxDegree, rows.offsets[x + 1]! - rows.offsets[x]!);
  const targets = new Float64Array(maxDegree);
  const gram = new Float64Array((k + 1) * (k + 1));
  const rhs = new Float64Array(k + 1);
  for (let x = 0; x < count; x++) {
    const from = rows.offsets[x]!;
    const degree = rows.offsets[x + 1]! - from;
    if (degree === 0) continue;
    const others = rows.others.subarray(from, from + degree);
    for (let j = 0; j < degree; j++) targets[j] = rows.ratings[from + j]! - mu - otherBias[others[j]!]!;
    if (!solveBiasedRidge(otherFactors, k, others, targets, degree, lambda, lambdaBias, gram, rhs)) continue;
    for (let f = 0; f < k; f++) factors[x * k + f] = rhs[f]!;
    bias[x] = rhs[k]!;
  }
}

/** Training MSE Σ(r − r̂)²/n. */
export function trainingMse(params: MFParams, train: RatingColumns): number {
  const { factors: k, userFactors: P, itemFactors: Q, userBias: bu, itemBias: bi, globalMean: mu } = params;
  let sse = 0;
  for (let r = 0; r < train.length; r++) {
    const u = train.users[r]!;
    const i = train.items[r]!;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += P[u * k + f]! * Q[i * k + f]!;
    const e = train.ratings[r]! - (mu + bu[u]! + bi[i]! + dot);
    sse += e * e;
  }
  return sse / train.length;
}

/**
 * Alternating least squares with biases: each epoch solves every user's [p_u, b_u] with the items fixed, then every
 * item's [q_i, b_i] with the users fixed (alsHalfStep); λ = config.l2 (must be > 0), λ_b = config.l2Bias ?? l2,
 * μ fixed at the training mean. learningRate and batchSize are not used. Epoch loss = training MSE after the epoch.
 */
export const alsEngine: Engine = {
  name: 'als',
  async fit(train: RatingColumns, shape, config: TrainConfig, options: FitOptions = {}): Promise<MFParams> {
    validateTraining('als', train, shape, config);
    if (!(config.l2 > 0))
      throw new TrainingInputError(
        `als: config.l2 must be > 0 (each row's system is singular without it), got ${config.l2}`,
      );
    const random = new Rng(config.seed);
    const params = initialParams(shape, config, meanRating(train), options.init, random);
    const { numUsers, numItems } = shape;
    const k = config.factors;
    const lambdaBias = config.l2Bias ?? config.l2;
    const byUser = groupRatings(train, numUsers, true);
    const byItem = groupRatings(train, numItems, false);
    const n = train.length;
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      options.signal?.throwIfAborted();
      const t0 = performance.now();
      const { userFactors: P, itemFactors: Q, userBias: bu, itemBias: bi, globalMean: mu } = params;
      alsHalfStep(byUser, numUsers, P, bu, Q, bi, k, mu, config.l2, lambdaBias);
      options.onProgress?.({ done: epoch * n + n / 2, total: config.epochs * n });
      await yieldToEventLoop();
      options.signal?.throwIfAborted();
      alsHalfStep(byItem, numItems, Q, bi, P, bu, k, mu, config.l2, lambdaBias);
      const loss = trainingMse(params, train);
      if (!Number.isFinite(loss)) throw new DivergenceError('als', epoch + 1, 1, loss, config);
      options.onProgress?.({ done: (epoch + 1) * n, total: config.epochs * n });
      const seconds = (performance.now() - t0) / 1000;
      const stats: EpochStats = { epoch: epoch + 1, loss, seconds, ratingsPerSecond: n / seconds };
      if ((await options.onEpoch?.(stats, params)) === 'stop') break;
      await yieldToEventLoop();
    }
    return params;
  },
};
