import { IdMap } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import {
  deserializeRankingModel,
  FactorModel,
  historyWeights,
  ItemItemModel,
  ModelFormatError,
  serializeRankingModel,
  UNSCORED,
} from '../src/index.ts';

const ids = (n: number) => IdMap.fromJSON(Array.from({ length: n }, (_, j) => `x${j}`));

/** 2 users, 4 items; user 0 has items 0 and 1, user 1 nothing. Dense B over kept items 0, 1, 2 (item 3 not kept). */
function denseModel() {
  const B = Float32Array.of(0, 0.5, 0.2, 0.3, 0, 0.1, 0.4, 0.6, 0);
  return new ItemItemModel({
    family: 'ease',
    users: ids(2),
    items: ids(4),
    weights: { kind: 'dense', kept: Int32Array.of(0, 1, 2), matrix: B },
    history: { offsets: Int32Array.of(0, 2, 2), items: Int32Array.of(0, 1), values: Float32Array.of(1, 1) },
    popularity: Float32Array.of(5, 3, 9, 1),
    weighting: { recencyTau: 10, likeThreshold: 3.5, lowWeight: 0.25 },
  });
}

describe('ItemItemModel', () => {
  it('scores s_u = x_u·B over the history; items outside B rank last', () => {
    const m = denseModel();
    const s = m.scoreAll(m.userState(0), new Float32Array(4));
    // item 2: B_02 + B_12 = 0.2 + 0.1; item 0: B_10 = 0.3; item 1: B_01 = 0.5 (plus a tiny popularity tie-break)
    expect(s[2]).toBeCloseTo(0.3, 5);
    expect(s[0]).toBeCloseTo(0.3, 5);
    expect(s[1]).toBeCloseTo(0.5, 5);
    expect(s[3]!).toBeLessThan(UNSCORED / 2);
    const top = m.recommend(m.userState(0), { k: 2, exclude: Int32Array.of(0, 1) });
    expect([...top.items]).toEqual([2, 3]);
  });

  it('explain lists the history items with the largest B_ji·x_uj', () => {
    const m = denseModel();
    const state = m.userState(0);
    const why = m.explain(state, { items: state.items, values: state.weights }, 2, 5);
    expect([...why.items]).toEqual([0, 1]);
    expect(why.scores[0]).toBeCloseTo(0.2, 6);
    expect(why.scores[1]).toBeCloseTo(0.1, 6);
  });

  it('a user with no interactions gets the popularity fallback, flagged', () => {
    const m = denseModel();
    for (const state of [
      m.userState(1),
      m.foldIn({ items: new Int32Array(0), values: new Float32Array(0) }),
    ]) {
      expect(state.fallback).toBe('popularity');
      expect([...m.recommend(state, { k: 2 }).items]).toEqual([2, 0]);
    }
    // a history of only items the model cannot score falls back too
    expect(m.foldIn({ items: Int32Array.of(3), values: Float32Array.of(5) }).fallback).toBe('popularity');
  });

  it('fold-in weights the history by rating and recency: x = g(r)·exp(−age/τ)', () => {
    const w = historyWeights(
      { items: Int32Array.of(0, 1, 2), values: Float32Array.of(5, 2, 4), times: Int32Array.of(30, 20, 10) },
      { recencyTau: 10, likeThreshold: 3.5, lowWeight: 0.25 },
    );
    expect(w[0]).toBeCloseTo(1, 6);
    expect(w[1]).toBeCloseTo(0.25 * Math.exp(-0.1), 6);
    expect(w[2]).toBeCloseTo(Math.exp(-0.2), 6);
  });

  it('rejects a malformed history with the entry at fault', () => {
    const m = denseModel();
    expect(() => m.foldIn({ items: Int32Array.of(1, 0), values: Float32Array.of(1, 1) })).toThrow(
      /ascending/,
    );
    expect(() => m.foldIn({ items: Int32Array.of(9), values: Float32Array.of(1) })).toThrow(
      /item 9 \(entry 0\)/,
    );
  });

  it('round-trips through its artifact (dense and sparse)', () => {
    const dense = denseModel();
    const sparse = new ItemItemModel({
      family: 'item-knn',
      users: ids(2),
      items: ids(4),
      weights: {
        kind: 'sparse',
        rows: {
          offsets: Int32Array.of(0, 2, 3, 3, 3),
          items: Int32Array.of(1, 2, 0),
          values: Float32Array.of(0.5, 0.25, 0.5),
        },
      },
      history: { offsets: Int32Array.of(0, 1, 1), items: Int32Array.of(0), values: Float32Array.of(1) },
      popularity: Float32Array.of(2, 1, 1, 0),
    });
    for (const m of [dense, sparse]) {
      const back = deserializeRankingModel(serializeRankingModel(m), 'test');
      expect(back).toBeInstanceOf(ItemItemModel);
      expect(back.family).toBe(m.family);
      const a = m.scoreAll(m.userState(0), new Float32Array(4));
      const b = back.scoreAll(back.userState(0), new Float32Array(4));
      expect([...b]).toEqual([...a]);
    }
    expect(sparse.weight(0, 2)).toBeCloseTo(0.25, 6);
    expect([...sparse.similarItems(0, 3).items]).toEqual([1, 2]);
  });

  it('reads an artifact handed over as a Node Buffer inside a larger pool (as a database driver returns it)', () => {
    const bytes = serializeRankingModel(denseModel());
    // Buffer.prototype.slice is a view, not a copy: blobs must be copied by their own bounds, not the pool's
    const pool = Buffer.alloc(bytes.length + 4096);
    pool.set(bytes, 1024);
    const view = pool.subarray(1024, 1024 + bytes.length);
    const back = deserializeRankingModel(view, 'pooled');
    const m = denseModel();
    expect(back.numItems).toBe(m.numItems);
    expect([...back.scoreAll(back.userState(0), new Float32Array(m.numItems))]).toEqual([
      ...m.scoreAll(m.userState(0), new Float32Array(m.numItems)),
    ]);
  });

  it('names what is wrong with a bad artifact', () => {
    const bytes = serializeRankingModel(denseModel());
    const bad = bytes.slice();
    bad.set([0x58, 0x58, 0x58, 0x58], 0);
    expect(() => deserializeRankingModel(bad, 'f.mrm')).toThrow(ModelFormatError);
    expect(() => deserializeRankingModel(bad, 'f.mrm')).toThrow(/f\.mrm: not a movierec ranking model/);
    expect(() => deserializeRankingModel(bytes.subarray(0, 100), 'cut')).toThrow(/cut:/);
  });
});

describe('FactorModel', () => {
  const k = 2;
  const items = Float32Array.of(1, 0, 0, 1, 1, 1, -1, 0.5);
  const model = new FactorModel({
    family: 'ials',
    users: ids(1),
    items: ids(4),
    factors: k,
    userFactors: Float32Array.of(0.3, 0.2),
    itemFactors: items,
    foldIn: { l2: 0.5, confidence: { scheme: 'linear', alpha: 2, epsilon: 1 } },
    history: { offsets: Int32Array.of(0, 1), items: Int32Array.of(2), values: Float32Array.of(1) },
    popularity: Float32Array.of(1, 2, 3, 4),
  });

  it('fold-in is the confidence-weighted least squares of Hu et al. 2008', () => {
    const h = { items: Int32Array.of(0, 2), values: Float32Array.of(4, 1) };
    const x = model.foldIn(h).factors;
    // the normal equations built directly: A = Σ_i c_i q_i q_iᵀ + λI (c = 1 off the history), b = Σ_{i∈h} c_i q_i
    const c = [1 + 2 * 4, 1, 1 + 2 * 1, 1];
    const A = [0.5, 0, 0, 0.5];
    const b = [0, 0];
    for (let i = 0; i < 4; i++) {
      const q = [items[2 * i]!, items[2 * i + 1]!];
      for (let a = 0; a < 2; a++) for (let d = 0; d < 2; d++) A[a * 2 + d]! += c[i]! * q[a]! * q[d]!;
      if (h.items.includes(i)) for (let a = 0; a < 2; a++) b[a]! += c[i]! * q[a]!;
    }
    const det = A[0]! * A[3]! - A[1]! * A[2]!;
    const want = [(A[3]! * b[0]! - A[1]! * b[1]!) / det, (A[0]! * b[1]! - A[2]! * b[0]!) / det];
    expect(x[0]).toBeCloseTo(want[0]!, 5);
    expect(x[1]).toBeCloseTo(want[1]!, 5);
  });

  it('scores p·q_i, falls back to popularity without history, and round-trips', () => {
    const s = model.scoreAll(model.userState(0), new Float32Array(4));
    expect(s[2]).toBeCloseTo(0.5, 6);
    const empty = model.foldIn({ items: new Int32Array(0), values: new Float32Array(0) });
    expect(empty.fallback).toBe('popularity');
    expect([...model.recommend(empty, { k: 2 }).items]).toEqual([3, 2]);
    const back = deserializeRankingModel(serializeRankingModel(model));
    expect(back).toBeInstanceOf(FactorModel);
    expect([...back.scoreAll(back.userState(0), new Float32Array(4))]).toEqual([...s]);
    expect([
      ...(back as FactorModel).foldIn({ items: Int32Array.of(1), values: Float32Array.of(2) }).factors,
    ]).toEqual([...model.foldIn({ items: Int32Array.of(1), values: Float32Array.of(2) }).factors]);
  });

  it('similar items by cosine of item factors; explain by the most similar history items', () => {
    expect(model.similarItems(0, 1).items[0]).toBe(2);
    const why = model.explain(
      model.userState(0),
      { items: Int32Array.of(1, 3), values: Float32Array.of(1, 1) },
      2,
      2,
    );
    expect([...why.items]).toEqual([1]);
  });
});

describe('model registry', () => {
  it('reads and writes every ranking family by its magic', async () => {
    const { deserializeRecommender, serializeRecommender, modelFamilies } = await import('../src/index.ts');
    expect(modelFamilies()).toEqual(expect.arrayContaining(['mf', 'ease', 'item-knn', 'ials', 'bpr']));
    const m = denseModel();
    const back = deserializeRecommender(serializeRecommender(m), 'registry');
    expect(back).toBeInstanceOf(ItemItemModel);
    expect(back.family).toBe('ease');
  });
});
