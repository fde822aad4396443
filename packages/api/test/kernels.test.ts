/** The serving hot loops against plain reference computations. */
import { allocParams, MFModel } from '@movierec/core';
import { describe, expect, it } from 'vitest';
import { cosine, normalizeRows, scoreAllItems, topK } from '../src/serving/kernels.ts';

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff; // LCG in [0, 1)
    return s / 0x7fffffff;
  };
}

describe('serving kernels', () => {
  it('scoreAllItems equals MFModel.predict for every item', () => {
    const rand = seeded(1);
    const p = allocParams(3, 50, 6, 3.5);
    for (const a of [p.userBias, p.itemBias, p.userFactors, p.itemFactors])
      for (let j = 0; j < a.length; j++) a[j] = rand() - 0.5;
    const model = new MFModel({ params: p });
    const out = scoreAllItems(p, p.userBias[1]!, p.userFactors.subarray(6, 12), new Float32Array(50));
    for (let i = 0; i < 50; i++) expect(out[i]).toBeCloseTo(model.predict(1, i), 5);
  });

  it('topK returns the k best allowed, non-excluded items, best first, as a full sort would', () => {
    const rand = seeded(2);
    const scores = Float32Array.from({ length: 1000 }, () => rand());
    const allowed = Uint8Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const excluded = new Uint8Array(1000);
    for (let i = 0; i < 1000; i += 7) excluded[i] = 1;
    const top = topK(scores, 25, allowed, excluded);
    const expected = [...scores.keys()]
      .filter((i) => allowed[i] === 1 && excluded[i] === 0)
      .sort((a, b) => scores[b]! - scores[a]! || a - b)
      .slice(0, 25);
    expect([...top.items]).toEqual(expected);
    expect([...top.scores]).toEqual(expected.map((i) => scores[i]!));
    // fewer candidates than k: all of them
    expect(topK(Float32Array.of(1, 3, 2), 10, null, null).items).toEqual(Int32Array.of(1, 2, 0));
  });

  it('cosine over normalised rows is the cosine similarity', () => {
    const f = Float32Array.of(1, 0, 3, 4, -2, 0, 0, 0);
    const unit = normalizeRows(f, 4, 2);
    expect(cosine(unit, 2, 0, 0)).toBeCloseTo(1, 6);
    expect(cosine(unit, 2, 0, 1)).toBeCloseTo(3 / 5, 6); // (1,0)·(3,4)/(1·5)
    expect(cosine(unit, 2, 0, 2)).toBeCloseTo(-1, 6);
    expect(cosine(unit, 2, 0, 3)).toBe(0); // a zero row stays zero
  });
});
