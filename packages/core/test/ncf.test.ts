import { describe, expect, it } from 'vitest';
import {
  deserializeNcf,
  deserializeRecommender,
  ModelFormatError,
  modelFamilies,
  NcfModel,
  type NcfParams,
  serializeNcf,
  serializeRecommender,
  UnknownItemError,
  UnknownUserError,
} from '../src/index.ts';
import { rng } from './helpers.ts';

/**
 * A hand-made GMF: 4 clusters of 6 items, item i's embedding is the one-hot of its cluster, h = 3·1, b = −1;
 * trained user u belongs to cluster u mod 4 (embedding 2·one-hot).
 */
function clusteredGmf(): NcfModel {
  const numUsers = 8;
  const numItems = 24;
  const d = 4;
  const gmfUser = new Float32Array(numUsers * d);
  const gmfItem = new Float32Array(numItems * d);
  for (let u = 0; u < numUsers; u++) gmfUser[u * d + (u % 4)] = 2;
  for (let i = 0; i < numItems; i++) gmfItem[i * d + Math.floor(i / 6)] = 1 + 0.01 * (i % 6);
  const params: NcfParams = {
    kind: 'gmf',
    numUsers,
    numItems,
    gmfFactors: d,
    layers: [],
    gmfUser,
    gmfItem,
    mlpUser: new Float32Array(0),
    mlpItem: new Float32Array(0),
    mlpKernels: [],
    mlpBiases: [],
    outKernel: new Float32Array(d).fill(3),
    outBias: -1,
  };
  return new NcfModel({ params, config: { seed: 3 } });
}

function randomNeumf(): NcfModel {
  const r = rng(4);
  const f = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
  const layers = [6, 5, 2];
  return new NcfModel({
    params: {
      kind: 'neumf',
      numUsers: 3,
      numItems: 11,
      gmfFactors: 4,
      layers,
      gmfUser: f(12),
      gmfItem: f(44),
      mlpUser: f(9),
      mlpItem: f(33),
      mlpKernels: [f(30), f(10)],
      mlpBiases: [f(5), f(2)],
      outKernel: f(6),
      outBias: 0.1,
    },
  });
}

describe('NcfModel (native NCF)', () => {
  it('scores GMF as σ(hᵀ(p ⊙ q) + b) and ranks the user’s cluster first, honouring exclude and allowed', () => {
    const m = clusteredGmf();
    const s = m.scoreAll(m.userState(1), new Float32Array(24));
    expect(s[6]).toBeCloseTo(1 / (1 + Math.exp(-(3 * 2 * 1 - 1))), 6);
    expect(s[0]).toBeCloseTo(1 / (1 + Math.exp(1)), 6);
    const top = m.recommend(m.userState(1), { k: 3, exclude: Int32Array.of(11) });
    expect(Array.from(top.items)).toEqual([10, 9, 8]);
    const allowed = new Uint8Array(24);
    allowed[3] = allowed[7] = 1;
    expect(Array.from(m.recommend(m.userState(1), { k: 5, allowed }).items)).toEqual([7, 3]);
  });

  it('similarItems and explain use the cosine of the item vectors', () => {
    const m = clusteredGmf();
    const sim = m.similarItems(13, 5);
    expect(Array.from(sim.items).sort((a, b) => a - b)).toEqual([12, 14, 15, 16, 17]);
    expect(sim.scores[0]).toBeCloseTo(1, 6);
    const why = m.explain(
      m.userState(0),
      { items: Int32Array.of(1, 8, 14), values: new Float32Array(3) },
      15,
      2,
    );
    expect(why.items[0]).toBe(14);
  });

  it('fold-in moves a new user towards their history and lifts a held-out item of the same cluster', () => {
    const m = clusteredGmf();
    const history = { items: Int32Array.of(18, 19, 20, 21), values: new Float32Array(4).fill(1) };
    const rank = (state: ReturnType<NcfModel['foldIn']>) =>
      Array.from(m.recommend(state, { k: 24, exclude: history.items }).items).indexOf(22);
    const mean = m.foldIn(history, { steps: 0 });
    const folded = m.foldIn(history);
    expect(rank(folded)).toBeLessThan(rank(mean));
    expect(rank(folded)).toBeLessThan(2);
    expect(folded.index).toBe(-1);
    expect(m.foldIn(history).gmf).toEqual(folded.gmf); // seeded
    expect(() => m.foldIn({ items: Int32Array.of(99), values: Float32Array.of(1) })).toThrow(
      /history\.items\[0\]/,
    );
    expect(() => m.foldIn(history, { steps: -1 })).toThrow(/steps/);
    // an empty history: the mean trained user
    expect(m.foldIn({ items: new Int32Array(0), values: new Float32Array(0) }).gmf).toEqual(m.meanUser().gmf);
  });

  it('round-trips through serializeNcf bit for bit and refuses damaged bytes', () => {
    const m = randomNeumf();
    const bytes = serializeNcf(m);
    const back = deserializeNcf(bytes);
    expect(back.params.mlpKernels).toEqual(m.params.mlpKernels);
    expect(back.scoreAll(back.userState(2), new Float32Array(11))).toEqual(
      m.scoreAll(m.userState(2), new Float32Array(11)),
    );
    // the 'ncf' family is registered: the generic loader picks it by its magic
    expect(modelFamilies()).toContain('ncf');
    expect(serializeRecommender(m)).toEqual(bytes);
    const generic = deserializeRecommender(bytes, 'model version 7');
    expect(generic).toBeInstanceOf(NcfModel);
    expect(generic.family).toBe('ncf');
    expect(generic.task).toBe('ranking');
    expect(() => deserializeNcf(bytes.subarray(0, 8))).toThrow(ModelFormatError);
    const wrong = bytes.slice();
    wrong[0] = 0x58;
    expect(() => deserializeNcf(wrong)).toThrow(/not a movierec model/);
    expect(() => deserializeNcf(bytes.subarray(0, bytes.length - 8))).toThrow(/runs past the end/);
  });

  it('refuses unknown users and items and inconsistent shapes', () => {
    const m = randomNeumf();
    expect(() => m.userState(3)).toThrow(UnknownUserError);
    expect(() => m.similarItems(11, 2)).toThrow(UnknownItemError);
    expect(() => new NcfModel({ params: { ...m.params, outKernel: new Float32Array(5) } })).toThrow(
      /outKernel has length 5, expected 6/,
    );
    expect(() => m.scoreAll({ index: -1 }, new Float32Array(11))).toThrow(/not made by this NCF model/);
  });
});
