/** A small seeded pseudo-random generator; the same seed gives the same sequence on every machine. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
}

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state, period 2^32, passes gjrand/PractRand to 2^32 outputs.
 * Plenty for shuffles and initial weights; not for cryptography. Seeds are mixed through splitmix32 first so that
 * nearby seeds (1, 2, 3) give unrelated streams.
 */
export function createRng(seed: number): Rng {
  // splitmix32-style scramble of the seed
  let s = Math.trunc(seed) >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35);
  let state = (s ^ (s >>> 16)) >>> 0;
  let spare = Number.NaN;
  const uint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => uint32() / 4294967296;
  return {
    uint32,
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      if (!Number.isNaN(spare)) {
        const z = spare;
        spare = Number.NaN;
        return z;
      }
      // Box–Muller: z0 = √(−2 ln u1)·cos(2π u2), z1 = √(−2 ln u1)·sin(2π u2) (Box & Muller 1958)
      const u1 = 1 - next();
      const u2 = next();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      return r * Math.cos(2 * Math.PI * u2);
    },
  };
}

/** Fisher–Yates shuffle in place (Knuth, TAOCP vol. 2, Algorithm P). */
export function shuffle<T extends { length: number; [i: number]: unknown }>(a: T, rng: Rng): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
