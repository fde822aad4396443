import { copyParams, type MFParams } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import type { Engine, FitOptions, TrainConfig } from '../engine.ts';
import { minibatchRows, runEpochs, startMinibatch } from './epoch-loop.ts';
import { type NativeEngineOptions, PREFETCH_AHEAD, ptr, ratingsArenaSize, WasmArena } from './wasm.ts';

/** tfjs' AdamOptimizer defaults (tf.train.adam: β1 0.9, β2 0.999, ε = backend epsilon 1e-7 for float32). */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-7;

/** Parameters (or their gradients, or Adam moments) as views into one flat buffer [P | Q | b_user | b_item]. */
export interface FlatParams {
  readonly flat: Float32Array;
  readonly view: MFParams;
  /** Entries [0, factorEnd) are factors (P then Q); [factorEnd, flat.length) are biases. */
  readonly factorEnd: number;
}

export function allocFlat(numUsers: number, numItems: number, factors: number, globalMean = 0): FlatParams {
  return flatViews(
    new Float32Array((numUsers + numItems) * (factors + 1)),
    numUsers,
    numItems,
    factors,
    globalMean,
  );
}

/** Views [P | Q | b_user | b_item] over `flat` (which may be longer, e.g. padded to a multiple of 4). */
export function flatViews(
  flat: Float32Array,
  numUsers: number,
  numItems: number,
  factors: number,
  globalMean = 0,
): FlatParams {
  const factorEnd = (numUsers + numItems) * factors;
  const biasEnd = factorEnd + numUsers + numItems;
  const view: MFParams = {
    factors,
    numUsers,
    numItems,
    globalMean,
    userFactors: flat.subarray(0, numUsers * factors),
    itemFactors: flat.subarray(numUsers * factors, factorEnd),
    userBias: flat.subarray(factorEnd, factorEnd + numUsers),
    itemBias: flat.subarray(factorEnd + numUsers, biasEnd),
  };
  return { flat, view, factorEnd };
}

/**
 * Gradient of the batch's data loss L_B = (1/B) Σ_{(u,i,r) ∈ B} (r̂ − r)², r̂ = μ + b_u + b_i + p_u·q_i, with
 * B = end − start rows order[start…end) of `train`, ADDED into `grad`:
 *   ∂L_B/∂b_u = (2/B) Σ e,  ∂L_B/∂b_i = (2/B) Σ e,  ∂L_B/∂p_u = (2/B) Σ e·q_i,  ∂L_B/∂q_i = (2/B) Σ e·p_u,
 * with e = r̂ − r, summed over the batch's occurrences of each user / item (what tfjs' gather gradient,
 * a scatter-add, produces). Returns Σ e² (the batch's sum of squared errors).
 */
export function accumulateBatchGradient(
  params: MFParams,
  grad: MFParams,
  train: RatingColumns,
  order: Int32Array,
  start: number,
  end: number,
): number {
  const { factors: k, userFactors: P, itemFactors: Q, userBias: bu, itemBias: bi, globalMean: mu } = params;
  const { userFactors: gP, itemFactors: gQ, userBias: gbu, itemBias: gbi } = grad;
  const { users, items, ratings } = train;
  const scale = 2 / (end - start);
  let sse = 0;
  for (let j = start; j < end; j++) {
    const r = order[j]!;
    const u = users[r]!;
    const i = items[r]!;
    const pu = u * k;
    const qi = i * k;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += P[pu + f]! * Q[qi + f]!;
    const e = mu + bu[u]! + bi[i]! + dot - ratings[r]!;
    sse += e * e;
    const d = scale * e;
    gbu[u]! += d;
    gbi[i]! += d;
    for (let f = 0; f < k; f++) {
      gP[pu + f]! += d * Q[qi + f]!;
      gQ[qi + f]! += d * P[pu + f]!;
    }
  }
  return sse;
}

/**
 * One dense Adam step over entries [from, to) of the flat buffers, exactly tfjs' AdamOptimizer
 * (Kingma & Ba 2015, as in tfjs-core/src/optimizers/adam_optimizer.ts), applied to EVERY entry — rows with zero
 * gradient still move through their moments, as in tfjs:
 *   g ← g + 2λθ (Keras l2(λ) regulariser on the whole matrix, when λ > 0)
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   θ ← θ − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
 * computed as θ − c·m/(√v + ε̂) with c = lr·√(1−β2ᵗ)/(1−β1ᵗ), ε̂ = ε·√(1−β2ᵗ) (algebraically identical; one sqrt and
 * one division per entry). Clears g for the next batch. Returns Σθ² of the PRE-update θ when λ > 0 (the regulariser's
 * share of this step's loss), else 0.
 */
export function adamDenseStep(
  theta: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  from: number,
  to: number,
  step: number,
  learningRate: number,
  lambda: number,
): number {
  const b1 = ADAM_BETA1;
  const b2 = ADAM_BETA2;
  const ob1 = 1 - b1;
  const ob2 = 1 - b2;
  const c2 = Math.sqrt(1 - b2 ** step);
  const c = (learningRate * c2) / (1 - b1 ** step);
  const epsHat = ADAM_EPSILON * c2;
  if (lambda === 0) {
    for (let j = from; j < to; j++) {
      const g = grad[j]!;
      const mj = b1 * m[j]! + ob1 * g;
      const vj = b2 * v[j]! + ob2 * g * g;
      m[j] = mj;
      v[j] = vj;
      grad[j] = 0;
      theta[j] = theta[j]! - (c * mj) / (Math.sqrt(vj) + epsHat);
    }
    return 0;
  }
  const twoLambda = 2 * lambda;
  let sumSq = 0;
  for (let j = from; j < to; j++) {
    const t = theta[j]!;
    sumSq += t * t;
    const g = grad[j]! + twoLambda * t;
    const mj = b1 * m[j]! + ob1 * g;
    const vj = b2 * v[j]! + ob2 * g * g;
    m[j] = mj;
    v[j] = vj;
    grad[j] = 0;
    theta[j] = t - (c * mj) / (Math.sqrt(vj) + epsHat);
  }
  return sumSq;
}

/**
 * Minibatch Adam on the MSE loss — the same maths as the tfjs layers model compiled with tf.train.adam and
 * 'meanSquaredError' (see ../engine.ts for the l2 convention):
 *   batch loss = (1/B) Σ (r̂ − r)² + λ·(‖P‖² + ‖Q‖²) + λ_b·(‖b_user‖² + ‖b_item‖²)   (λ_b = l2Bias, default 0),
 *   one dense Adam step per batch over every parameter (adamDenseStep), μ fixed at the training mean.
 * Epoch loss = batch-size-weighted mean of the batch losses, as tfjs' model.fit reports it.
 * Initial factors per config.init/initStd from the seed, biases 0 (or `options.init`).
 */
export function createAdamEngine(engineOptions: NativeEngineOptions = {}): Engine {
  return {
    name: 'adam',
    async fit(train: RatingColumns, shape, config: TrainConfig, options: FitOptions = {}): Promise<MFParams> {
      const { random, mean, start, wasm } = startMinibatch(
        'adam',
        train,
        shape,
        config,
        options,
        engineOptions,
      );
      const { numUsers, numItems } = shape;
      const k = config.factors;
      const n = train.length;
      // θ, g, m, v as flat buffers [P | Q | b_user | b_item], padded to a multiple of 4 for the SIMD kernels
      const total = (numUsers + numItems) * (k + 1);
      const padded = (total + 3) & ~3;
      let arena: WasmArena | undefined;
      let theta: FlatParams;
      let grad: FlatParams;
      let m: Float32Array;
      let v: Float32Array;
      if (wasm) {
        arena = new WasmArena(4 * WasmArena.size(padded) + ratingsArenaSize(n));
        theta = flatViews(arena.f32(padded), numUsers, numItems, k, start.globalMean);
        grad = flatViews(arena.f32(padded), numUsers, numItems, k);
        m = arena.f32(padded);
        v = arena.f32(padded);
      } else {
        theta = allocFlat(numUsers, numItems, k, start.globalMean);
        grad = allocFlat(numUsers, numItems, k);
        m = new Float32Array(total);
        v = new Float32Array(total);
      }
      const { packed, scratch, inScratch } = minibatchRows(arena, train, options);
      theta.view.userFactors.set(start.userFactors);
      theta.view.itemFactors.set(start.itemFactors);
      theta.view.userBias.set(start.userBias);
      theta.view.itemBias.set(start.itemBias);
      const { factorEnd } = theta;
      const end = wasm ? padded : total;
      const lambda = config.l2;
      const lambdaBias = config.l2Bias ?? 0;
      const lr = config.learningRate;
      const kernels = arena?.kernels;
      let step = 0;
      await runEpochs(
        'adam',
        n,
        config,
        random,
        options,
        { scratch, inScratch },
        theta.view,
        (order, s, e) => {
          step++;
          let loss: number;
          if (kernels) {
            const t = theta.view;
            const g = grad.view;
            const sse = kernels.adam_grad(
              ptr(t.userFactors),
              ptr(t.itemFactors),
              ptr(t.userBias),
              ptr(t.itemBias),
              ptr(g.userFactors),
              ptr(g.itemFactors),
              ptr(g.userBias),
              ptr(g.itemBias),
              ptr(packed),
              ptr(order),
              s,
              e,
              k,
              mean,
              2 / (e - s),
              PREFETCH_AHEAD,
            );
            loss = sse / (e - s);
            // c = lr·√(1−β2ᵗ)/(1−β1ᵗ), ε̂ = ε·√(1−β2ᵗ) (see adamDenseStep)
            const c2 = Math.sqrt(1 - ADAM_BETA2 ** step);
            const c = (lr * c2) / (1 - ADAM_BETA1 ** step);
            const epsHat = ADAM_EPSILON * c2;
            const base = ptr(theta.flat);
            const gBase = ptr(grad.flat);
            if (lambda === lambdaBias) {
              loss += lambda * kernels.adam_dense(base, gBase, ptr(m), ptr(v), end, c, epsHat, 2 * lambda);
            } else {
              loss +=
                lambda * kernels.adam_dense(base, gBase, ptr(m), ptr(v), factorEnd, c, epsHat, 2 * lambda);
              const o = factorEnd * 4;
              loss +=
                lambdaBias *
                kernels.adam_dense(
                  base + o,
                  gBase + o,
                  ptr(m) + o,
                  ptr(v) + o,
                  end - factorEnd,
                  c,
                  epsHat,
                  2 * lambdaBias,
                );
            }
          } else {
            const sse = accumulateBatchGradient(theta.view, grad.view, train, order, s, e);
            loss = sse / (e - s);
            if (lambda === lambdaBias) {
              loss += lambda * adamDenseStep(theta.flat, grad.flat, m, v, 0, end, step, lr, lambda);
            } else {
              loss += lambda * adamDenseStep(theta.flat, grad.flat, m, v, 0, factorEnd, step, lr, lambda);
              loss +=
                lambdaBias * adamDenseStep(theta.flat, grad.flat, m, v, factorEnd, end, step, lr, lambdaBias);
            }
          }
          return { loss, sum: loss * (e - s) };
        },
      );
      // copy out of the kernel memory so the caller does not keep the whole arena (columns included) alive
      return wasm ? copyParams(theta.view) : theta.view;
    },
  };
}

/** Native minibatch Adam with the default kernels ('auto'). */
export const adamEngine: Engine = createAdamEngine();
