import { deserializeNcf, NcfModel, type NcfParams, serializeNcf } from '@movierec/core';
import { type RatingColumns, Rng } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import { buildNcfModel, getNcfWeights, predictNcf, setNcfWeights } from '../src/engines/ncf-model.ts';
import {
  epochInstances,
  type NcfConfig,
  neumfFromPretrained,
  positivesOf,
  resolveNcfConfig,
  TrainingInputError,
  trainNcf,
} from '../src/index.ts';
import { initTfjsBackend } from '../src/tfjs/index.ts';

/** Generous: wasm start-up and training share 2 cores with other jobs; no test asserts a time. */
const TIMEOUT = 180_000;

/**
 * Planted clusters: items 0…C·S−1 in C clusters of S; user u belongs to cluster u mod C and interacted with
 * `per` distinct items of it (seeded), plus one random item anywhere.
 */
function planted(numUsers: number, clusters: number, size: number, per: number, seed = 3): RatingColumns {
  const rng = new Rng(seed);
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < numUsers; u++) {
    const c = u % clusters;
    const chosen = new Set<number>();
    while (chosen.size < per) chosen.add(c * size + rng.int(size));
    chosen.add(rng.int(clusters * size));
    for (const i of chosen) {
      users.push(u);
      items.push(i);
    }
  }
  const n = users.length;
  return {
    length: n,
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: new Float32Array(n).fill(5),
    timestamps: new Int32Array(n),
  };
}

const small: Partial<NcfConfig> = {
  gmfFactors: 4,
  layers: [8, 8, 4],
  batchSize: 64,
  learningRate: 0.02,
  sgdLearningRate: 0.1,
  pretrainEpochs: 12,
  epochs: 4,
  seed: 7,
};

describe('NCF network: native forward pass = TF.js predict', { timeout: TIMEOUT }, () => {
  for (const kind of ['gmf', 'mlp', 'neumf'] as const) {
    it(`${kind}: NcfModel.scoreAll and predictPairs agree with model.predict on the same weights (1e-5)`, async () => {
      await initTfjsBackend();
      const shape = { kind, numUsers: 7, numItems: 23, gmfFactors: 6, layers: [10, 8, 5, 3], seed: 11 };
      const net = buildNcfModel(shape);
      try {
        // seeded initialisers give tiny weights (σ ≈ 0.5 everywhere): scale them so the comparison means something
        const p0 = getNcfWeights(net, shape);
        const r = new Rng(5);
        const scaled: NcfParams = {
          ...p0,
          gmfUser: p0.gmfUser.map(() => r.normal()),
          gmfItem: p0.gmfItem.map(() => r.normal()),
          mlpUser: p0.mlpUser.map(() => r.normal()),
          mlpItem: p0.mlpItem.map(() => r.normal()),
          mlpBiases: p0.mlpBiases.map((b) => b.map(() => 0.3 * r.normal())),
          outBias: 0.2,
        };
        setNcfWeights(net, scaled);
        const params = getNcfWeights(net, shape);
        const model = new NcfModel({ params });
        const users = new Int32Array(7 * 23);
        const items = new Int32Array(7 * 23);
        for (let u = 0, j = 0; u < 7; u++) for (let i = 0; i < 23; i++, j++) [users[j], items[j]] = [u, i];
        const tfjs = predictNcf(net, users, items);
        const pairs = model.predictPairs(users, items);
        const all = new Float32Array(23);
        let spread = 0;
        for (let u = 0; u < 7; u++) {
          model.scoreAll(model.userState(u), all);
          for (let i = 0; i < 23; i++) {
            expect(Math.abs(all[i]! - tfjs[u * 23 + i]!)).toBeLessThan(1e-5);
            expect(Math.abs(pairs[u * 23 + i]! - tfjs[u * 23 + i]!)).toBeLessThan(1e-5);
            spread = Math.max(spread, Math.abs(tfjs[u * 23 + i]! - 0.5));
          }
        }
        expect(spread).toBeGreaterThan(0.2); // outputs far from σ(0): the comparison exercised the network
      } finally {
        net.dispose();
      }
    });
  }
});

describe('NCF pre-training', () => {
  it('NeuMF starts from GMF and MLP with h = [α·h_GMF, (1−α)·h_MLP], b = α b_GMF + (1−α) b_MLP', async () => {
    await initTfjsBackend();
    const base = { numUsers: 5, numItems: 9, gmfFactors: 4, layers: [6, 4, 3], seed: 1 };
    const gNet = buildNcfModel({ ...base, kind: 'gmf' });
    const mNet = buildNcfModel({ ...base, kind: 'mlp' });
    const gmf = getNcfWeights(gNet, { ...base, kind: 'gmf' });
    const mlp = getNcfWeights(mNet, { ...base, kind: 'mlp' });
    gNet.dispose();
    mNet.dispose();
    const g = { ...gmf, outBias: 0.4 };
    const m = { ...mlp, outBias: -0.2 };
    const neumf = neumfFromPretrained(g, m, 0.5);
    expect(Array.from(neumf.outKernel)).toEqual([
      ...Array.from(g.outKernel, (x) => Math.fround(0.5 * x)),
      ...Array.from(m.outKernel, (x) => Math.fround(0.5 * x)),
    ]);
    expect(neumf.outBias).toBeCloseTo(0.1, 12);
    expect(neumf.gmfItem).toEqual(g.gmfItem);
    expect(neumf.mlpKernels[1]).toEqual(m.mlpKernels[1]);
    // so NeuMF's logit starts as the mean of the two networks' logits: z = ½ z_GMF + ½ z_MLP
    const [zN, zG, zM] = [neumf, g, m].map((p) => {
      const model = new NcfModel({ params: p });
      return model.logits(model.userState(2), new Float64Array(9));
    });
    for (let i = 0; i < 9; i++) expect(zN![i]).toBeCloseTo(0.5 * zG![i]! + 0.5 * zM![i]!, 6);
    // and the weights load into a NeuMF network whose predict agrees
    const net = buildNcfModel({ ...base, kind: 'neumf' });
    setNcfWeights(net, neumf);
    const y = predictNcf(net, Int32Array.of(2, 2), Int32Array.of(0, 8));
    net.dispose();
    expect(y[0]).toBeCloseTo(1 / (1 + Math.exp(-zN![0]!)), 5);
    expect(y[1]).toBeCloseTo(1 / (1 + Math.exp(-zN![8]!)), 5);
    expect(() => neumfFromPretrained(m, g, 0.5)).toThrow(TrainingInputError);
  });
});

describe('NCF sampled negatives', () => {
  it('draws `negatives` unseen items per positive, seeded, every instance shuffled', () => {
    const data = planted(12, 3, 8, 4);
    const pos = positivesOf(data, 12, 0);
    const a = epochInstances(pos, 24, 4, new Rng(9));
    const b = epochInstances(pos, 24, 4, new Rng(9));
    expect(a.users.length).toBe(pos.users.length * 5);
    expect(a).toEqual(b);
    const seen = new Set(Array.from(data.users, (u, r) => `${u}:${data.items[r]}`));
    let ones = 0;
    for (let j = 0; j < a.users.length; j++) {
      const key = `${a.users[j]}:${a.items[j]}`;
      if (a.labels[j] === 1) {
        ones++;
        expect(seen.has(key)).toBe(true);
      } else expect(seen.has(key)).toBe(false);
    }
    expect(ones).toBe(pos.users.length);
    expect(epochInstances(pos, 24, 4, new Rng(10)).items).not.toEqual(a.items);
  });

  it('positiveThreshold keeps only ratings at or above it as positives', () => {
    const data = planted(6, 2, 5, 3);
    data.ratings.fill(2, 0, 4);
    expect(positivesOf(data, 6, 4).users.length).toBe(positivesOf(data, 6, 0).users.length - 4);
  });
});

describe('trainNcf', { timeout: TIMEOUT }, () => {
  const data = planted(80, 4, 10, 6);

  it('is deterministic for a seed (same weights bit for bit); another seed gives others', async () => {
    const cfg = { ...small, pretrainEpochs: 2, epochs: 1, batchSize: 256 };
    const a = await trainNcf({ ratings: data }, cfg);
    const b = await trainNcf({ ratings: data }, cfg);
    const c = await trainNcf({ ratings: data }, { ...cfg, seed: 8 });
    expect(b.model.params.gmfItem).toEqual(a.model.params.gmfItem);
    expect(b.model.params.mlpKernels).toEqual(a.model.params.mlpKernels);
    expect(b.model.params.outKernel).toEqual(a.model.params.outKernel);
    expect(b.log.epochs.map((e) => e.loss)).toEqual(a.log.epochs.map((e) => e.loss));
    expect(c.model.params.gmfItem).not.toEqual(a.model.params.gmfItem);
    expect(a.log.epochs.map((e) => e.stage)).toEqual(['gmf', 'gmf', 'mlp', 'mlp', 'neumf']);
  });

  it('learns the planted clusters; fold-in of a new user lifts their held-out item; round-trips', async () => {
    const { model, log } = await trainNcf({ ratings: data }, small);
    expect(log.epochs.at(-1)!.loss).toBeLessThan(log.epochs[0]!.loss);
    // a new user of cluster 2 (items 20…29) who interacted with six of its items; the other four are held out
    const history = { items: Int32Array.of(20, 21, 23, 24, 26, 27), values: new Float32Array(6).fill(1) };
    const heldOut = [22, 25, 28, 29];
    const ranks = (state: ReturnType<typeof model.foldIn>) => {
      const top = Array.from(model.recommend(state, { k: 40, exclude: history.items }).items);
      return heldOut.map((i) => top.indexOf(i));
    };
    const sum = (r: number[]) => r.reduce((a, b) => a + b, 0);
    const before = ranks(model.foldIn(history, { steps: 0 })); // the mean trained user
    const folded = model.foldIn(history);
    const after = ranks(folded);
    expect(sum(after)).toBeLessThan(sum(before));
    expect(after.slice().sort()).toEqual([0, 1, 2, 3]); // the cluster's unseen items first
    expect(folded.index).toBe(-1);
    // same history and seed ⇒ same state
    expect(model.foldIn(history).gmf).toEqual(folded.gmf);
    // explain: the history items nearest the recommended one; similarItems: its own cluster first
    const why = model.explain(folded, history, 29, 3);
    expect(why.items.length).toBe(3);
    expect(Array.from(why.items).every((i) => history.items.includes(i))).toBe(true);
    const similar = model.similarItems(29, 5);
    expect(similar.items).not.toContain(29);
    expect(Array.from(similar.items).filter((i) => i >= 20 && i < 30).length).toBeGreaterThanOrEqual(3);
    // serialise → deserialise gives the same scores and the same trained histories
    const back = deserializeNcf(serializeNcf(model));
    const s1 = model.scoreAll(model.userState(5), new Float32Array(40));
    const s2 = back.scoreAll(back.userState(5), new Float32Array(40));
    expect(s2).toEqual(s1);
    expect(back.trainedHistory(5)).toEqual(model.trainedHistory(5));
    expect(back.config).toEqual(model.config);
  });

  it('refuses bad input with the field named', async () => {
    expect(() => resolveNcfConfig({ layers: [7, 4] })).toThrow(/config\.layers/);
    expect(() => resolveNcfConfig({ negatives: 0 })).toThrow(/config\.negatives/);
    expect(() => resolveNcfConfig({ alpha: 2 })).toThrow(/config\.alpha/);
    expect(() => resolveNcfConfig({ kind: 'svd' as 'gmf' })).toThrow(/config\.kind/);
    const empty = {
      length: 0,
      users: new Int32Array(0),
      items: new Int32Array(0),
      ratings: new Float32Array(0),
      timestamps: new Int32Array(0),
    };
    await expect(trainNcf({ ratings: empty })).rejects.toThrow(/no interactions/);
    await expect(trainNcf({ ratings: data }, { positiveThreshold: 6 })).rejects.toThrow(/positiveThreshold/);
  });
});
