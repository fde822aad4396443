/**
 * The native Adam engine must reproduce the TensorFlow.js reference (the notebook's layers model, tf.train.adam,
 * 'meanSquaredError'): trained from the same initial weights on the same batch order, their per-epoch losses agree
 * within 1%. Checked on a small synthetic dataset and on ratings sampled from the bundled MovieLens data.
 */
import { allocParams, type MFParams } from '@movierec/core';
import { generateSynthetic, loadBundled, type RatingColumns, Rng, takeRows } from '@movierec/data';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine, TrainConfig } from '../src/engine.ts';
import { accumulateBatchGradient, adamEngine, createAdamEngine } from '../src/engines/adam.ts';
import { createTfjsEngine } from '../src/engines/tfjs.ts';
import { buildMFModel, initTfjsBackend, LAYER, setMFWeights, tf } from '../src/tfjs/index.ts';

/** Generous: wasm start-up and training share 2 cores with other jobs; no test asserts a time. */
const TIMEOUT = 120_000;

interface Case {
  train: RatingColumns;
  shape: { numUsers: number; numItems: number };
}

const base: TrainConfig = {
  optimizer: 'adam',
  factors: 8,
  epochs: 5,
  batchSize: 256, // 3000 = 11 × 256 + 184: the last batch is short, so the epoch-loss weighting is exercised
  learningRate: 0.01,
  l2: 0,
  initStd: 0.1,
  seed: 5,
};
const tfjsEngine = createTfjsEngine({ onBackend: () => {} });

/** Any shared start will do: N(0, 0.1²) factors, zero biases (μ is the training mean on both engines). */
function initial(shape: Case['shape'], factors: number, seed: number): MFParams {
  const random = new Rng(seed);
  const params = allocParams(shape.numUsers, shape.numItems, factors);
  for (const a of [params.userFactors, params.itemFactors])
    for (let j = 0; j < a.length; j++) a[j] = 0.1 * random.normal();
  return params;
}

async function epochLosses(
  engine: Engine,
  data: Case,
  config: TrainConfig,
  shared = true,
): Promise<number[]> {
  const losses: number[] = [];
  await engine.fit(data.train, data.shape, config, {
    ...(shared
      ? {
          init: initial(data.shape, config.factors, 17),
          batchOrder: (epoch: number) => new Rng(1000 + epoch).permutation(data.train.length),
        }
      : {}),
    onEpoch: (stats) => {
      losses.push(stats.loss);
      return undefined;
    },
  });
  return losses;
}

function expectAgreement(native: number[], reference: number[], epochs: number): void {
  expect(native).toHaveLength(epochs);
  expect(reference).toHaveLength(epochs);
  // training really happened, so this is not the trivial agreement of two untouched models
  expect(reference.at(-1)!).toBeLessThan(0.9 * reference[0]!);
  for (let e = 0; e < epochs; e++) {
    const relative = Math.abs(native[e]! - reference[e]!) / reference[e]!;
    expect(relative, `epoch ${e + 1}: native ${native[e]} vs tfjs ${reference[e]}`).toBeLessThan(0.01);
  }
  if (process.env.SHOW_AGREEMENT) console.log({ tfjs: reference, native });
}

const synthetic: Case = (() => {
  const ds = generateSynthetic({ users: 150, items: 120, ratings: 3000, seed: 11 });
  return { train: ds.ratings, shape: { numUsers: ds.users.size, numItems: ds.items.size } };
})();
let real: Case;

beforeAll(async () => {
  // 3,000 ratings sampled at random from the bundled ml-latest-small (all its users and movies stay in the shape)
  const ds = await loadBundled();
  const rows = new Rng(3).permutation(ds.ratings.length).subarray(0, 3000);
  real = { train: takeRows(ds.ratings, rows), shape: { numUsers: ds.users.size, numItems: ds.items.size } };
}, TIMEOUT);

describe('engine agreement: native adam vs tfjs layers, same initial weights and batch order', {
  timeout: TIMEOUT,
}, () => {
  it('per-epoch losses agree within 1% (synthetic, no L2: the reference preset maths)', async () => {
    expectAgreement(
      await epochLosses(adamEngine, synthetic, base),
      await epochLosses(tfjsEngine, synthetic, base),
      5,
    );
  });

  it('per-epoch losses agree within 1% (synthetic, Keras-style L2 on factors and biases)', async () => {
    const config = { ...base, l2: 1e-3, l2Bias: 1e-4 };
    expectAgreement(
      await epochLosses(adamEngine, synthetic, config),
      await epochLosses(tfjsEngine, synthetic, config),
      5,
    );
  });

  it('per-epoch losses agree within 1% (3,000 real MovieLens ratings, lr 0.005 as in the notebook)', async () => {
    const config = { ...base, learningRate: 0.005, epochs: 4 };
    expectAgreement(
      await epochLosses(adamEngine, real, config),
      await epochLosses(tfjsEngine, real, config),
      4,
    );
  });

  it("per-epoch losses agree within 1% with the native Adam's JS kernels too (float64 arithmetic)", async () => {
    const jsAdam = createAdamEngine({ kernels: 'js' });
    expectAgreement(
      await epochLosses(jsAdam, synthetic, base),
      await epochLosses(tfjsEngine, synthetic, base),
      5,
    );
  });

  it('given only a seed, both start from the same weights and shuffle alike', async () => {
    const config = { ...base, epochs: 2 };
    expectAgreement(
      await epochLosses(adamEngine, synthetic, config, false),
      await epochLosses(tfjsEngine, synthetic, config, false),
      2,
    );
  });

  it("the layers model's gradient (gather + scatter-add) equals the native hand-derived batch gradient", async () => {
    await initTfjsBackend();
    const { train, shape } = synthetic;
    const k = base.factors;
    const params = { ...initial(shape, k, 17), globalMean: 3.5 };
    for (let j = 0; j < params.userBias.length; j++) params.userBias[j] = 0.01 * (j % 7);
    // native: ∂L/∂θ of L = (1/B) Σ (r̂ − r)² over the first 500 rows
    const rows = 500;
    const native = allocParams(shape.numUsers, shape.numItems, k);
    const order = Int32Array.from({ length: rows }, (_, j) => j);
    accumulateBatchGradient(params, native, train, order, 0, rows);
    // tfjs: the same loss through the layers model, differentiated by tf.variableGrads
    const model = buildMFModel({ ...shape, factors: k, globalMean: 3.5, learningRate: 0.01 });
    setMFWeights(model, params);
    const names = [LAYER.userFactors, LAYER.movieFactors, LAYER.userBias, LAYER.movieBias];
    const variables = names.map((name) => model.getLayer(name).trainableWeights[0]!.read() as tf.Variable);
    const grads = tf.tidy(() => {
      const u = tf.tensor2d(train.users.subarray(0, rows), [rows, 1], 'int32');
      const i = tf.tensor2d(train.items.subarray(0, rows), [rows, 1], 'int32');
      const y = tf.tensor2d(train.ratings.subarray(0, rows), [rows, 1]);
      const loss = () => tf.losses.meanSquaredError(y, model.apply([u, i]) as tf.Tensor) as tf.Scalar;
      const { grads } = tf.variableGrads(loss, variables);
      return variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
    });
    const expected = [native.userFactors, native.itemFactors, native.userBias, native.itemBias];
    for (let w = 0; w < 4; w++) {
      let worst = 0;
      let scale = 0;
      for (let j = 0; j < expected[w]!.length; j++) {
        worst = Math.max(worst, Math.abs(grads[w]![j]! - expected[w]![j]!));
        scale = Math.max(scale, Math.abs(expected[w]![j]!));
      }
      expect(scale, names[w]).toBeGreaterThan(0);
      expect(worst / scale, names[w]).toBeLessThan(1e-4);
    }
    model.optimizer?.dispose();
    model.dispose();
  });
});
