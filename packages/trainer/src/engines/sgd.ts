import type { MFParams } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import type { Engine, EpochStats, FitOptions, TrainConfig } from '../engine.ts';
import { Random } from '../random.ts';
import {
  DivergenceError,
  diverged,
  epochOrder,
  initialParams,
  meanRating,
  validateTraining,
  yieldToEventLoop,
} from './common.ts';

/**
 * One SGD pass over rows order[start…end) (Funk 2006; Koren, Bell & Volinsky 2009, eq. 5), per rating:
 *   e = r − r̂;  b_u += γ(e − λ_b·b_u);  b_i += γ(e − λ_b·b_i);
 *   p_u += γ(e·q_i − λ·p_u);  q_i += γ(e·p_u − λ·q_i)   (both factor updates use the old p_u, q_i).
 * Returns Σ e² of the pre-update errors.
 */
export function sgdPass(
  params: MFParams,
  train: RatingColumns,
  order: Int32Array,
  start: number,
  end: number,
  gamma: number,
  lambda: number,
  lambdaBias: number,
): number {
  const { factors: k, userFactors: P, itemFactors: Q, userBias: bu, itemBias: bi, globalMean: mu } = params;
  const { users, items, ratings } = train;
  const decay = 1 - gamma * lambda;
  const decayBias = 1 - gamma * lambdaBias;
  let sse = 0;
  for (let j = start; j < end; j++) {
    const r = order[j]!;
    const u = users[r]!;
    const i = items[r]!;
    const pu = u * k;
    const qi = i * k;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += P[pu + f]! * Q[qi + f]!;
    const e = ratings[r]! - (mu + bu[u]! + bi[i]! + dot);
    sse += e * e;
    const ge = gamma * e;
    bu[u] = decayBias * bu[u]! + ge;
    bi[i] = decayBias * bi[i]! + ge;
    for (let f = 0; f < k; f++) {
      const p = P[pu + f]!;
      const q = Q[qi + f]!;
      P[pu + f] = decay * p + ge * q;
      Q[qi + f] = decay * q + ge * p;
    }
  }
  return sse;
}

/**
 * Funk/Koren biased SGD: one rating at a time in a seeded shuffled order, learning rate γ = config.learningRate,
 * λ = config.l2 on factors, λ_b = config.l2Bias ?? l2 on biases; μ fixed at the training mean.
 * Epoch loss = mean of e² over the epoch, each e taken just before its rating's update (no L2 term).
 * Divergence is checked every config.batchSize ratings ("batch" in the error message counts those chunks).
 */
export const sgdEngine: Engine = {
  name: 'sgd',
  async fit(train: RatingColumns, shape, config: TrainConfig, options: FitOptions = {}): Promise<MFParams> {
    validateTraining('sgd', train, shape, config);
    const random = new Random(config.seed);
    const params = initialParams(shape, config, meanRating(train), options.init, random);
    const n = train.length;
    const chunk = config.batchSize;
    const lambdaBias = config.l2Bias ?? config.l2;
    const scratch = new Int32Array(options.batchOrder ? 0 : n);
    let firstMse = 0;
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const t0 = performance.now();
      const order = epochOrder(n, epoch, random, options.batchOrder, scratch);
      let sse = 0;
      for (let s = 0, b = 1; s < n; s += chunk, b++) {
        options.signal?.throwIfAborted();
        const part = sgdPass(
          params,
          train,
          order,
          s,
          Math.min(n, s + chunk),
          config.learningRate,
          config.l2,
          lambdaBias,
        );
        const chunkMse = part / (Math.min(n, s + chunk) - s);
        if (epoch === 0 && b === 1) firstMse = chunkMse;
        if (diverged(chunkMse, firstMse)) throw new DivergenceError('sgd', epoch + 1, b, chunkMse, config);
        sse += part;
        if ((b & 63) === 0) await yieldToEventLoop();
      }
      const seconds = (performance.now() - t0) / 1000;
      const stats: EpochStats = { epoch: epoch + 1, loss: sse / n, seconds, ratingsPerSecond: n / seconds };
      if ((await options.onEpoch?.(stats, params)) === 'stop') break;
      await yieldToEventLoop();
    }
    return params;
  },
};
