import { type MFParams, solveBiasedRidge } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import type { Engine, EpochStats, FitOptions, TrainConfig } from '../engine.ts';
import {
  type AlsOperands,
  alsRows,
  alsScratch,
  balancedChunks,
  type RatingRowArrays as RatingRows,
} from './bpmf/rows.mjs';
import {
  DivergenceError,
  seededStart,
  TrainingInputError,
  validateTraining,
  yieldToEventLoop,
} from './common.ts';
import { defaultThreads, WorkerPool } from './pool.ts';

/**
 * Groups the rating columns by user (byUser = true) or by item, as compressed sparse rows (counting sort, O(n));
 * `shared`: on SharedArrayBuffers (for worker threads).
 */
export function groupRatings(
  train: RatingColumns,
  rows: number,
  byUser: boolean,
  shared = false,
): RatingRows {
  const key = byUser ? train.users : train.items;
  const other = byUser ? train.items : train.users;
  const n = train.length;
  const buffer = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const offsets = new Int32Array(buffer(4 * (rows + 1)));
  for (let r = 0; r < n; r++) offsets[key[r]! + 1]!++;
  for (let j = 0; j < rows; j++) offsets[j + 1]! += offsets[j]!;
  const cursor = offsets.slice(0, rows);
  const others = new Int32Array(buffer(4 * n));
  const ratings = new Float32Array(buffer(4 * n));
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
  ...[factors, bias, otherFactors, otherBias, k, mu, lambda, lambdaBias]: AlsOperands
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

/** Fewest ratings per thread worth a thread of its own (smaller runs use fewer threads: the same result). */
const RATINGS_PER_THREAD = 25_000;
/** Chunks per side, fixed by the data (not the thread count). */
const CHUNKS = 64;

/** A copy of `a` on a SharedArrayBuffer (worker threads write it). */
function sharedCopy(a: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(4 * a.length));
  out.set(a);
  return out;
}

/**
 * Alternating least squares with biases: each epoch solves every user's [p_u, b_u] with the items fixed, then every
 * item's [q_i, b_i] with the users fixed (alsHalfStep's maths, run by bpmf/rows.mjs's alsRows); λ = config.l2 (must
 * be > 0), λ_b = config.l2Bias ?? l2, μ fixed at the training mean. learningRate and batchSize are not used. Epoch
 * loss = training MSE after the epoch. Rows are independent given the other side, so a half-step runs on
 * `FitOptions.threads` workers (default every core) over 64 contiguous chunks balanced by ratings, parameters on
 * SharedArrayBuffers: the result is the same for every thread count (each row's solve reads only the other side).
 */
export function createAlsEngine(engineOptions: { workerUrl?: URL } = {}): Engine {
  return {
    name: 'als',
    async fit(train: RatingColumns, shape, config: TrainConfig, options: FitOptions = {}): Promise<MFParams> {
      validateTraining('als', train, shape, config);
      if (!(config.l2 > 0))
        throw new TrainingInputError(
          `als: config.l2 must be > 0 (each row's system is singular without it), got ${config.l2}`,
        );
      const requested = options.threads ?? defaultThreads();
      if (!(Number.isInteger(requested) && requested >= 1))
        throw new TrainingInputError(`als: threads must be a positive integer, got ${requested}`);
      const n = train.length;
      const threads = Math.max(1, Math.min(requested, Math.floor(n / RATINGS_PER_THREAD)));
      const { start } = seededStart(train, shape, config, options.init);
      const params: MFParams = {
        ...start,
        userFactors: sharedCopy(start.userFactors),
        itemFactors: sharedCopy(start.itemFactors),
        userBias: sharedCopy(start.userBias),
        itemBias: sharedCopy(start.itemBias),
      };
      const { numUsers, numItems } = shape;
      const k = config.factors;
      const lambdaBias = config.l2Bias ?? config.l2;
      const byUser = groupRatings(train, numUsers, true, true);
      const byItem = groupRatings(train, numItems, false, true);
      const { userFactors: P, itemFactors: Q, userBias: bu, itemBias: bi, globalMean: mu } = params;
      // a row's Cholesky ((k+1)³/3 flops) ≈ 2(k+1)/3 ratings' Gram updates ((k+1)²/2 flops each)
      const perRow = Math.ceil((2 * (k + 1)) / 3);
      const bounds = [
        balancedChunks(byUser.offsets, numUsers, Math.min(CHUNKS, Math.max(1, numUsers)), perRow),
        balancedChunks(byItem.offsets, numItems, Math.min(CHUNKS, Math.max(1, numItems)), perRow),
      ] as const;
      const control = new Int32Array(new SharedArrayBuffer(4));
      const lambda = config.l2;
      const pool =
        threads > 1
          ? new WorkerPool(
              engineOptions.workerUrl ?? new URL('./rows-worker.mjs', import.meta.url),
              threads,
              { kind: 'als', byUser, byItem, P, Q, bu, bi, bounds, control, k, mu, lambda, lambdaBias },
              'als',
            )
          : undefined;
      const scratch = alsScratch(k);
      const halfStep = async (side: 0 | 1) => {
        if (pool) {
          Atomics.store(control, 0, 0);
          await pool.run({ type: 'half', side }, { signal: options.signal });
        } else if (side === 0) alsRows(byUser, P, bu, Q, bi, k, mu, lambda, lambdaBias, 0, numUsers, scratch);
        else alsRows(byItem, Q, bi, P, bu, k, mu, lambda, lambdaBias, 0, numItems, scratch);
      };
      try {
        for (let epoch = 0; epoch < config.epochs; epoch++) {
          options.signal?.throwIfAborted();
          const t0 = performance.now();
          await halfStep(0);
          options.onProgress?.({ done: epoch * n + n / 2, total: config.epochs * n });
          await yieldToEventLoop();
          options.signal?.throwIfAborted();
          await halfStep(1);
          const loss = trainingMse(params, train);
          if (!Number.isFinite(loss)) throw new DivergenceError('als', epoch + 1, 1, loss, config);
          options.onProgress?.({ done: (epoch + 1) * n, total: config.epochs * n });
          const seconds = (performance.now() - t0) / 1000;
          const stats: EpochStats = { epoch: epoch + 1, loss, seconds, ratingsPerSecond: n / seconds };
          if ((await options.onEpoch?.(stats, params)) === 'stop') break;
          await yieldToEventLoop();
        }
      } finally {
        await pool?.close();
      }
      // plain (unshared) copies for the caller
      return {
        ...params,
        userFactors: P.slice(),
        itemFactors: Q.slice(),
        userBias: bu.slice(),
        itemBias: bi.slice(),
      };
    },
  };
}

/** The ALS engine train() uses: on every core by default. */
export const alsEngine: Engine = createAlsEngine();
