import { type FactorModel, ItemItemModel } from '@movierec/core';
import { generateSynthetic, IdMap, type RatingColumns } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import {
  checkSearchSpace,
  easeWeights,
  easeWeightsReference,
  evaluateRanking,
  fitBpr,
  fitEase,
  fitIals,
  fitItemKnn,
  NoRelevantItemsError,
  parseRankingPreset,
  parseSearchSpace,
  popularityModel,
  rankingSplit,
  SearchSpaceError,
  tuneRanking,
} from '../src/index.ts';

const data = generateSynthetic({ users: 120, items: 60, ratings: 3000, seed: 7 });

function columns(rows: [number, number, number, number][]): RatingColumns {
  return {
    length: rows.length,
    users: Int32Array.from(rows, (r) => r[0]),
    items: Int32Array.from(rows, (r) => r[1]),
    ratings: Float32Array.from(rows, (r) => r[2]),
    timestamps: Int32Array.from(rows, (r) => r[3]),
  };
}
const ids = (n: number) => IdMap.fromJSON(Array.from({ length: n }, (_, j) => j));

describe('EASE', () => {
  it('B = I − P·diagMat(1/diag(P)) with P = G⁻¹ (checked against Gauss–Jordan)', () => {
    const m = 7;
    const g = new Float64Array(m * m);
    let s = 3;
    const rnd = () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647 - 0.5;
    };
    const full: number[][] = Array.from({ length: m }, () => new Array(m).fill(0));
    for (let i = 0; i < m; i++)
      for (let j = 0; j <= i; j++) {
        const v = i === j ? 4 + rnd() : rnd();
        full[i]![j] = v;
        full[j]![i] = v;
        g[i * m + j] = v;
      }
    const B = easeWeights(g, m);
    // P by Gauss–Jordan on [G | I]
    const a = full.map((row, i) => [...row, ...Array.from({ length: m }, (_, j) => (i === j ? 1 : 0))]);
    for (let c = 0; c < m; c++) {
      const piv = a[c]![c]!;
      for (let j = 0; j < 2 * m; j++) a[c]![j]! /= piv;
      for (let r = 0; r < m; r++)
        if (r !== c) {
          const f = a[r]![c]!;
          for (let j = 0; j < 2 * m; j++) a[r]![j]! -= f * a[c]![j]!;
        }
    }
    const P = (i: number, j: number) => a[i]![m + j]!;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) expect(B[i * m + j]).toBeCloseTo(i === j ? 0 : -P(i, j) / P(j, j), 5);
  });

  it('the blocked SIMD sweep gives the weights of the scalar Cholesky reference (m = 150: past one 64-item block)', () => {
    const m = 150;
    let s = 11;
    const rnd = () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647;
    };
    // G = XᵀX + λI of a random binary X (300 users)
    const g = new Float64Array(m * m);
    for (let u = 0; u < 300; u++) {
      const items: number[] = [];
      for (let i = 0; i < m; i++) if (rnd() < 0.3) items.push(i);
      for (const a of items) for (const b of items) if (b <= a) g[a * m + b]! += 1;
    }
    for (let a = 0; a < m; a++) g[a * m + a]! += 20;
    const ref = easeWeightsReference(g.slice(), m);
    for (const simd of [true, false]) {
      const B = easeWeights(g, m, { simd });
      let d = 0;
      for (let t = 0; t < m * m; t++) d = Math.max(d, Math.abs(B[t]! - ref[t]!));
      expect(d).toBeLessThan(1e-6);
    }
    const bad = new Float64Array(4);
    bad[0] = 1;
    bad[2] = 2;
    bad[3] = 1;
    expect(() => easeWeights(bad, 2)).toThrow(/not positive definite within items 0…1; raise λ/);
  });

  it('keeps items with ≥ minCount interactions and prunes past maxItems with a message', () => {
    const messages: string[] = [];
    const model = fitEase(
      data,
      { lambda: 50, minCount: 1, maxItems: 20 },
      { onMessage: (m) => messages.push(m) },
    );
    expect(model).toBeInstanceOf(ItemItemModel);
    expect(model.weights.kind === 'dense' && model.weights.kept.length).toBe(20);
    expect(messages[0]).toMatch(/more than the dense limit of 20 .*keeping the 20 most popular/);
    expect(() => fitEase(data, { lambda: -1 })).toThrow(/lambda must be a number/);
  });

  it('is deterministic', () => {
    const a = fitEase(data, { lambda: 80 });
    const b = fitEase(data, { lambda: 80 });
    expect(a.weights.kind === 'dense' && [...a.weights.matrix]).toEqual(
      b.weights.kind === 'dense' && [...b.weights.matrix],
    );
  });
});

describe('item-kNN', () => {
  it('shrunk cosine of binary columns, top-K per item', () => {
    // users 0, 1 share items 0 and 1; user 2 has items 1 and 2
    const d = {
      ratings: columns([
        [0, 0, 5, 1],
        [0, 1, 5, 2],
        [1, 0, 4, 1],
        [1, 1, 4, 2],
        [2, 1, 3, 1],
        [2, 2, 3, 2],
      ]),
      users: ids(3),
      items: ids(3),
    };
    const m = fitItemKnn(d, { neighbours: 5, shrinkage: 0, minCount: 1 });
    // sim(0,1) = 2 / (√2·√3), sim(1,2) = 1 / (√3·√1), sim(0,2) = 0
    expect(m.weight(1, 0)).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(m.weight(0, 1)).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(m.weight(2, 1)).toBeCloseTo(1 / Math.sqrt(3), 6);
    expect(m.weight(0, 2)).toBe(0);
  });
});

describe('iALS and BPR', () => {
  it('are deterministic for a seed and differ across seeds', () => {
    for (const fit of [
      (seed: number) => fitIals(data, { factors: 8, sweeps: 3, seed }),
      (seed: number) => fitBpr(data, { factors: 8, epochs: 3, seed }),
    ]) {
      const a = fit(1) as FactorModel;
      const b = fit(1) as FactorModel;
      const c = fit(2) as FactorModel;
      expect([...a.itemFactors]).toEqual([...b.itemFactors]);
      expect([...a.itemFactors]).not.toEqual([...c.itemFactors]);
    }
  });

  it('personalise every user where the popularity baseline falls back for all', () => {
    const split = rankingSplit(data.ratings, 'temporal');
    const train = { ...data, ratings: split.train };
    const opts = { protocol: 'temporal' as const, relevantThreshold: null };
    const pop = evaluateRanking(popularityModel(train), split.train, split.test, opts);
    const ials = evaluateRanking(fitIals(train, { factors: 8, sweeps: 8 }), split.train, split.test, opts);
    expect(ials.ndcg).toBeGreaterThan(0);
    expect(pop.fallbackUsers).toBe(pop.users);
    expect(ials.fallbackUsers).toBe(0);
  });
});

describe('evaluateRanking', () => {
  it('a clear error when no user has a relevant held-out item', () => {
    // every rating is 2: nothing held out reaches 4
    const rows: [number, number, number, number][] = [];
    for (let u = 0; u < 5; u++) for (let i = 0; i < 6; i++) rows.push([u, (u + i) % 8, 2, i]);
    const d = { ratings: columns(rows), users: ids(5), items: ids(8) };
    const split = rankingSplit(d.ratings, 'temporal');
    const model = popularityModel({ ...d, ratings: split.train });
    expect(() =>
      evaluateRanking(model, split.train, split.test, { protocol: 'temporal', dataName: 'tiny' }),
    ).toThrow(NoRelevantItemsError);
    expect(() =>
      evaluateRanking(model, split.train, split.test, { protocol: 'temporal', dataName: 'tiny' }),
    ).toThrow(/no user of tiny has a relevant held-out item .*held-out rating ≥ 4/);
    // without ratings every held-out interaction is relevant
    const r = evaluateRanking(model, split.train, split.test, {
      protocol: 'temporal',
      relevantThreshold: null,
    });
    expect(r.users).toBe(5);
  });

  it('leave-one-out: sampled and full catalogue', () => {
    const split = rankingSplit(data.ratings, 'loo-full');
    expect(split.test.length).toBe(new Set(data.ratings.users).size);
    const model = fitEase({ ...data, ratings: split.train }, { lambda: 50, minCount: 1 });
    const full = evaluateRanking(model, split.train, split.test, { protocol: 'loo-full' });
    const sampled = evaluateRanking(model, split.train, split.test, {
      protocol: 'loo-sampled',
      negatives: 20,
    });
    // ranking against 20 sampled items is easier than against the whole catalogue
    expect(sampled.hitRate).toBeGreaterThanOrEqual(full.hitRate);
    expect(Number.isNaN(sampled.coverage)).toBe(true);
    expect(full.coverage).toBeGreaterThan(0);
  });
});

describe('tune', () => {
  it('refuses an empty or inverted search space, naming the parameter', () => {
    expect(() => checkSearchSpace('ease', {})).toThrow(SearchSpaceError);
    expect(() => checkSearchSpace('ease', {})).toThrow(/search space for ease is empty/);
    expect(() => checkSearchSpace('ease', { lambda: { min: 900, max: 100 } })).toThrow(
      /lambda's range 900:100 is inverted \(min > max\)/,
    );
    expect(() => checkSearchSpace('ease', parseSearchSpace('lambda=0:10:log'))).toThrow(/needs min > 0/);
    expect(() => checkSearchSpace('ease', { factors: { values: [8] } })).toThrow(
      /ease has no hyper-parameter "factors"/,
    );
    expect(() => checkSearchSpace('ials', { factors: { values: [] } })).toThrow(/empty list/);
    expect(() => parseSearchSpace('lambda=abc')).toThrow(/expected min:max/);
    return expect(tuneRanking(data, { family: 'ease', space: {} })).rejects.toThrow(SearchSpaceError);
  });

  it('random search: a leaderboard best first, deterministic for a seed', async () => {
    const run = () =>
      tuneRanking(data, {
        family: 'ease',
        base: { family: 'ease', minCount: 1 },
        space: parseSearchSpace('lambda=10:500:log'),
        trials: 4,
        seed: 3,
      });
    const a = await run();
    const b = await run();
    expect(a.leaderboard).toHaveLength(4);
    for (let j = 1; j < 4; j++)
      expect(a.leaderboard[j - 1]!.score).toBeGreaterThanOrEqual(a.leaderboard[j]!.score);
    expect(a.leaderboard.map((t) => t.params)).toEqual(b.leaderboard.map((t) => t.params));
    expect(a.best.config.family).toBe('ease');
    // the saved form parses back as a preset
    expect(parseRankingPreset({ task: 'ranking', model: a.best.config }, 'f.json')).toEqual(a.best.config);
    expect(() =>
      parseRankingPreset({ task: 'ranking', model: { family: 'ease', lamda: 3 } }, 'f.json'),
    ).toThrow(/f\.json: unknown field lamda for ease/);
  });
});
