import { allocParams, MFModel } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import { biasBaselineModel, popularityOrder, popularityRanker } from '../src/baselines.ts';
import { evaluate } from '../src/evaluate.ts';
import { mae, rankingMetrics, rankUser, rmse } from '../src/metrics.ts';

const cols = (rows: [number, number, number][]): RatingColumns => ({
  length: rows.length,
  users: Int32Array.from(rows.map((r) => r[0])),
  items: Int32Array.from(rows.map((r) => r[1])),
  ratings: Float32Array.from(rows.map((r) => r[2])),
  timestamps: new Int32Array(rows.length),
});

describe('rating metrics', () => {
  it('RMSE and MAE match hand computation', () => {
    // errors 1, −2, 0, 1 → RMSE √(6/4), MAE 4/4
    expect(rmse([4, 1, 3, 5], [3, 3, 3, 4])).toBeCloseTo(Math.sqrt(1.5), 12);
    expect(mae([4, 1, 3, 5], [3, 3, 3, 4])).toBe(1);
    expect(() => rmse([1], [1, 2])).toThrow(/1 predictions for 2 ratings/);
  });
});

describe('ranking metrics', () => {
  it('scores one list as computed by hand', () => {
    // list [7, 3, 9, 1, 5], relevant {3, 5, 8}, k = 5: hits at ranks 1 and 4 (0-based)
    const r = rankUser([7, 3, 9, 1, 5], new Set([3, 5, 8]), 5);
    expect(r.hits).toBe(2);
    expect(r.precision).toBeCloseTo(2 / 5, 12);
    expect(r.recall).toBeCloseTo(2 / 3, 12);
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(6);
    const idcg = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(r.ndcg).toBeCloseTo(dcg / idcg, 12);
    // AP@5 = (P@2 + P@5) / min(5, 3) = (1/2 + 2/5) / 3
    expect(r.ap).toBeCloseTo((0.5 + 0.4) / 3, 12);
    const perfect = rankUser([8, 5, 3], new Set([3, 5, 8]), 3);
    expect([perfect.ndcg, perfect.ap, perfect.recall, perfect.precision]).toEqual([1, 1, 1, 1]);
  });

  it('averages over users with relevant items, excludes training items, and measures coverage', () => {
    const order = Int32Array.from([0, 1, 2, 3, 4]);
    const ranker = popularityRanker(order);
    const relevant = new Map([
      [0, new Set([1])],
      [1, new Set([4])],
      [2, new Set<number>()],
    ]);
    // user 0 rated item 0 in training, so its list is [1, 2]; user 1's is [0, 1]
    const train = new Map([
      [0, Int32Array.of(0)],
      [1, Int32Array.of()],
      [2, Int32Array.of()],
    ]);
    const m = rankingMetrics(ranker, relevant, (u) => train.get(u)!, 5, 2);
    expect(m.users).toBe(2);
    expect(m.hitRate).toBe(0.5);
    expect(m.precision).toBeCloseTo((1 / 2 + 0) / 2, 12);
    expect(m.recall).toBeCloseTo(0.5, 12);
    expect(m.coverage).toBeCloseTo(3 / 5, 12); // items 0, 1, 2
  });
});

describe('baselines and evaluate', () => {
  const train = cols([
    [0, 0, 5],
    [0, 1, 3],
    [1, 0, 4],
    [1, 2, 2],
    [2, 1, 4],
    [2, 2, 1],
  ]);
  const test = cols([
    [0, 2, 4],
    [1, 1, 5],
    [2, 0, 3],
  ]);

  it('fits the regularised bias baseline by its closed-form alternation', () => {
    const m = biasBaselineModel(train, 3, 3, { regUser: 0, regItem: 0, iterations: 200 });
    // with no regularisation and a connected design the fit interpolates the row/column effects:
    // residuals r − μ − b_u − b_i sum to zero for every user and every item
    for (const [key, n] of [
      ['users', 3],
      ['items', 3],
    ] as const) {
      for (let x = 0; x < n; x++) {
        let s = 0;
        for (let r = 0; r < train.length; r++) {
          if (train[key][r] !== x) continue;
          s += train.ratings[r]! - m.predict(train.users[r]!, train.items[r]!);
        }
        expect(Math.abs(s)).toBeLessThan(1e-4);
      }
    }
    expect(Array.from(popularityOrder(train, 3))).toEqual([0, 1, 2]);
  });

  it('reports model, global-mean, bias and popularity figures side by side', () => {
    const params = allocParams(3, 3, 0, 0);
    params.itemBias.set([4, 4, 4]); // predicts 4 everywhere
    const e = evaluate(new MFModel({ params }), test, train, { k: 1 });
    expect(e.rmse).toBeCloseTo(Math.sqrt((0 + 1 + 1) / 3), 6);
    expect(e.mae).toBeCloseTo(2 / 3, 6);
    const mu = 19 / 6;
    expect(e.baselines.globalMean.rmse).toBeCloseTo(
      Math.sqrt(((4 - mu) ** 2 + (5 - mu) ** 2 + (3 - mu) ** 2) / 3),
      6,
    );
    // relevant: user 0 → item 2, user 1 → item 1; popularity (ties by index) gives user 0 [2], user 1 [1]
    expect(e.baselines.popularity?.ranking.hitRate).toBe(1);
    expect(e.ranking?.users).toBe(2);
    expect(e.coldRows).toBe(0);
  });
});
