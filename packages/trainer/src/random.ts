/**
 * Seeded pseudo-random numbers for the engines: mulberry32 (Tommy Ettinger, public domain), a 32-bit generator
 * that passes gjrand/PractRand at the sizes used here; normals by Box–Muller.
 */
export class Random {
  #state: number;
  #spare = Number.NaN;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform on [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer uniform on [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal, Box–Muller: z = √(−2 ln u₁)·cos(2π u₂) (and the sine as the spare). */
  normal(): number {
    if (!Number.isNaN(this.#spare)) {
      const z = this.#spare;
      this.#spare = Number.NaN;
      return z;
    }
    const u1 = 1 - this.next();
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.#spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher–Yates shuffle in place (Knuth, TAOCP vol. 2, alg. 3.4.2 P). */
  shuffle(a: Int32Array): Int32Array {
    for (let j = a.length - 1; j > 0; j--) {
      const r = this.int(j + 1);
      const t = a[j]!;
      a[j] = a[r]!;
      a[r] = t;
    }
    return a;
  }

  /** A random permutation of 0…n-1. */
  permutation(n: number): Int32Array {
    const a = new Int32Array(n);
    for (let j = 0; j < n; j++) a[j] = j;
    return this.shuffle(a);
  }
}

/** Fills `a` with initial factors per TrainConfig.init: U(−√3σ, √3σ) or N(0, σ²). */
export function fillInitialFactors(
  a: Float32Array,
  random: Random,
  std: number,
  kind: 'uniform' | 'normal' = 'normal',
): void {
  if (kind === 'uniform') {
    const half = Math.sqrt(3) * std;
    for (let j = 0; j < a.length; j++) a[j] = (random.next() * 2 - 1) * half;
  } else {
    for (let j = 0; j < a.length; j++) a[j] = random.normal() * std;
  }
}
