import { allocParams } from '@movierec/core';
import { describe, expect, it } from 'vitest';
import {
  buildMFModel,
  getMFWeights,
  initTfjsBackend,
  predictMF,
  registerScatterAddKernels,
  setMFWeights,
  tf,
} from '../src/tfjs/index.ts';
import { uniform } from './helpers.ts';

/** Generous: wasm start-up and training share 2 cores with other jobs; no test asserts a time. */
const TIMEOUT = 120_000;

describe('tfjs backend', { timeout: TIMEOUT }, () => {
  it('falls back from tfjs-node to wasm here and says why', async () => {
    const info = await initTfjsBackend();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    // tfjs-node is installed without its native addon on this machine, so it must be skipped with a reason.
    if (info.name !== 'tensorflow') expect(info.skipped[0]?.name).toBe('tensorflow');
  });
});

describe('scatter-add UnsortedSegmentSum', { timeout: TIMEOUT }, () => {
  it('matches a hand-computed segment sum on wasm and cpu', async () => {
    registerScatterAddKernels();
    for (const backend of ['wasm', 'cpu']) {
      await initTfjsBackend(backend as 'wasm' | 'cpu');
      expect(tf.getBackend()).toBe(backend);
      const out = tf.tidy(() => {
        const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
        // rows 0 and 2 → segment 1; row 1 → segment 0; row 3 (id 5) is outside [0, 3) and dropped
        return tf.unsortedSegmentSum(x, tf.tensor1d([1, 0, 1, 5], 'int32'), 3).arraySync();
      });
      expect(out).toEqual([
        [3, 4],
        [6, 8],
        [0, 0],
      ]);
    }
    await initTfjsBackend();
  });

  it('gives the embedding gradient tf.grad expects (repeated indices accumulate)', async () => {
    await initTfjsBackend();
    const grad = tf.tidy(() => {
      const table = tf.tensor2d([1, 1, 2, 2, 3, 3], [3, 2]);
      // d/dW Σ gather(W, [2, 0, 2]) = count of each row: [1, 0, 2] per column
      const g = tf.grad((w: tf.Tensor) => tf.sum(tf.gather(w, tf.tensor1d([2, 0, 2], 'int32'))))(table);
      return g.arraySync();
    });
    expect(grad).toEqual([
      [1, 1],
      [0, 0],
      [2, 2],
    ]);
  });
});

describe('row-copy GatherV2 on wasm', { timeout: TIMEOUT }, () => {
  it('gathers rows like tf.gather (axis 0, repeated indices), leaves other axes to the stock kernel, checks bounds', async () => {
    expect((await initTfjsBackend('wasm')).name).toBe('wasm'); // the kernel is wasm-only
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    expect(tf.gather(x, tf.tensor1d([2, 0, 2], 'int32')).arraySync()).toEqual([
      [5, 6],
      [1, 2],
      [5, 6],
    ]);
    expect(tf.gather(x, tf.tensor2d([1, 0], [2, 1], 'int32')).shape).toEqual([2, 1, 2]);
    expect(tf.gather(x, tf.tensor1d([1], 'int32'), 1).arraySync()).toEqual([[2], [4], [6]]);
    expect(() => tf.gather(x, tf.tensor1d([3], 'int32'))).toThrow(/index value 3 is not in \[0, 2\]/);
    // rows of ≥ 8 values take the copyWithin path
    const wide = Float32Array.from({ length: 5 * 9 }, (_, j) => j + 0.5);
    const picked = tf.gather(tf.tensor2d(wide, [5, 9]), tf.tensor1d([4, 1, 4, 0], 'int32')).dataSync();
    const expected = [4, 1, 4, 0].flatMap((r) => Array.from(wide.subarray(r * 9, r * 9 + 9)));
    expect(Array.from(picked)).toEqual(expected);
  });
});

describe('layers model', { timeout: TIMEOUT }, () => {
  it('predicts μ + b_u + b_i + p_u·q_i from weights set from MFParams, and reads them back unchanged', async () => {
    await initTfjsBackend();
    const random = uniform(7);
    const params = allocParams(5, 4, 3, 3.25);
    for (const a of [params.userBias, params.itemBias, params.userFactors, params.itemFactors]) {
      for (let j = 0; j < a.length; j++) a[j] = random() - 0.5;
    }
    const model = buildMFModel({ numUsers: 5, numItems: 4, factors: 3, globalMean: 0, learningRate: 0.01 });
    setMFWeights(model, params);
    const back = getMFWeights(model);
    expect(back.globalMean).toBe(3.25);
    expect(back.userFactors).toEqual(params.userFactors);
    expect(back.itemBias).toEqual(params.itemBias);
    const users = Int32Array.from([0, 4, 2, 2]);
    const items = Int32Array.from([3, 0, 1, 3]);
    const predicted = predictMF(model, users, items, 3);
    for (let j = 0; j < users.length; j++) {
      const u = users[j]!;
      const i = items[j]!;
      let expected = params.globalMean + params.userBias[u]! + params.itemBias[i]!;
      for (let f = 0; f < 3; f++) expected += params.userFactors[u * 3 + f]! * params.itemFactors[i * 3 + f]!;
      expect(predicted[j]).toBeCloseTo(expected, 5);
    }
    model.dispose();
  });

  it('rejects mismatched shapes with a message naming the layer', async () => {
    await initTfjsBackend();
    const model = buildMFModel({ numUsers: 5, numItems: 4, factors: 3, globalMean: 3, learningRate: 0.01 });
    expect(() => setMFWeights(model, allocParams(6, 4, 3))).toThrow(/user_factors.*\[5, 3\].*\[6, 3\]/);
    expect(() =>
      buildMFModel({ numUsers: 0, numItems: 4, factors: 3, globalMean: 3, learningRate: 0.01 }),
    ).toThrow(/numUsers/);
    model.dispose();
  });
});
