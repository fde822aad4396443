import { allocParams, type MFParams } from '../src/index.ts';

/** Small deterministic PRNG (mulberry32) for test fixtures. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomParams(numUsers: number, numItems: number, factors: number, seed = 1): MFParams {
  const r = rng(seed);
  const p = allocParams(numUsers, numItems, factors, 3.5);
  for (const a of [p.userBias, p.itemBias, p.userFactors, p.itemFactors]) {
    for (let j = 0; j < a.length; j++) a[j] = r() * 2 - 1;
  }
  return p;
}
