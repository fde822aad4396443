import { IdMap } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import { buildRatedIndex, MFModel, UnknownItemError, UnknownUserError } from '../src/index.ts';
import { randomParams, rng } from './helpers.ts';

function bruteScores(model: MFModel, p: Float32Array, bias: number): number[] {
  const k = model.factors;
  const out: number[] = [];
  for (let i = 0; i < model.numItems; i++) {
    let dot = 0;
    for (let f = 0; f < k; f++) dot += p[f]! * model.params.itemFactors[i * k + f]!;
    out.push(model.globalMean + bias + model.params.itemBias[i]! + dot);
  }
  return out;
}

describe.each([7, 8])('MFModel with %i factors (8: the SIMD scorer)', (nf) => {
  const params = randomParams(20, 300, nf, 3);
  const users = IdMap.fromJSON(Array.from({ length: 20 }, (_, j) => `u${j}`));
  const items = IdMap.fromJSON(Array.from({ length: 300 }, (_, j) => 1000 + j));
  const ratings = {
    length: 6,
    users: Int32Array.from([0, 0, 0, 1, 1, 0]),
    items: Int32Array.from([5, 2, 250, 7, 7, 2]),
    ratings: Float32Array.from([4, 3, 5, 1, 2, 3]),
    timestamps: new Int32Array(6),
  };
  const model = new MFModel({ params, users, items, rated: buildRatedIndex(ratings, 20) });

  it('predicts μ + b_u + b_i + p_u·q_i', () => {
    const k = nf;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += params.userFactors[3 * k + f]! * params.itemFactors[11 * k + f]!;
    const want = 3.5 + params.userBias[3]! + params.itemBias[11]! + dot;
    expect(model.predict(3, 11)).toBeCloseTo(want, 5);
    const many = model.predictMany(Int32Array.from([3, 0]), Int32Array.from([11, 299]));
    expect(many[0]).toBeCloseTo(want, 5);
    expect(many[1]).toBeCloseTo(model.predict(0, 299), 5);
  });

  it('throws typed errors for unknown users and items, naming them', () => {
    expect(() => model.predict(20, 0)).toThrow(UnknownUserError);
    expect(() => model.predict(0, -1)).toThrow(UnknownItemError);
    expect(() => model.userIndex('nobody')).toThrow(/"nobody"/);
    expect(() => model.itemIndex(99)).toThrow(UnknownItemError);
    expect(model.itemIndex('1005')).toBe(5);
    try {
      model.predictMany(Int32Array.from([0, 1]), Int32Array.from([0, 300]));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UnknownItemError);
      expect((err as UnknownItemError).item).toBe(300);
    }
  });

  it('recommends the same top-k as a full sort, excluding rated items and honouring the filter', () => {
    const brute = bruteScores(model, params.userFactors.subarray(0, nf), params.userBias[0]!);
    const rated = new Set([2, 5, 250]);
    const order = brute
      .map((score, item) => ({ item, score }))
      .filter((s) => !rated.has(s.item) && s.item % 3 !== 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, 10);
    const allowed = Uint8Array.from({ length: 300 }, (_, i) => (i % 3 !== 0 ? 1 : 0));
    const user = model.userState(0);
    const got = model.recommend(user, { k: 10, exclude: model.trainedHistory(0)!, allowed });
    expect([...got.items]).toEqual(order.map((s) => s.item));
    for (const [j, s] of got.scores.entries()) expect(s).toBeCloseTo(order[j]!.score, 4);
    // scoreAll is the same key (no ranking-only term here)
    const all = model.scoreAll(user, new Float32Array(300));
    for (const i of [0, 17, 299]) expect(all[i]).toBeCloseTo(brute[i]!, 4);
    // without exclusion the rated items may come back; with an explicit unsorted list only those are dropped
    expect(model.recommend(0, { k: 300 }).items).toHaveLength(300);
    const explicit = model.recommend(0, { k: 300, exclude: Int32Array.from([9, -3, 4, 4, 1000]) });
    expect([...explicit.items].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 300 }, (_, j) => j).filter((j) => j !== 4 && j !== 9),
    );
    expect(model.recommend(0, { k: 0 }).items).toHaveLength(0);
    expect(() => model.recommend(0, { k: -1 })).toThrow(/k must be a non-negative integer/);
  });

  it('finds similar items and users by cosine similarity', () => {
    const k = nf;
    const cos = (m: Float32Array, a: number, b: number) => {
      let d = 0;
      let na = 0;
      let nb = 0;
      for (let f = 0; f < k; f++) {
        d += m[a * k + f]! * m[b * k + f]!;
        na += m[a * k + f]! ** 2;
        nb += m[b * k + f]! ** 2;
      }
      return d / Math.sqrt(na * nb);
    };
    const want = Array.from({ length: 300 }, (_, j) => ({ item: j, score: cos(params.itemFactors, 42, j) }))
      .filter((s) => s.item !== 42)
      .sort((a, b) => b.score - a.score)
      .slice(0, 5);
    const got = model.similarItems(42, 5);
    expect([...got.items]).toEqual(want.map((s) => s.item));
    expect(got.scores[0]).toBeCloseTo(want[0]!.score, 5);
    const allowed = new Uint8Array(300).fill(1);
    allowed[want[0]!.item] = 0;
    expect(model.similarItems(42, 5, allowed).items[0]).toBe(want[1]!.item);
    const users5 = model.similarUsers(4, 19);
    expect(users5.items).toHaveLength(19);
    expect(users5.items.includes(4)).toBe(false);
    expect(users5.scores[0]).toBeCloseTo(cos(params.userFactors, 4, users5.items[0]!), 5);
    // explain: the history's items closest to the item by cosine, the item itself left out
    const history = { items: Int32Array.from([3, 42, 77, 150, 299]), values: new Float32Array(5).fill(4) };
    const why = model.explain(model.userState(0), history, 42, 2);
    const byCos = [3, 77, 150, 299].sort(
      (a, b) => cos(params.itemFactors, 42, b) - cos(params.itemFactors, 42, a),
    );
    expect([...why.items]).toEqual(byCos.slice(0, 2));
    expect(why.scores[0]).toBeCloseTo(cos(params.itemFactors, 42, byCos[0]!), 5);
  });

  it('folds in a new user: the solution zeroes the gradient of the regularised least-squares objective', () => {
    const r = rng(9);
    const n = 10;
    const foldItems = Int32Array.from({ length: n }, () => Math.floor(r() * 300));
    const foldRatings = Float32Array.from({ length: n }, () => 1 + Math.round(r() * 8) / 2);
    const lambda = 0.7;
    const v = model.foldIn({ items: foldItems, values: foldRatings }, { l2: lambda });
    expect(v.index).toBe(-1);
    const k = nf;
    // ∂/∂p_f = −2 Σ e_j q_jf + 2λ p_f, ∂/∂b = −2 Σ e_j + 2λ b, with e_j = r_j − μ − b_i − b − p·q_i
    const grad = new Float64Array(k + 1);
    for (let j = 0; j < n; j++) {
      const i = foldItems[j]!;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += v.factors[f]! * params.itemFactors[i * k + f]!;
      const e = foldRatings[j]! - 3.5 - params.itemBias[i]! - v.bias - dot;
      for (let f = 0; f < k; f++) grad[f]! += -2 * e * params.itemFactors[i * k + f]!;
      grad[k]! += -2 * e;
    }
    for (let f = 0; f < k; f++) grad[f]! += 2 * lambda * v.factors[f]!;
    grad[k]! += 2 * lambda * v.bias;
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-4);
    // and it equals a direct solve of the normal equations by Gaussian elimination with partial pivoting
    const m = k + 1;
    const a = Array.from({ length: m }, () => new Float64Array(m + 1));
    for (let j = 0; j < n; j++) {
      const i = foldItems[j]!;
      const row = [...params.itemFactors.subarray(i * k, (i + 1) * k), 1];
      const y = foldRatings[j]! - 3.5 - params.itemBias[i]!;
      for (let x = 0; x < m; x++) {
        for (let z = 0; z < m; z++) a[x]![z]! += row[x]! * row[z]!;
        a[x]![m]! += row[x]! * y;
      }
    }
    for (let x = 0; x < m; x++) a[x]![x]! += lambda;
    for (let c = 0; c < m; c++) {
      let pivot = c;
      for (let r = c + 1; r < m; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
      [a[c], a[pivot]] = [a[pivot]!, a[c]!];
      for (let r = 0; r < m; r++) {
        if (r === c) continue;
        const factor = a[r]![c]! / a[c]![c]!;
        for (let z = c; z <= m; z++) a[r]![z]! -= factor * a[c]![z]!;
      }
    }
    const direct = a.map((row, x) => row[m]! / row[x]!);
    for (let f = 0; f < k; f++) expect(v.factors[f]).toBeCloseTo(direct[f]!, 5);
    expect(v.bias).toBeCloseTo(direct[k]!, 5);
    // and the folded-in vector predicts through the Recommender interface
    expect(model.predict(v, 3)).toBeCloseTo(
      3.5 +
        v.bias +
        params.itemBias[3]! +
        v.factors.reduce((s, x, f) => s + x * params.itemFactors[3 * k + f]!, 0),
      5,
    );
    const history = (items: number[], values: number[]) => ({
      items: Int32Array.from(items),
      values: Float32Array.from(values),
    });
    expect(() => model.foldIn(history([300], [4]))).toThrow(UnknownItemError);
    expect(() => model.foldIn(history([1, 2], [4]))).toThrow(/2 entries/);
    expect(() => model.predict({ index: -1 }, 3)).toThrow(/not an MF user/);
  });

  it('rejects parameters whose shapes disagree', () => {
    const bad = { ...randomParams(2, 3, 4), numItems: 4 };
    expect(() => new MFModel({ params: bad })).toThrow(/itemBias has length 3, expected 4/);
  });
});

describe('DotScorer', () => {
  it('runs the committed module compiled from wasm/score.wat', async () => {
    const { compileScoreKernel } = await import('../wasm/build.ts');
    const { SCORE_WASM_BASE64 } = await import('../src/score-wasm.ts');
    expect(Buffer.from(await compileScoreKernel()).toString('base64')).toBe(SCORE_WASM_BASE64);
  });

  it('computes the same dot products with the SIMD kernel and the typed-array loop', async () => {
    const { DotScorer } = await import('../src/score.ts');
    const params = randomParams(1, 1001, 12, 5);
    const simd = new DotScorer(params.itemFactors, 12, 1001);
    expect(simd.simd).toBe(true);
    const p = params.itemFactors.slice(24, 36);
    const got = Float32Array.from(simd.dots(p));
    for (const i of [0, 2, 500, 1000]) {
      let want = 0;
      for (let f = 0; f < 12; f++) want += p[f]! * params.itemFactors[i * 12 + f]!;
      expect(got[i]).toBeCloseTo(want, 5);
    }
  });
});

describe('ranking-only item term', () => {
  it('ranks by r̂ + itemRankBias but reports r̂, and survives the artifact', async () => {
    const { serializeModel, deserializeModel } = await import('../src/index.ts');
    const params = randomParams(3, 50, 8, 21);
    params.itemRankBias = new Float32Array(50);
    params.itemRankBias[17] = 100;
    const model = new MFModel({ params });
    const top = model.recommend(1, { k: 3 });
    expect(top.items[0]).toBe(17);
    expect(top.scores[0]).toBeCloseTo(model.predict(1, 17), 5);
    // scoreAll is the ranking key r̂ + itemRankBias
    expect(model.scoreAll(model.userState(1), new Float32Array(50))[17]).toBeCloseTo(
      model.predict(1, 17) + 100,
      4,
    );
    const back = deserializeModel(serializeModel(model));
    expect(back.params.itemRankBias).toEqual(params.itemRankBias);
    expect(back.recommend(1, { k: 3 })).toEqual(top);
  });
});
