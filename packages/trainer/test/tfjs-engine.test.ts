import { allocParams, type MFParams } from '@movierec/core';
import { type RatingColumns, Rng } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../src/engine.ts';
import { DivergenceError, TrainingInputError } from '../src/engines/common.ts';
import { createTfjsEngine } from '../src/engines/tfjs.ts';
import { tf } from '../src/tfjs/index.ts';
import { uniform } from './helpers.ts';

/** Generous: wasm start-up and training share 2 cores with other jobs; no test asserts a time. */
const TIMEOUT = 120_000;

/** Ratings from a rank-3 model plus noise, clipped to 1…5: (user, movie) pairs drawn at random. */
function synthetic(numUsers: number, numItems: number, n: number, seed: number): RatingColumns {
  const random = uniform(seed);
  const k = 3;
  const p = Float32Array.from({ length: numUsers * k }, () => random() - 0.5);
  const q = Float32Array.from({ length: numItems * k }, () => random() - 0.5);
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const ratings = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const u = Math.floor(random() * numUsers);
    const i = Math.floor(random() * numItems);
    let x = 3.5 + (random() - 0.5);
    for (let f = 0; f < k; f++) x += 4 * p[u * k + f]! * q[i * k + f]!;
    users[r] = u;
    items[r] = i;
    ratings[r] = Math.min(5, Math.max(1, Math.round(x * 2) / 2));
  }
  return { length: n, users, items, ratings, timestamps: new Int32Array(n) };
}

function randomParams(
  numUsers: number,
  numItems: number,
  factors: number,
  mean: number,
  seed: number,
): MFParams {
  const random = uniform(seed);
  const params = allocParams(numUsers, numItems, factors, mean);
  for (const a of [params.userFactors, params.itemFactors])
    for (let j = 0; j < a.length; j++) a[j] = 0.1 * (random() - 0.5);
  return params;
}

/** MSE = (1/n) Σ (r − μ − b_u − b_i − p_u·q_i)². */
function mse(params: MFParams, data: RatingColumns): number {
  const k = params.factors;
  let sum = 0;
  for (let r = 0; r < data.length; r++) {
    const u = data.users[r]!;
    const i = data.items[r]!;
    let pred = params.globalMean + params.userBias[u]! + params.itemBias[i]!;
    for (let f = 0; f < k; f++) pred += params.userFactors[u * k + f]! * params.itemFactors[i * k + f]!;
    sum += (data.ratings[r]! - pred) ** 2;
  }
  return sum / data.length;
}

const shape = { numUsers: 60, numItems: 40 };
const data = synthetic(shape.numUsers, shape.numItems, 2000, 1);
const config: TrainConfig = {
  optimizer: 'adam',
  factors: 4,
  epochs: 3,
  batchSize: 256,
  learningRate: 0.01,
  l2: 0,
  initStd: 0.05,
  seed: 3,
};
const engine = createTfjsEngine({ onBackend: () => {} });

describe('tfjs engine', { timeout: TIMEOUT }, () => {
  it('trains the layers model: per-epoch loss falls below the global-mean baseline, backend reported', async () => {
    const losses: number[] = [];
    const params = await engine.fit(
      data,
      shape,
      { ...config, epochs: 8 },
      { onEpoch: (s) => void losses.push(s.loss) },
    );
    expect(['tensorflow', 'wasm', 'cpu']).toContain(engine.backend?.name);
    expect(losses).toHaveLength(8);
    for (let e = 1; e < losses.length; e++) expect(losses[e]!).toBeLessThan(losses[e - 1]!);
    const baseline = mse({ ...allocParams(60, 40, 4, params.globalMean) }, data);
    expect(mse(params, data)).toBeLessThan(0.8 * baseline);
    let mean = 0;
    for (let r = 0; r < data.length; r++) mean += data.ratings[r]!;
    expect(params.globalMean).toBeCloseTo(mean / data.length, 5);
  });

  it('starts from init: a single full batch reports the MSE of the initial weights', async () => {
    const init = randomParams(60, 40, 4, 3.4, 9);
    const stats: number[] = [];
    await engine.fit(
      data,
      shape,
      { ...config, epochs: 1, batchSize: data.length },
      {
        init,
        onEpoch: (s) => void stats.push(s.loss),
      },
    );
    // μ is the training mean whatever init.globalMean says
    const mean = data.ratings.reduce((a, b) => a + b, 0) / data.length;
    expect(stats[0]).toBeCloseTo(mse({ ...init, globalMean: mean }, data), 4);
  });

  it("takes tfjs Adam's first step: every weight with a gradient moves by ≈ lr, the others stay put", async () => {
    const init = randomParams(60, 40, 4, 3.4, 9);
    const few = { ...data, length: 50 }; // 50 ratings leave most users and movies without a gradient
    const lr = 0.01;
    const out = await engine.fit(
      few,
      shape,
      { ...config, epochs: 1, batchSize: 50, learningRate: lr },
      { init },
    );
    const rated = new Set(Array.from(few.users.subarray(0, 50)));
    for (let u = 0; u < 60; u++) {
      // Adam step 1: m̂ = g, v̂ = g², so Δw = −lr · g / (|g| + ε) = −lr · sign(g)
      const delta = Math.abs(out.userBias[u]! - init.userBias[u]!);
      if (rated.has(u)) expect(delta).toBeCloseTo(lr, 4);
      else expect(delta).toBe(0);
    }
  });

  it('follows batchOrder and is deterministic for a given init and order', async () => {
    const init = randomParams(60, 40, 4, 3.4, 9);
    const seen: number[] = [];
    const order = (epoch: number) => {
      seen.push(epoch);
      return new Rng(100 + epoch).permutation(data.length);
    };
    const a = await engine.fit(data, shape, config, { init, batchOrder: order });
    const b = await engine.fit(data, shape, config, { init, batchOrder: order });
    const c = await engine.fit(data, shape, config, {
      init,
      batchOrder: (e) => new Rng(7 + e).permutation(data.length),
    });
    expect(seen).toEqual([0, 1, 2, 0, 1, 2]);
    expect(b.userFactors).toEqual(a.userFactors);
    expect(c.userFactors).not.toEqual(a.userFactors);
  });

  it('trains the same on the cpu backend (its scatter-add kernel) as on the default backend', async () => {
    const cpuEngine = createTfjsEngine({ backend: 'cpu', onBackend: () => {} });
    const losses = async (e: typeof engine) => {
      const out: number[] = [];
      await e.fit(data, shape, { ...config, epochs: 2 }, { onEpoch: (s) => void out.push(s.loss) });
      return out;
    };
    const onCpu = await losses(cpuEngine);
    expect(cpuEngine.backend?.name).toBe('cpu');
    const onDefault = await losses(engine);
    expect(engine.backend?.name).not.toBe('cpu');
    for (let e = 0; e < 2; e++)
      expect(Math.abs(onCpu[e]! - onDefault[e]!) / onDefault[e]!).toBeLessThan(1e-3);
  });

  it('keeps tensor memory flat: nothing is left allocated after fit', async () => {
    await engine.fit(data, shape, { ...config, epochs: 1 });
    const before = tf.memory().numTensors;
    await engine.fit(data, shape, { ...config, epochs: 2 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("stops when onEpoch returns 'stop' and when the signal aborts", async () => {
    const epochs: number[] = [];
    await engine.fit(
      data,
      shape,
      { ...config, epochs: 5 },
      {
        onEpoch: (s) => {
          epochs.push(s.epoch);
          return 'stop';
        },
      },
    );
    expect(epochs).toEqual([1]);
    const controller = new AbortController();
    controller.abort(new Error('cancelled by test'));
    await expect(engine.fit(data, shape, config, { signal: controller.signal })).rejects.toThrow(
      'cancelled by test',
    );
  });

  it('lets timers run during an epoch, so an abort from a timer stops it mid-epoch', async () => {
    // one long epoch of single-rating batches: only yielding to the event loop lets the timer fire before it ends
    await engine.fit(data, shape, { ...config, epochs: 1 }); // backend already up: no start-up awaits to hide behind
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('timer abort')), 20);
    const failure = engine.fit(
      data,
      shape,
      { ...config, epochs: 1, batchSize: 1 },
      { signal: controller.signal },
    );
    await expect(failure).rejects.toThrow('timer abort');
  });

  it('rejects bad input with a typed error saying what and where', async () => {
    const empty = { ...data, length: 0 };
    await expect(engine.fit(empty, shape, config)).rejects.toThrow(TrainingInputError);
    await expect(engine.fit(empty, shape, config)).rejects.toThrow(/no ratings/);
    await expect(engine.fit(data, shape, { ...config, optimizer: 'sgd' })).rejects.toThrow(/'adam' only/);
    await expect(engine.fit(data, { numUsers: 10, numItems: 40 }, config)).rejects.toThrow(
      /rating row \d+ has user index \d+, outside 0…9/,
    );
    await expect(engine.fit(data, shape, { ...config, batchSize: 0 })).rejects.toThrow(/config\.batchSize/);
    await expect(engine.fit(data, shape, config, { init: allocParams(60, 40, 8) })).rejects.toThrow(
      /8 factors/,
    );
    const badOrder = () => Int32Array.from({ length: data.length }, (_, j) => (j === 5 ? -1 : j));
    await expect(engine.fit(data, shape, config, { batchOrder: badOrder })).rejects.toThrow(
      /batchOrder\(0\)\[5\] = -1 is not a rating row/,
    );
    await expect(engine.fit(data, shape, config, { batchOrder: () => new Int32Array(3) })).rejects.toThrow(
      /batchOrder\(0\) returned 3 rows/,
    );
    const oneUser = { ...data, users: new Int32Array(data.length) };
    await expect(engine.fit(oneUser, shape, config)).rejects.toThrow(/single user/);
  });

  it('names epoch and batch when the loss diverges', async () => {
    const failure = engine.fit(data, shape, { ...config, learningRate: 1e20 });
    await expect(failure).rejects.toThrow(DivergenceError);
    await expect(failure).rejects.toThrow(/diverged.*epoch 1, batch \d+.*lower it/);
  });
});
