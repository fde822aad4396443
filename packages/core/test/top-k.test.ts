import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdMap } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import {
  deserializeRecommender,
  loadRecommender,
  MFModel,
  ModelFormatError,
  modelFamily,
  PopularityModel,
  registerModelFamily,
  saveRecommender,
  serializeRecommender,
  topK,
} from '../src/index.ts';
import { randomParams, rng } from './helpers.ts';

describe('topK (the one top-k of core)', () => {
  const r = rng(5);
  const scores = Float32Array.from({ length: 1000 }, () => Math.round(r() * 50) / 10);

  it('equals a full sort (ties to the lower index), honouring exclude, allowed and an added term', () => {
    const exclude = Int32Array.from([998, 3, 3, 500, -1, 5000]); // unsorted, duplicates, out of range
    const allowed = Uint8Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? 0 : 1));
    const add = Float32Array.from({ length: 1000 }, (_, i) => (i % 11 === 0 ? 0.05 : 0));
    const want = Array.from(scores, (s, i) => ({ i, s: s + add[i]! }))
      .filter(({ i }) => i % 7 !== 0 && ![998, 3, 500].includes(i))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, 25);
    const got = topK(scores, { k: 25, exclude, allowed }, add);
    expect([...got.items]).toEqual(want.map((w) => w.i));
    for (let j = 0; j < 25; j++) expect(got.scores[j]).toBeCloseTo(want[j]!.s, 5);
  });

  it('never returns −∞ or NaN, and returns fewer than k when fewer qualify', () => {
    const s = Float32Array.from([1, Number.NEGATIVE_INFINITY, Number.NaN, 2, Number.NEGATIVE_INFINITY]);
    const got = topK(s, { k: 4 });
    expect([...got.items]).toEqual([3, 0]);
    expect(topK(s, { k: 0 }).items).toHaveLength(0);
  });

  it('rejects a bad k and a mask of the wrong length, saying which', () => {
    expect(() => topK(scores, { k: 2.5 })).toThrow(/k must be a non-negative integer, got 2.5/);
    expect(() => topK(scores, { k: 2, allowed: new Uint8Array(3) })).toThrow(
      /allowed has length 3, expected 1000/,
    );
  });
});

describe('model family registry', () => {
  it('round-trips an MF model through its family by name and by magic, in memory and on disk', async () => {
    const model = new MFModel({ params: randomParams(4, 30, 8, 2) });
    expect(modelFamily('mf').magic).toBe('MRMF');
    const back = deserializeRecommender(serializeRecommender(model), 'test');
    expect(back.family).toBe('mf');
    expect(back.recommend(back.userState(1), { k: 5 })).toEqual(model.recommend(1, { k: 5 }));
    const dir = await mkdtemp(join(tmpdir(), 'movierec-registry-'));
    try {
      await saveRecommender(model, join(dir, 'm.mrmf'));
      expect((await loadRecommender(join(dir, 'm.mrmf'))).numItems).toBe(30);
      await writeFile(join(dir, 'junk'), 'JUNKJUNKJUNK');
      await expect(loadRecommender(join(dir, 'junk'))).rejects.toThrow(
        /junk: not a movierec model \(starts with "JUNK"/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the unknown family and refuses duplicate names and magics', () => {
    expect(() => modelFamily('nope')).toThrow(ModelFormatError);
    expect(() => modelFamily('nope')).toThrow(/unknown model family "nope" \(this build knows mf/);
    const fake = { family: 'mf', magic: 'XXXX', serialize: () => new Uint8Array(), deserialize: () => null! };
    expect(() => registerModelFamily(fake)).toThrow(/registered twice/);
    expect(() => registerModelFamily({ ...fake, family: 'other', magic: 'MRMF' })).toThrow(/already mf's/);
    expect(() => registerModelFamily({ ...fake, family: 'other', magic: 'XY' })).toThrow(/4 ASCII/);
  });
});

describe('PopularityModel (a Recommender that is not a factor model)', () => {
  it('ranks every user by the same scores, honours exclude, and round-trips through the registry', () => {
    const items = IdMap.fromJSON(['10', '20', '30', '40']);
    const model = new PopularityModel({
      scores: Float32Array.from([1, 3, Number.NEGATIVE_INFINITY, 2]),
      items,
    });
    const user = model.foldIn({ items: Int32Array.of(1), values: Float32Array.of(1) });
    expect([...model.recommend(user, { k: 4 }).items]).toEqual([1, 3, 0]);
    expect([...model.recommend(user, { k: 4, exclude: Int32Array.of(1) }).items]).toEqual([3, 0]);
    const back = deserializeRecommender(serializeRecommender(model), 'test') as PopularityModel;
    expect(back).toBeInstanceOf(PopularityModel);
    expect(back.items.ids()).toEqual(['10', '20', '30', '40']);
    expect(back.scores).toEqual(model.scores);
    expect(() => new PopularityModel({ scores: new Float32Array(3), items })).toThrow(
      /expected one per item \(4\)/,
    );
    const bytes = serializeRecommender(model);
    expect(() => deserializeRecommender(bytes.subarray(0, bytes.length - 4), 'cut')).toThrow(
      /cut: holds 12 score bytes, expected 16/,
    );
  });
});
