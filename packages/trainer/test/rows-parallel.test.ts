import { generateSynthetic, Rng } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../src/engine.ts';
import { alsHalfStep, createAlsEngine, groupRatings } from '../src/engines/als.ts';
import { createBayesEngine } from '../src/engines/bayes.ts';
import { type BpmfConfig, type BpmfResult, fitBpmf } from '../src/engines/bpmf/gibbs.ts';
import { balancedChunks } from '../src/engines/bpmf/rows.mjs';
import { initialParams, meanRating, TrainingInputError } from '../src/engines/common.ts';
import { easeWeightsReference, fitEase, trainEase } from '../src/engines/ease.ts';
import { fitIals, trainIals } from '../src/engines/ials.ts';
import { gramChunks } from '../src/engines/ials-rows.mjs';
import { presets } from '../src/presets.ts';

// 80,000 ratings: three worker threads' worth (25,000 ratings per thread at least)
const data = generateSynthetic({ users: 500, items: 300, ratings: 80_000, seed: 7 });
const shape = { numUsers: data.users.size, numItems: data.items.size };
// worker threads on a shared machine: generous time limits (no test asserts a time)
const SLOW = 120_000;
const base: BpmfConfig = {
  factors: 4,
  burnIn: 1,
  samples: 2,
  alpha: 'sample',
  seed: 3,
  popularityFeatures: true,
  keepSamples: true,
};

async function sweeps(config: BpmfConfig) {
  const mse: number[] = [];
  const result: BpmfResult = await fitBpmf(data.ratings, shape, config, (s) => {
    mse.push(s.trainMse);
    return undefined;
  });
  return { mse, result };
}

/**
 * Starts a training that reports each finished step (sweep, epoch) to `step`, aborts it after the second, and expects
 * the AbortError soon after: every worker stopped rather than running the thousands of steps asked for.
 */
async function expectStopsOnAbort(
  start: (signal: AbortSignal, step: (done: number) => void) => Promise<unknown>,
): Promise<void> {
  const controller = new AbortController();
  const seen: number[] = [];
  const fit = start(controller.signal, (done) => {
    seen.push(done);
    if (done === 2) controller.abort();
  });
  await expect(fit).rejects.toThrow(/aborted/i);
  expect(seen.length).toBeLessThan(5);
}

describe('BPMF Gibbs sweeps by rows on worker threads', () => {
  it('balances chunks of rows by ratings and covers every row once', () => {
    const start = new Int32Array([0, 100, 100, 101, 102, 300, 301, 302, 303, 400]);
    const b = balancedChunks(start, 9, 3, 2);
    expect(b[0]).toBe(0);
    expect(b[3]).toBe(9);
    expect([...b]).toEqual([...b].sort((x, y) => x - y));
    // the two heavy rows (0 and 4) fall in different chunks
    const chunkOf = (r: number) => b.findIndex((_, c) => r >= b[c]! && r < b[c + 1]!);
    expect(chunkOf(0)).not.toBe(chunkOf(4));
  });

  it.each([
    ['plain, with the movie-feature prior', {}],
    ['with the SVD++ implicit block', { implicit: true }],
    ['the scalar loops, without the SIMD kernel', { simd: false }],
  ])(
    'draws the same samples on 1, 2 and 3 threads, deterministic for a seed (%s)',
    async (_, extra) => {
      const one = await sweeps({ ...base, ...extra, threads: 1 });
      const two = await sweeps({ ...base, ...extra, threads: 2 });
      const three = await sweeps({ ...base, ...extra, threads: 3 });
      expect(two.mse).toEqual(one.mse);
      expect(three.mse).toEqual(one.mse);
      expect(two.result.samples[1]!.userFactors).toEqual(one.result.samples[1]!.userFactors);
      expect(three.result.samples[1]!.itemFactors).toEqual(one.result.samples[1]!.itemFactors);
      expect(three.result.alphas).toEqual(one.result.alphas);
      expect(one.mse.at(-1)!).toBeLessThan(one.mse[0]!);
      const other = await sweeps({ ...base, ...extra, seed: 4, threads: 2 });
      expect(other.mse).not.toEqual(two.mse);
    },
    SLOW,
  );

  it('refuses threads < 1', async () => {
    await expect(fitBpmf(data.ratings, shape, { ...base, threads: 0 })).rejects.toThrow(TrainingInputError);
    await expect(
      createBayesEngine().fit(data.ratings, shape, presets.default, { threads: 0 }),
    ).rejects.toThrow(/bpmf: threads must be a positive integer, got 0/);
  });

  it(
    'fails the whole training with the message of a worker that throws, and returns no model',
    async () => {
      const engine = createBayesEngine({
        workerUrl: new URL('./fixtures/failing-rows-worker.mjs', import.meta.url),
      });
      const onEpoch = (): undefined => {
        throw new Error('no sweep may finish');
      };
      await expect(
        engine.fit(data.ratings, shape, { ...presets.default, epochs: 30 }, { threads: 2, onEpoch }),
      ).rejects.toThrow(/bpmf: a training worker failed: Cholesky exploded on row 42/);
    },
    SLOW,
  );

  it(
    'stops every worker and rejects with the AbortError when aborted mid-training',
    () =>
      expectStopsOnAbort((signal, step) =>
        createBayesEngine().fit(
          data.ratings,
          shape,
          { ...presets.default, epochs: 10_000, factors: 4, bayes: { ...presets.default.bayes, burnIn: 5 } },
          {
            threads: 2,
            signal,
            onEpoch: (s) => {
              step(s.epoch);
              return undefined;
            },
          },
        ),
      ),
    SLOW,
  );
});

describe('ALS half-steps by rows on worker threads', () => {
  const als: TrainConfig = {
    optimizer: 'als',
    factors: 8,
    epochs: 3,
    batchSize: 1,
    learningRate: 0,
    l2: 5,
    initStd: 0.1,
    seed: 9,
  };

  it(
    'gives the same parameters on 1, 2 and 3 threads as the scalar reference (alsHalfStep, core solveBiasedRidge)',
    async () => {
      const engine = createAlsEngine();
      const losses: number[][] = [];
      const fits = [];
      for (const threads of [1, 2, 3]) {
        const seen: number[] = [];
        fits.push(
          await engine.fit(data.ratings, shape, als, {
            threads,
            onEpoch: (s) => {
              seen.push(s.loss);
              return undefined;
            },
          }),
        );
        losses.push(seen);
      }
      expect(losses[1]).toEqual(losses[0]);
      expect(losses[2]).toEqual(losses[0]);
      expect(fits[2]!.itemFactors).toEqual(fits[0]!.itemFactors);
      expect(fits[1]!.userBias).toEqual(fits[0]!.userBias);
      // the reference: the same start (initialParams draws from Rng(seed)), alternating alsHalfStep
      const ref = initialParams(shape, als, meanRating(data.ratings), undefined, new Rng(als.seed));
      const P = ref.userFactors.slice();
      const Q = ref.itemFactors.slice();
      const bu = ref.userBias.slice();
      const bi = ref.itemBias.slice();
      const byUser = groupRatings(data.ratings, shape.numUsers, true);
      const byItem = groupRatings(data.ratings, shape.numItems, false);
      for (let e = 0; e < als.epochs; e++) {
        alsHalfStep(byUser, shape.numUsers, P, bu, Q, bi, 8, ref.globalMean, 5, 5);
        alsHalfStep(byItem, shape.numItems, Q, bi, P, bu, 8, ref.globalMean, 5, 5);
      }
      expect(fits[1]!.userFactors).toEqual(P);
      expect(fits[1]!.itemBias).toEqual(bi);
    },
    SLOW,
  );

  it(
    'refuses threads < 1 and fails with the message of a worker that throws',
    async () => {
      await expect(createAlsEngine().fit(data.ratings, shape, als, { threads: 0 })).rejects.toThrow(
        /als: threads must be a positive integer, got 0/,
      );
      const failing = createAlsEngine({
        workerUrl: new URL('./fixtures/failing-rows-worker.mjs', import.meta.url),
      });
      await expect(failing.fit(data.ratings, shape, als, { threads: 2 })).rejects.toThrow(
        /als: a training worker failed: Cholesky exploded on row 42/,
      );
    },
    SLOW,
  );
});

describe('iALS half-sweeps by rows on worker threads', () => {
  const config = { factors: 8, sweeps: 3, seed: 5 };

  it('splits the Gram into chunks of rows that cover each row once', () => {
    for (const [k, count] of [
      [64, 8],
      [8, 8],
      [3, 8],
      [1, 1],
    ] as const) {
      const b = gramChunks(k, count);
      expect(b.length).toBe(count + 1);
      expect(b[0]).toBe(0);
      expect(b[count]).toBe(k);
      expect([...b]).toEqual([...b].sort((x, y) => x - y));
    }
    // about equal triangle area: the first of 8 chunks of 64 rows holds more rows than the last
    const b = gramChunks(64, 8);
    expect(b[1]! - b[0]!).toBeGreaterThan(b[8]! - b[7]!);
  });

  it(
    'gives the model of the one-thread fit (fitIals) bit for bit on 1, 2 and 3 threads',
    async () => {
      const reference = fitIals(data, config);
      for (const threads of [1, 2, 3]) {
        const progress: number[] = [];
        const model = await trainIals(data, config, { threads, onProgress: (p) => progress.push(p.done) });
        expect(model.userFactors).toEqual(reference.userFactors);
        expect(model.itemFactors).toEqual(reference.itemFactors);
        expect(model.userFactors.buffer).toBeInstanceOf(ArrayBuffer);
        expect(progress).toEqual([1, 2, 3]);
      }
      const other = await trainIals(data, { ...config, seed: 6 }, { threads: 2 });
      expect(other.itemFactors).not.toEqual(reference.itemFactors);
    },
    SLOW,
  );

  it(
    'refuses threads < 1, and fails with the message of a worker that throws',
    async () => {
      await expect(trainIals(data, config, { threads: 0 })).rejects.toThrow(
        /ials: threads must be a positive integer, got 0/,
      );
      await expect(trainIals(data, config, { threads: 1.5 })).rejects.toThrow(TrainingInputError);
      await expect(
        trainIals(data, config, {
          threads: 2,
          workerUrl: new URL('./fixtures/failing-rows-worker.mjs', import.meta.url),
        }),
      ).rejects.toThrow(/ials: a training worker failed: Cholesky exploded on row 42/);
    },
    SLOW,
  );

  it(
    'stops every worker and rejects with the AbortError when aborted mid-training',
    () =>
      expectStopsOnAbort((signal, step) =>
        trainIals(
          data,
          { ...config, sweeps: 10_000 },
          { threads: 2, signal, onProgress: (p) => step(p.done) },
        ),
      ),
    SLOW,
  );
});

describe("EASE's Gram and sweep on worker threads (one shared WebAssembly.Memory)", () => {
  // ≈ 300 kept items: past 2 × 128, so 3 threads get 3 workers
  const ratings = generateSynthetic({ users: 300, items: 300, ratings: 20_000, seed: 3 });
  const config = { lambda: 40, minCount: 1 };
  const dense = (model: Awaited<ReturnType<typeof trainEase>>) => {
    if (model.weights.kind !== 'dense') throw new Error('EASE weights are dense');
    return model.weights;
  };

  it(
    "gives fitEase's weights bit for bit on 1, 2 and 3 threads, and the scalar Cholesky reference's within 1e-6",
    async () => {
      const one = dense(fitEase(ratings, config));
      const m = one.kept.length;
      expect(m).toBeGreaterThan(256);
      for (const threads of [1, 2, 3]) {
        const progress: number[] = [];
        const w = dense(
          await trainEase(ratings, config, { threads, onProgress: (p) => progress.push(p.done) }),
        );
        expect(w.kept).toEqual(one.kept);
        expect(w.matrix).toEqual(one.matrix);
        expect(progress.length).toBeGreaterThan(1);
      }
      // the reference: G = XᵀX + λI over distinct (user, kept item) pairs, inverted by Cholesky
      const position = new Map([...one.kept].map((item, a) => [item, a]));
      const sets = new Map<number, Set<number>>();
      const cols = ratings.ratings;
      for (let r = 0; r < cols.length; r++) {
        const a = position.get(cols.items[r]!);
        if (a === undefined) continue;
        const set = sets.get(cols.users[r]!) ?? new Set<number>();
        set.add(a);
        sets.set(cols.users[r]!, set);
      }
      const g = new Float64Array(m * m);
      for (const set of sets.values())
        for (const a of set) for (const b of set) if (b <= a) g[a * m + b]! += 1;
      for (let a = 0; a < m; a++) g[a * m + a]! += config.lambda;
      const ref = easeWeightsReference(g, m);
      let d = 0;
      for (let t = 0; t < m * m; t++) d = Math.max(d, Math.abs(one.matrix[t]! - ref[t]!));
      expect(d).toBeLessThan(1e-6);
    },
    SLOW,
  );

  it(
    'refuses threads < 1, fails with the message of a worker that throws, and stops when aborted',
    async () => {
      await expect(trainEase(ratings, config, { threads: 0 })).rejects.toThrow(
        /ease: threads must be a positive integer, got 0/,
      );
      await expect(
        trainEase(ratings, config, {
          threads: 2,
          workerUrl: new URL('./fixtures/failing-rows-worker.mjs', import.meta.url),
        }),
      ).rejects.toThrow(/ease: a training worker failed: Cholesky exploded on row 42/);
      const controller = new AbortController();
      const seen: number[] = [];
      const fit = trainEase(ratings, config, {
        threads: 2,
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p.done);
          controller.abort();
        },
      });
      await expect(fit).rejects.toThrow(/aborted/i);
      expect(seen.length).toBe(1);
    },
    SLOW,
  );
});
