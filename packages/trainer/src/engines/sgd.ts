import { copyParams, type MFParams } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import type { Engine, FitOptions, TrainConfig } from '../engine.ts';
import { minibatchRows, runEpochs, startMinibatch } from './epoch-loop.ts';
import { type NativeEngineOptions, PREFETCH_AHEAD, ptr, ratingsArenaSize, WasmArena } from './wasm.ts';

/**
 * One rating's SGD step (Funk 2006; Koren, Bell & Volinsky 2009, eq. 5), with decay = 1 − γλ, decayBias = 1 − γλ_b:
 *   e = r − (μ + b_u + b_i + p_u·q_i);  b_u ← decayBias·b_u + γe;  b_i ← decayBias·b_i + γe;
 *   p_u ← decay·p_u + γe·q_i;  q_i ← decay·q_i + γe·p_u   (both factor updates use the old p_u, q_i).
 * `k` is the row stride of P and Q. Returns e² of the pre-update error. The one JS form of the update: the
 * shuffled pass below and the block pass of sgd-blocks.ts call it (the wasm kernels are its float32 twins).
 */
export function sgdStep(
  P: Float32Array,
  Q: Float32Array,
  bu: Float32Array,
  bi: Float32Array,
  u: number,
  i: number,
  rating: number,
  k: number,
  mu: number,
  gamma: number,
  decay: number,
  decayBias: number,
): number {
  const pu = u * k;
  const qi = i * k;
  let dot = 0;
  for (let f = 0; f < k; f++) dot += P[pu + f]! * Q[qi + f]!;
  const e = rating - (mu + bu[u]! + bi[i]! + dot);
  const ge = gamma * e;
  bu[u] = decayBias * bu[u]! + ge;
  bi[i] = decayBias * bi[i]! + ge;
  for (let f = 0; f < k; f++) {
    const p = P[pu + f]!;
    const q = Q[qi + f]!;
    P[pu + f] = decay * p + ge * q;
    Q[qi + f] = decay * q + ge * p;
  }
  return e * e;
}

/** One SGD pass (sgdStep) over rows order[start…end) of the columns. Returns Σ e² of the pre-update errors. */
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
    sse += sgdStep(P, Q, bu, bi, users[r]!, items[r]!, ratings[r]!, k, mu, gamma, decay, decayBias);
  }
  return sse;
}

/**
 * Funk/Koren biased SGD: one rating at a time in a seeded shuffled order, learning rate γ = config.learningRate,
 * λ = config.l2 on factors, λ_b = config.l2Bias ?? l2 on biases; μ fixed at the training mean.
 * Epoch loss = mean of e² over the epoch, each e taken just before its rating's update (no L2 term).
 * Divergence is checked every config.batchSize ratings ("batch" in the error message counts those chunks).
 * Kernels: see NativeEngineOptions (wasm SIMD in float32 by default when factors % 4 = 0, else JS).
 */
export function createSgdEngine(engineOptions: NativeEngineOptions = {}): Engine {
  return {
    name: 'sgd',
    async fit(train: RatingColumns, shape, config: TrainConfig, options: FitOptions = {}): Promise<MFParams> {
      const { random, start, wasm } = startMinibatch('sgd', train, shape, config, options, engineOptions);
      const n = train.length;
      const k = config.factors;
      const { numUsers, numItems } = shape;
      let params: MFParams = start;
      let arena: WasmArena | undefined;
      if (wasm) {
        arena = new WasmArena(
          WasmArena.size(numUsers * k) +
            WasmArena.size(numItems * k) +
            WasmArena.size(numUsers) +
            WasmArena.size(numItems) +
            ratingsArenaSize(n),
        );
        params = {
          ...start,
          userFactors: arena.f32(numUsers * k),
          itemFactors: arena.f32(numItems * k),
          userBias: arena.f32(numUsers),
          itemBias: arena.f32(numItems),
        };
        params.userFactors.set(start.userFactors);
        params.itemFactors.set(start.itemFactors);
        params.userBias.set(start.userBias);
        params.itemBias.set(start.itemBias);
      }
      const { packed, scratch, inScratch } = minibatchRows(arena, train, options);
      const gamma = config.learningRate;
      const lambda = config.l2;
      const lambdaBias = config.l2Bias ?? config.l2;
      const kernels = arena?.kernels;
      await runEpochs('sgd', n, config, random, options, { scratch, inScratch }, params, (order, s, e) => {
        const sse = kernels
          ? kernels.sgd_pass(
              ptr(params.userFactors),
              ptr(params.itemFactors),
              ptr(params.userBias),
              ptr(params.itemBias),
              ptr(packed),
              ptr(order),
              s,
              e,
              k,
              params.globalMean,
              gamma,
              1 - gamma * lambda,
              1 - gamma * lambdaBias,
              PREFETCH_AHEAD,
            )
          : sgdPass(params, train, order, s, e, gamma, lambda, lambdaBias);
        return { loss: sse / (e - s), sum: sse };
      });
      return wasm ? copyParams(params) : params;
    },
  };
}

/** Native Funk/Koren SGD with the default kernels ('auto'). */
export const sgdEngine: Engine = createSgdEngine();
