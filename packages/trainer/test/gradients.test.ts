import { allocParams, type MFParams } from '@movierec/core';
import { type RatingColumns, Rng } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../src/engine.ts';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  ADAM_EPSILON,
  accumulateBatchGradient,
  adamDenseStep,
  adamEngine,
  allocFlat,
} from '../src/engines/adam.ts';
import { sgdPass } from '../src/engines/sgd.ts';

function smallProblem(seed = 3) {
  const random = new Rng(seed);
  const numUsers = 4;
  const numItems = 5;
  const k = 3;
  const flat = allocFlat(numUsers, numItems, k, 3.2);
  for (let j = 0; j < flat.flat.length; j++) flat.flat[j] = random.normal() * 0.5;
  // 7 ratings; user 1 and item 2 appear more than once, user 3 never
  const columns: RatingColumns = {
    length: 7,
    users: Int32Array.from([0, 1, 1, 2, 0, 1, 2]),
    items: Int32Array.from([2, 2, 0, 4, 1, 3, 2]),
    ratings: Float32Array.from([4, 3.5, 5, 1, 2, 4.5, 3]),
    timestamps: new Int32Array(7),
  };
  return { flat, columns, numUsers, numItems, k };
}

/** L_B = (1/B) Σ (μ + b_u + b_i + p_u·q_i − r)² in float64 from the stored float32 parameters. */
function batchLoss(p: MFParams, c: RatingColumns): number {
  let s = 0;
  for (let r = 0; r < c.length; r++) {
    const u = c.users[r]!;
    const i = c.items[r]!;
    let dot = 0;
    for (let f = 0; f < p.factors; f++)
      dot += p.userFactors[u * p.factors + f]! * p.itemFactors[i * p.factors + f]!;
    s += (p.globalMean + p.userBias[u]! + p.itemBias[i]! + dot - c.ratings[r]!) ** 2;
  }
  return s / c.length;
}

describe('Adam batch gradient', () => {
  it('matches central finite differences of the batch MSE for every parameter', () => {
    const { flat, columns, numUsers, numItems, k } = smallProblem();
    const grad = allocFlat(numUsers, numItems, k);
    const order = Int32Array.from({ length: columns.length }, (_, j) => j);
    const sse = accumulateBatchGradient(flat.view, grad.view, columns, order, 0, columns.length);
    expect(sse / columns.length).toBeCloseTo(batchLoss(flat.view, columns), 5);
    let checked = 0;
    for (let j = 0; j < flat.flat.length; j++) {
      const saved = flat.flat[j]!;
      flat.flat[j] = saved + 1e-2;
      const up = flat.flat[j]!;
      const lossUp = batchLoss(flat.view, columns);
      flat.flat[j] = saved - 1e-2;
      const down = flat.flat[j]!;
      const lossDown = batchLoss(flat.view, columns);
      flat.flat[j] = saved;
      const numeric = (lossUp - lossDown) / (up - down);
      expect(grad.flat[j]).toBeCloseTo(numeric, 3);
      if (grad.flat[j] !== 0) checked++;
    }
    // user 3's factors and bias (never rated) have zero gradient; most others do not
    expect(grad.view.userBias[3]).toBe(0);
    expect(checked).toBeGreaterThan(20);
  });

  it('applies the dense Adam update to every entry, including rows with zero gradient, as tfjs does', () => {
    const theta = Float32Array.from([0.5, -0.2, 0.1]);
    const grad = Float32Array.from([0.3, 0, -0.1]);
    const m = Float32Array.from([0, 0.05, 0.01]);
    const v = Float32Array.from([0, 0.002, 0.0004]);
    const lr = 0.01;
    const lambda = 0.1;
    const step = 3;
    const want = [...theta].map((t, j) => {
      // tfjs: g += 2λθ (l2 regulariser); m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²;
      // θ −= lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
      const g = grad[j]! + 2 * lambda * t;
      const mj = ADAM_BETA1 * m[j]! + (1 - ADAM_BETA1) * g;
      const vj = ADAM_BETA2 * v[j]! + (1 - ADAM_BETA2) * g * g;
      return (
        t - (lr * (mj / (1 - ADAM_BETA1 ** step))) / (Math.sqrt(vj / (1 - ADAM_BETA2 ** step)) + ADAM_EPSILON)
      );
    });
    const sumSq = adamDenseStep(theta, grad, m, v, 0, 3, step, lr, lambda);
    expect(sumSq).toBeCloseTo(0.25 + 0.04 + 0.01, 6);
    for (let j = 0; j < 3; j++) expect(theta[j]).toBeCloseTo(want[j]!, 6);
    expect(theta[1]).not.toBe(-0.2); // zero data gradient, still moved by momentum and L2
    expect([...grad]).toEqual([0, 0, 0]); // cleared for the next batch
  });

  it('reports the epoch loss as MSE plus λ‖W‖² (Keras l2 on the whole factor matrices) for one full batch', async () => {
    const { flat, columns, numUsers, numItems, k } = smallProblem(5);
    const init = allocParams(numUsers, numItems, k);
    init.userFactors.set(flat.view.userFactors);
    init.itemFactors.set(flat.view.itemFactors);
    const config: TrainConfig = {
      optimizer: 'adam',
      factors: k,
      epochs: 1,
      batchSize: 64,
      learningRate: 0.01,
      l2: 0.05,
      initStd: 0.1,
      seed: 1,
    };
    let loss = Number.NaN;
    await adamEngine.fit(columns, { numUsers, numItems }, config, {
      init,
      onEpoch: (s) => {
        loss = s.loss;
        return undefined;
      },
    });
    let mu = 0;
    for (const r of columns.ratings) mu += r;
    const start = { ...init, globalMean: mu / columns.length };
    let sq = 0;
    for (const a of [init.userFactors, init.itemFactors]) for (const x of a) sq += x * x;
    expect(loss).toBeCloseTo(batchLoss(start, columns) + 0.05 * sq, 5);
  });
});

describe('SGD update', () => {
  it('follows the Funk/Koren rule for one rating', () => {
    const p = allocParams(1, 1, 2, 3);
    p.userFactors.set([0.1, 0.2]);
    p.itemFactors.set([0.3, -0.4]);
    p.userBias[0] = 0.5;
    p.itemBias[0] = -0.25;
    const c: RatingColumns = {
      length: 1,
      users: Int32Array.of(0),
      items: Int32Array.of(0),
      ratings: Float32Array.of(4),
      timestamps: new Int32Array(1),
    };
    const g = 0.1;
    const l = 0.02;
    const lb = 0.01;
    const e = 4 - (3 + 0.5 - 0.25 + (0.1 * 0.3 - 0.2 * 0.4));
    const sse = sgdPass(p, c, Int32Array.of(0), 0, 1, g, l, lb);
    expect(sse).toBeCloseTo(e * e, 6);
    expect(p.userBias[0]).toBeCloseTo(0.5 + g * (e - lb * 0.5), 6);
    expect(p.itemBias[0]).toBeCloseTo(-0.25 + g * (e - lb * -0.25), 6);
    expect(p.userFactors[0]).toBeCloseTo(0.1 + g * (e * 0.3 - l * 0.1), 6);
    expect(p.itemFactors[1]).toBeCloseTo(-0.4 + g * (e * 0.2 - l * -0.4), 6);
  });
});
