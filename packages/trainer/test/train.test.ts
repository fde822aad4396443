import { generateSynthetic, randomSplit } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import { crossValidate } from '../src/cross-validate.ts';
import { rmse } from '../src/metrics.ts';
import { presets } from '../src/presets.ts';
import { train } from '../src/train.ts';

const data = generateSynthetic({ users: 120, items: 60, ratings: 3000, seed: 11 });

describe('train', () => {
  it('returns a model with the dataset ID maps, a per-epoch log and validation figures', async () => {
    const seen: number[] = [];
    const { model, log } = await train(data, {
      config: { optimizer: 'sgd', factors: 4, epochs: 3, learningRate: 0.02, l2: 0.02, initStd: 0.1 },
      validation: { ratio: 0.2 },
      onEpoch: (p) => {
        seen.push(p.epoch);
        expect(p.validationRmse).toBeGreaterThan(0);
        expect(p.ratingsPerSecond).toBeGreaterThan(0);
      },
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(log.epochs).toHaveLength(3);
    expect(log.numRatings).toBe(2400);
    expect(model.users).toBe(data.users);
    expect(model.numItems).toBe(data.items.size);
    expect(model.config.validationRatio).toBe(0.2);
    // the model's rated index excludes the user's rated movies from recommendations
    const u = data.ratings.users[0]!;
    const rated = new Set<number>();
    for (let r = 0; r < data.ratings.length; r++)
      if (data.ratings.users[r] === u) rated.add(data.ratings.items[r]!);
    const recs = model.recommend(u, { k: 60, exclude: model.trainedHistory(u)! });
    expect(recs.items.length).toBe(60 - rated.size);
    for (const item of recs.items) expect(rated.has(item)).toBe(false);
  });

  it('stops early and restores the best epoch', async () => {
    // a large learning rate without L2 overfits fast, so validation RMSE turns up within a few epochs
    const { model, log } = await train(data, {
      config: { optimizer: 'sgd', factors: 16, epochs: 60, learningRate: 0.05, l2: 0, initStd: 0.1 },
      validation: { ratio: 0.2 },
      earlyStopping: { patience: 2 },
    });
    expect(log.stoppedEarly).toBe(true);
    expect(log.epochs.length).toBeLessThan(60);
    const best = log.bestEpoch!;
    expect(log.epochs.length).toBe(best + 2);
    const bestRmse = Math.min(...log.epochs.map((e) => e.validationRmse!));
    expect(log.epochs[best - 1]!.validationRmse).toBe(bestRmse);
    expect(log.epochs.at(-1)!.validationRmse!).toBeGreaterThan(bestRmse);
    // the returned weights are the best epoch's: re-score the validation split the same way train() drew it
    const valid = randomSplit(data.ratings, { testRatio: 0.2, seed: presets.default.seed ^ 0x5eed }).test;
    const predicted = model.predictMany(valid.users, valid.items);
    expect(rmse(predicted, valid.ratings)).toBeCloseTo(bestRmse, 6);
    expect(model.log.bestEpoch).toBe(best);
  });

  it('reports progress within epochs, ending at the total', async () => {
    for (const optimizer of ['adam', 'sgd', 'als'] as const) {
      const seen: { done: number; total: number }[] = [];
      await train(data, {
        config: { optimizer, factors: 4, epochs: 2, batchSize: 16, l2: 0.1 },
        onProgress: (p) => seen.push(p),
      });
      expect(seen.length).toBeGreaterThanOrEqual(4);
      for (let j = 1; j < seen.length; j++) expect(seen[j]!.done).toBeGreaterThanOrEqual(seen[j - 1]!.done);
      expect(seen.at(-1)).toEqual({ done: 2 * data.ratings.length, total: 2 * data.ratings.length });
    }
  });

  it('is cancelled by an AbortSignal', async () => {
    const controller = new AbortController();
    const run = train(data, {
      config: { optimizer: 'adam', factors: 4, epochs: 100, batchSize: 128 },
      onEpoch: (p) => {
        if (p.epoch === 2) controller.abort();
      },
      signal: controller.signal,
    });
    await expect(run).rejects.toThrow(/abort/i);
  });

  it('explains bad options', async () => {
    await expect(train(data, { validation: { ratio: 1.5 } })).rejects.toThrow(
      /validation.ratio must be in \(0, 1\)/,
    );
    await expect(train(data, { earlyStopping: { patience: 2 } })).rejects.toThrow(/needs a validation split/);
    await expect(train({ ...data.ratings, length: 0 })).rejects.toThrow(/no ratings/);
  });

  it('has the notebook configuration as the reference preset', () => {
    expect(presets.reference).toMatchObject({
      optimizer: 'adam',
      epochs: 5,
      batchSize: 4096,
      learningRate: 0.005,
      l2: 0,
      factors: 32,
    });
  });
});

describe('crossValidate', () => {
  it('returns mean ± std per metric and the per-fold values', async () => {
    const cv = await crossValidate(data, {
      folds: 3,
      seed: 5,
      config: { optimizer: 'sgd', factors: 4, epochs: 5, learningRate: 0.01, l2: 0.05, initStd: 0.1 },
    });
    expect(cv.perFold).toHaveLength(3);
    const values = cv.perFold.map((f) => f.rmse!);
    const mean = values.reduce((a, b) => a + b) / 3;
    expect(cv.mean.rmse).toBeCloseTo(mean, 12);
    expect(cv.std.rmse).toBeCloseTo(Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / 3), 12);
    expect(cv.mean['baselines.biases.rmse']).toBeGreaterThan(0);
    expect(cv.mean['ranking.ndcg']).toBeGreaterThanOrEqual(0);
    // on planted low-rank data the factor model beats the global mean
    expect(cv.mean.rmse!).toBeLessThan(cv.mean['baselines.globalMean.rmse']!);
  });
});
