/**
 * The accuracy algorithms: seeded random numbers, the small linear algebra, blending and rank compression of MF
 * models, and the Bayesian (Gibbs-sampled) MF engine on planted data.
 */
import {
  allocParams,
  choleskyInPlace as cholesky,
  choleskyInverse as cholInverse,
  choleskySolveInPlace as cholSolve,
  deserializeModel,
  MFModel,
  type MFParams,
  serializeModel,
  symmetricEigen,
} from '@movierec/core';
import { type MovieTable, type RatingColumns, Rng } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import { blendParams, compressParams, PosteriorMean } from '../src/blend.ts';
import type { TrainConfig } from '../src/engine.ts';
import { createBayesEngine, popularityRankBias } from '../src/engines/bayes.ts';
import { movieFeatures } from '../src/engines/bpmf/feature-prior.ts';
import { bpmfToParams, fitBpmf } from '../src/engines/bpmf/gibbs.ts';
import { presets } from '../src/presets.ts';
import { train } from '../src/train.ts';

function predict(p: MFParams, u: number, i: number): number {
  let y = p.globalMean + p.userBias[u]! + p.itemBias[i]!;
  for (let a = 0; a < p.factors; a++)
    y += p.userFactors[u * p.factors + a]! * p.itemFactors[i * p.factors + a]!;
  return y;
}

function randomParams(nu: number, ni: number, k: number, seed: number): MFParams {
  const rng = new Rng(seed);
  const p = allocParams(nu, ni, k, 3.5);
  for (const a of [p.userBias, p.itemBias, p.userFactors, p.itemFactors])
    for (let j = 0; j < a.length; j++) a[j] = 0.5 * rng.normal();
  return p;
}

/** r = μ + b_u + b_i + p_u·q_i + ε on a random `density` share of the cells, split 80/20 by row. */
function planted(nu: number, ni: number, k: number, density: number, noise: number, seed: number) {
  const truth = randomParams(nu, ni, k, seed);
  const rng = new Rng(seed + 1);
  const cells: number[][] = [];
  for (let u = 0; u < nu; u++)
    for (let i = 0; i < ni; i++)
      if (rng.uniform() < density) cells.push([u, i, predict(truth, u, i) + noise * rng.normal()]);
  const toCols = (rows: number[][]): RatingColumns => ({
    length: rows.length,
    users: Int32Array.from(rows, (r) => r[0]!),
    items: Int32Array.from(rows, (r) => r[1]!),
    ratings: Float32Array.from(rows, (r) => r[2]!),
    timestamps: new Int32Array(rows.length),
  });
  const order = rng.permutation(cells.length);
  const shuffled = Array.from(order, (j) => cells[j]!);
  const cut = Math.floor(cells.length * 0.8);
  return { truth, train: toCols(shuffled.slice(0, cut)), test: toCols(shuffled.slice(cut)) };
}

function rmseOf(p: MFParams, test: RatingColumns): number {
  let se = 0;
  for (let r = 0; r < test.length; r++)
    se += (test.ratings[r]! - predict(p, test.users[r]!, test.items[r]!)) ** 2;
  return Math.sqrt(se / test.length);
}

describe('Rng', () => {
  it('is deterministic per seed and draws normal and gamma variates with the right moments', () => {
    expect(new Rng(3).uint32()).toBe(new Rng(3).uint32());
    expect(new Rng(3).uint32()).not.toBe(new Rng(4).uint32());
    const rng = new Rng(11);
    const n = 40_000;
    let s = 0;
    let s2 = 0;
    let g = 0;
    let g2 = 0;
    for (let j = 0; j < n; j++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
      const x = rng.gamma(2.5);
      g += x;
      g2 += x * x;
    }
    expect(s / n).toBeCloseTo(0, 1);
    expect(s2 / n).toBeCloseTo(1, 1);
    // Gamma(a, 1): mean a, variance a.
    expect(g / n).toBeCloseTo(2.5, 1);
    expect(g2 / n - (g / n) ** 2).toBeCloseTo(2.5, 0);
    const perm = rng.permutation(50);
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, j) => j));
  });
});

describe('linear algebra', () => {
  it('solves an SPD system through Cholesky and inverts it', () => {
    const a = Float64Array.from([4, 2, 0.4, 2, 5, 1, 0.4, 1, 3]);
    const l = a.slice();
    expect(cholesky(l, 3)).toBe(true);
    const x = Float64Array.from([1, -2, 0.5]);
    const b = new Float64Array(3);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) b[r]! += a[r * 3 + c]! * x[c]!;
    cholSolve(l, 3, b);
    for (let r = 0; r < 3; r++) expect(b[r]).toBeCloseTo(x[r]!, 12);
    const inv = new Float64Array(9);
    cholInverse(l, 3, inv);
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let m = 0; m < 3; m++) s += a[r * 3 + m]! * inv[m * 3 + c]!;
        expect(s).toBeCloseTo(r === c ? 1 : 0, 12);
      }
    expect(cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toBe(false);
  });

  it('Jacobi eigen-decomposition reconstructs the matrix', () => {
    const rng = new Rng(2);
    const l = 6;
    const s = new Float64Array(l * l);
    for (let a = 0; a < l; a++)
      for (let b = 0; b <= a; b++) {
        const v = rng.normal();
        s[a * l + b] = v;
        s[b * l + a] = v;
      }
    const { values, vectors } = symmetricEigen(s, l);
    for (let a = 0; a < l; a++)
      for (let b = 0; b < l; b++) {
        let r = 0;
        for (let c = 0; c < l; c++) r += vectors[a * l + c]! * values[c]! * vectors[b * l + c]!;
        expect(r).toBeCloseTo(s[a * l + b]!, 9);
      }
  });
});

describe('blendParams / compressParams', () => {
  it('a weighted blend predicts the weighted average of its models', () => {
    const m1 = randomParams(5, 7, 3, 1);
    const m2 = randomParams(5, 7, 2, 2);
    const b = blendParams([m1, m2], [0.3, 0.7]);
    expect(b.factors).toBe(5);
    for (let u = 0; u < 5; u++)
      for (let i = 0; i < 7; i++)
        expect(predict(b, u, i)).toBeCloseTo(0.3 * predict(m1, u, i) + 0.7 * predict(m2, u, i), 5);
    expect(() => blendParams([m1, randomParams(4, 7, 3, 3)])).toThrow(/model 1 is 4×7/);
    expect(() => blendParams([m1, m2], [1, -1])).toThrow(/weight 1 is -1/);
  });

  it('compresses a concatenation of rank-3 models back to rank 3 without changing predictions', () => {
    const base = randomParams(40, 60, 3, 4);
    // Ten copies with rotated/rescaled factors: the blend has 30 factors but rank 3.
    const copies = Array.from({ length: 10 }, () => base);
    const wide = blendParams(copies);
    expect(wide.factors).toBe(30);
    const c = compressParams(wide, 3);
    expect(c.factors).toBe(3);
    for (let u = 0; u < 40; u += 7)
      for (let i = 0; i < 60; i += 11) expect(predict(c, u, i)).toBeCloseTo(predict(base, u, i), 4);
    // the WebAssembly SIMD kernel and the scalar reference give the same model
    const scalar = compressParams(wide, 3, { simd: false });
    for (let u = 0; u < 40; u += 7)
      for (let i = 0; i < 60; i += 11) expect(predict(c, u, i)).toBeCloseTo(predict(scalar, u, i), 5);
    expect(() => compressParams(wide, 0)).toThrow(/rank must be a positive integer/);
  });
});

describe('BPMF (Gibbs sampling)', () => {
  it('recovers planted low-rank structure: test RMSE near the noise level, far below the biases', async () => {
    const { train, test } = planted(120, 90, 3, 0.35, 0.3, 9);
    const shape = { numUsers: 120, numItems: 90 };
    const res = await fitBpmf(train, shape, {
      factors: 5,
      burnIn: 15,
      samples: 30,
      alpha: 'sample',
      seed: 1,
    });
    const p = bpmfToParams(res);
    expect(p.factors).toBe(150);
    const withFactors = rmseOf(p, test);
    const biasesOnly = rmseOf({ ...p, userFactors: new Float32Array(p.userFactors.length) }, test);
    expect(withFactors).toBeLessThan(0.42);
    expect(biasesOnly).toBeGreaterThan(1.2 * withFactors);
    // α is the noise precision: 1/0.3² ≈ 11 (loosely: the sampled model absorbs some noise).
    expect(res.alphas.at(-1)!).toBeGreaterThan(5);
    expect(res.alphas.at(-1)!).toBeLessThan(25);
  });

  it('Bayesian SVD++ folds its implicit block into plain MF factors and still fits', async () => {
    const { train, test } = planted(80, 60, 2, 0.4, 0.3, 21);
    const res = await fitBpmf(
      train,
      { numUsers: 80, numItems: 60 },
      {
        factors: 4,
        burnIn: 10,
        samples: 20,
        alpha: 'sample',
        seed: 2,
        implicit: true,
      },
    );
    expect(rmseOf(bpmfToParams(res), test)).toBeLessThan(0.45);
  });

  it('the movie feature prior predicts unrated movies from their genre', async () => {
    // Item bias = +1 for genre A, −1 for genre B; half the movies of each genre are never rated in training.
    const nu = 100;
    const ni = 40;
    const rng = new Rng(5);
    const rows: number[][] = [];
    for (let u = 0; u < nu; u++)
      for (let i = 0; i < ni / 2; i++)
        if (rng.uniform() < 0.5) rows.push([u, i, 3 + (i % 2 === 0 ? 1 : -1) + 0.3 * rng.normal()]);
    const train: RatingColumns = {
      length: rows.length,
      users: Int32Array.from(rows, (r) => r[0]!),
      items: Int32Array.from(rows, (r) => r[1]!),
      ratings: Float32Array.from(rows, (r) => r[2]!),
      timestamps: new Int32Array(rows.length),
    };
    const movies: MovieTable = {
      titles: Array.from({ length: ni }, (_, i) => `m${i}`),
      years: new Int16Array(ni),
      genres: Array.from({ length: ni }, (_, i) => [i % 2 === 0 ? 'A' : 'B']),
    };
    const config = {
      optimizer: 'sgd',
      factors: 2,
      epochs: 40,
      batchSize: 1,
      learningRate: 0,
      l2: 0,
      initStd: 0.1,
      seed: 3,
      bayes: { sampleFactors: 2, burnIn: 10, popularityFeatures: false },
    } as TrainConfig;
    const withGenres = await createBayesEngine({ movies }).fit(train, { numUsers: nu, numItems: ni }, config);
    const without = await createBayesEngine().fit(train, { numUsers: nu, numItems: ni }, config);
    // Unrated movies: with genres, b_i ≈ the genre's effect; without, b_i ≈ the prior mean ≈ 0 for both genres.
    let errWith = 0;
    let gapWithout = 0;
    for (let i = ni / 2; i < ni; i++) {
      const want = i % 2 === 0 ? 1 : -1;
      errWith += Math.abs(withGenres.itemBias[i]! - want) / (ni / 2);
      gapWithout += (want * without.itemBias[i]!) / (ni / 2);
    }
    expect(errWith).toBeLessThan(0.25);
    expect(Math.abs(gapWithout)).toBeLessThan(0.25);
    expect(movieFeatures(movies, ni).count).toBe(2 + 8);
  });

  it('the streaming posterior mean equals the average of the samples (exactly before a merge, closely after)', async () => {
    const { train } = planted(30, 20, 2, 0.5, 0.3, 31);
    const res = await fitBpmf(
      train,
      { numUsers: 30, numItems: 20 },
      { factors: 2, burnIn: 2, samples: 9, alpha: 2, seed: 6 },
    );
    // Before the first merge (buffer 4) the mean is exact.
    const acc = new PosteriorMean(30, 20, 2, { keepRank: 3, buffer: 4 });
    for (let s = 1; s <= 3; s++) {
      acc.add(res.samples[s - 1]!);
      const view = acc.mean(res.globalMean);
      const exact = bpmfToParams({ ...res, samples: res.samples.slice(0, s) });
      for (let u = 0; u < 30; u += 5)
        for (let i = 0; i < 20; i += 3) expect(predict(view, u, i)).toBeCloseTo(predict(exact, u, i), 5);
    }
    for (let s = 4; s <= 9; s++) acc.add(res.samples[s - 1]!);
    expect(acc.count).toBe(9);
    expect(acc.mean(res.globalMean).factors).toBeLessThanOrEqual(3 + 3 * 2);
    // Merges truncate by SVD; a sum of identical rank-2 samples is rank 2, so rank 3 keeps it exactly.
    const same = new PosteriorMean(30, 20, 2, { keepRank: 3, buffer: 4 });
    for (let s = 0; s < 9; s++) same.add(res.samples[0]!);
    const one = bpmfToParams({ ...res, samples: res.samples.slice(0, 1) });
    const merged = same.mean(res.globalMean);
    for (let u = 0; u < 30; u += 5)
      for (let i = 0; i < 20; i += 3) expect(predict(merged, u, i)).toBeCloseTo(predict(one, u, i), 4);
    expect(() => new PosteriorMean(2, 2, 1).mean(3)).toThrow(/no samples/);
  });

  it('runs as an Engine: reports every sweep, stops on request, serves config.factors, rejects bad settings', async () => {
    const { train, test } = planted(60, 50, 2, 0.4, 0.3, 13);
    const shape = { numUsers: 60, numItems: 50 };
    const config = {
      optimizer: 'sgd',
      factors: 4,
      epochs: 25,
      batchSize: 1,
      learningRate: 0,
      l2: 0,
      initStd: 0.1,
      seed: 4,
      bayes: { sampleFactors: 3, burnIn: 5 },
    } as TrainConfig;
    const engine = createBayesEngine();
    const seen: number[] = [];
    const p = await engine.fit(train, shape, config, {
      onEpoch: (s) => {
        seen.push(s.epoch);
        expect(Number.isFinite(s.loss)).toBe(true);
        return s.epoch === 15 ? 'stop' : undefined;
      },
    });
    expect(seen).toEqual(Array.from({ length: 15 }, (_, j) => j + 1));
    expect(p.factors).toBe(4);
    expect(rmseOf(p, test)).toBeLessThan(0.5);
    const again = await engine.fit(train, shape, config);
    const once = await engine.fit(train, shape, config);
    expect(again.itemFactors).toEqual(once.itemFactors);
    await expect(engine.fit(train, shape, { ...config, epochs: 5 })).rejects.toThrow(
      /epochs \(5\) must be an integer > bayes.burnIn \(5\)/,
    );
    await expect(engine.fit({ ...train, length: 0 }, shape, config)).rejects.toThrow(/no ratings/);
    await expect(
      engine.fit(train, shape, config, { onEpoch: (s) => (s.epoch === 3 ? 'stop' : undefined) }),
    ).rejects.toThrow(/during burn-in/);
  });
});

describe('ranking-only item term (MFParams.itemRankBias)', () => {
  it('re-orders recommend() but not predictions, and survives the artifact', () => {
    const p = allocParams(1, 3, 1, 3);
    p.itemBias.set([0.5, 0.2, 0]);
    const plain = new MFModel({ params: p });
    expect([...plain.recommend(0, { k: 3 }).items]).toEqual([0, 1, 2]);
    const ranked = new MFModel({ params: { ...p, itemRankBias: Float32Array.from([0, 0.35, 0.7]) } });
    const recs = ranked.recommend(0, { k: 3 });
    expect([...recs.items]).toEqual([2, 1, 0]);
    // Scores stay r̂ = μ + b_i.
    const scores = recs.scores;
    expect(scores[0]).toBeCloseTo(3, 5);
    expect(scores[1]).toBeCloseTo(3.2, 5);
    expect(scores[2]).toBeCloseTo(3.5, 5);
    expect(ranked.predict(0, 2)).toBeCloseTo(3, 6);
    const back = deserializeModel(serializeModel(ranked));
    expect(back.params.itemRankBias).toEqual(Float32Array.from([0, 0.35, 0.7]));
    expect(deserializeModel(serializeModel(plain)).params.itemRankBias).toBeUndefined();
    expect(() => new MFModel({ params: { ...p, itemRankBias: new Float32Array(2) } })).toThrow(
      /itemRankBias has length 2/,
    );
  });

  it('popularityRankBias is w·ln(1 + n_i)', () => {
    const cols: RatingColumns = {
      length: 4,
      users: Int32Array.from([0, 1, 2, 0]),
      items: Int32Array.from([0, 0, 0, 2]),
      ratings: Float32Array.from([4, 4, 4, 4]),
      timestamps: new Int32Array(4),
    };
    const b = popularityRankBias(cols, 3, 0.5);
    expect(b[0]).toBeCloseTo(0.5 * Math.log(4), 6);
    expect(b[1]).toBe(0);
    expect(b[2]).toBeCloseTo(0.5 * Math.log(2), 6);
  });
});

describe('presets.default', () => {
  it('trains the Bayesian engine through train(), with the ranking term', async () => {
    expect(presets.default.optimizer).toBe('bpmf');
    const { train: ratings, test } = planted(50, 40, 2, 0.4, 0.3, 17);
    const { model, log } = await train(ratings, {
      preset: 'default',
      config: { epochs: 30, bayes: { burnIn: 10 } },
    });
    expect(log.engine).toBe('bpmf');
    expect(log.epochs.length).toBe(30);
    expect(model.params.factors).toBe(presets.default.factors);
    expect(model.params.itemRankBias?.length).toBe(40);
    expect(rmseOf(model.params, test)).toBeLessThan(0.5);
  });
});
