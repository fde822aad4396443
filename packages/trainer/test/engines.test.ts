import { type MFParams, solveBiasedRidge } from '@movierec/core';
import { generateSynthetic, type RatingColumns } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import type { Engine, TrainConfig } from '../src/engine.ts';
import { adamEngine } from '../src/engines/adam.ts';
import { alsEngine, groupRatings } from '../src/engines/als.ts';
import { DivergenceError, TrainingInputError } from '../src/engines/common.ts';
import { sgdEngine } from '../src/engines/sgd.ts';
import { fitWithLosses } from './helpers.ts';

const data = generateSynthetic({ users: 150, items: 80, ratings: 4000, seed: 7 });
const shape = { numUsers: data.users.size, numItems: data.items.size };
const configs: Record<string, TrainConfig> = {
  adam: {
    optimizer: 'adam',
    factors: 8,
    epochs: 6,
    batchSize: 256,
    learningRate: 0.02,
    l2: 0,
    initStd: 0.05,
    seed: 1,
  },
  sgd: {
    optimizer: 'sgd',
    factors: 8,
    epochs: 6,
    batchSize: 256,
    learningRate: 0.02,
    l2: 0.02,
    initStd: 0.1,
    seed: 1,
  },
  als: {
    optimizer: 'als',
    factors: 8,
    epochs: 4,
    batchSize: 1,
    learningRate: 1,
    l2: 2,
    initStd: 0.1,
    seed: 1,
  },
};
const engines: Record<string, Engine> = { adam: adamEngine, sgd: sgdEngine, als: alsEngine };

const fitLosses = (engine: Engine, config: TrainConfig, columns: RatingColumns = data.ratings) =>
  fitWithLosses(engine, columns, shape, config);

describe.each(['adam', 'sgd', 'als'])('%s engine', (name) => {
  const engine = engines[name]!;
  const config = configs[name]!;

  it('lowers the training loss and is deterministic for a seed', async () => {
    const a = await fitLosses(engine, config);
    const b = await fitLosses(engine, config);
    expect(a.losses).toHaveLength(config.epochs);
    expect(a.losses.at(-1)!).toBeLessThan(a.losses[0]!);
    expect(a.losses).toEqual(b.losses);
    expect(a.params.userFactors).toEqual(b.params.userFactors);
    const c = await fitLosses(engine, { ...config, seed: 2 });
    expect(c.params.itemFactors).not.toEqual(a.params.itemFactors);
  });

  it('rejects zero ratings and a single user with a clear error', async () => {
    const empty: RatingColumns = {
      length: 0,
      users: new Int32Array(0),
      items: new Int32Array(0),
      ratings: new Float32Array(0),
      timestamps: new Int32Array(0),
    };
    await expect(engine.fit(empty, shape, config)).rejects.toThrow(/no ratings to train on/);
    const one: RatingColumns = { ...data.ratings, length: 3, users: Int32Array.from([4, 4, 4]) };
    await expect(engine.fit(one, shape, config)).rejects.toThrow(TrainingInputError);
    await expect(engine.fit(one, shape, config)).rejects.toThrow(/single user \(index 4\)/);
    const badItem: RatingColumns = { ...data.ratings, length: 2, items: Int32Array.from([0, 999]) };
    await expect(engine.fit(badItem, shape, config)).rejects.toThrow(/row 1 has item index 999/);
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    const run = engine.fit(
      data.ratings,
      shape,
      { ...config, epochs: 50 },
      {
        signal: controller.signal,
        onEpoch: (s) => {
          if (s.epoch === 2) controller.abort();
          return undefined;
        },
      },
    );
    await expect(run).rejects.toThrow(/abort/i);
  });
});

describe('divergence', () => {
  it('sgd with a huge learning rate names epoch, batch and what to change', async () => {
    const run = sgdEngine.fit(data.ratings, shape, { ...configs.sgd!, learningRate: 50, l2: 0 });
    await expect(run).rejects.toThrow(DivergenceError);
    await expect(
      sgdEngine.fit(data.ratings, shape, { ...configs.sgd!, learningRate: 50, l2: 0 }),
    ).rejects.toThrow(
      /diverged .* at epoch 1, batch \d+; the learning rate 50 is too high .* lower it .* add L2/,
    );
  });

  it('adam with a huge learning rate diverges with the same kind of error', async () => {
    await expect(
      adamEngine.fit(data.ratings, shape, { ...configs.adam!, learningRate: 1e3 }),
    ).rejects.toThrow(/adam: training diverged .* epoch \d+, batch \d+; the learning rate 1000 is too high/);
  });
});

describe('ALS half-step', () => {
  it('leaves each user at the solution of their ridge system', async () => {
    const params: MFParams = await alsEngine.fit(data.ratings, shape, { ...configs.als!, epochs: 1 });
    // after the item half-step, every item's [q_i, b_i] solves its system against the final user factors
    const byItem = groupRatings(data.ratings, shape.numItems, false);
    const k = params.factors;
    const gram = new Float64Array((k + 1) ** 2);
    const rhs = new Float64Array(k + 1);
    for (const i of [0, 5, 17]) {
      const from = byItem.offsets[i]!;
      const to = byItem.offsets[i + 1]!;
      const users = byItem.others.subarray(from, to);
      const y = Float64Array.from({ length: to - from }, (_, j) => {
        return byItem.ratings[from + j]! - params.globalMean - params.userBias[users[j]!]!;
      });
      expect(solveBiasedRidge(params.userFactors, k, users, y, to - from, 2, 2, gram, rhs)).toBe(true);
      for (let f = 0; f < k; f++) expect(params.itemFactors[i * k + f]).toBeCloseTo(rhs[f]!, 4);
      expect(params.itemBias[i]).toBeCloseTo(rhs[k]!, 4);
    }
  });
});
