import type { Dataset } from './dataset.ts';
import { IdMap } from './id-map.ts';
import { Rng } from './rng.ts';

export type SyntheticPreset = 'ml-1m' | 'ml-25m';

export interface SyntheticOptions {
  /** Sizes of a MovieLens release; explicit numbers below override it. */
  preset?: SyntheticPreset;
  users?: number;
  items?: number;
  ratings?: number;
  /** Rank of the planted structure (default 10). */
  factors?: number;
  seed?: number;
  /** Standard deviation of the rating noise before rounding (default 0.5). */
  noise?: number;
  /** Ratings every user has at least (default 20, as in MovieLens; lowered when ratings/users is smaller). */
  minPerUser?: number;
  /** Ratings generated so far, about a hundred calls in all. */
  onProgress?: (p: { done: number; total: number }) => void;
}

/** The model that generated the data, for checking that a trainer recovers it. */
export interface PlantedModel {
  globalMean: number;
  userBias: Float32Array;
  itemBias: Float32Array;
  /** users × factors, row-major. */
  userFactors: Float32Array;
  /** items × factors, row-major. */
  itemFactors: Float32Array;
  factors: number;
}

export interface SyntheticDataset extends Dataset {
  readonly planted: PlantedModel;
}

const PRESETS: Record<SyntheticPreset, { users: number; items: number; ratings: number }> = {
  'ml-1m': { users: 6040, items: 3706, ratings: 1_000_209 },
  'ml-25m': { users: 162_541, items: 62_423, ratings: 25_000_095 },
};

/** User activity ∝ rank^−0.5 and item popularity ∝ rank^−0.9 (Zipf-like, as rating counts are in MovieLens). */
const USER_EXPONENT = 0.5;
const ITEM_EXPONENT = 0.9;

/**
 * Ratings with planted low-rank structure: r = μ + b_u + b_i + p_u·q_i + ε (the biased MF model of Koren, Bell &
 * Volinsky 2009, "Matrix Factorization Techniques for Recommender Systems"), rounded to half stars and clipped to
 * 0.5–5. Users and items get Zipf-like activity/popularity; each user rates distinct items (no duplicate pairs); rows
 * come grouped by user with items ascending, as in GroupLens files. External IDs are 1…users and 1…items.
 * Typed arrays only: 25M ratings take ~400 MB of columns.
 */
export function generateSynthetic(options: SyntheticOptions | SyntheticPreset = {}): SyntheticDataset {
  const o = typeof options === 'string' ? { preset: options } : options;
  const base = o.preset ? PRESETS[o.preset] : undefined;
  if (o.preset && !base) throw new RangeError(`unknown preset ${JSON.stringify(o.preset)} (ml-1m, ml-25m)`);
  const U = o.users ?? base?.users ?? 1000;
  const I = o.items ?? base?.items ?? 500;
  const R = o.ratings ?? base?.ratings ?? 20_000;
  const K = o.factors ?? 10;
  const noise = o.noise ?? 0.5;
  const seed = o.seed ?? 42;
  for (const [name, v] of [
    ['users', U],
    ['items', I],
    ['ratings', R],
    ['factors', K],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 1))
      throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  const cap = Math.max(1, Math.floor(I * 0.6)); // nobody rates more than 60% of the catalogue
  if (R > U * cap) throw new RangeError(`${R} ratings do not fit ${U} users × ${cap} distinct items each`);
  const rng = new Rng(seed);

  // Planted model. Factor entries ~ N(0, s²) with s² = 0.6/√K so that p_u·q_i has standard deviation ≈ 0.6.
  const mu = 3.5;
  const s = Math.sqrt(0.6 / Math.sqrt(K));
  const userBias = new Float32Array(U);
  const itemBias = new Float32Array(I);
  const P = new Float32Array(U * K);
  const Q = new Float32Array(I * K);
  for (let u = 0; u < U; u++) userBias[u] = 0.35 * rng.normal();
  for (let i = 0; i < I; i++) itemBias[i] = 0.5 * rng.normal();
  for (let j = 0; j < P.length; j++) P[j] = s * rng.normal();
  for (let j = 0; j < Q.length; j++) Q[j] = s * rng.normal();

  // Ratings per user: a floor, plus the rest split by Zipf weight of a random rank; capped, remainder spread.
  const minPer = Math.min(o.minPerUser ?? 20, Math.floor(R / U), cap);
  const userRank = rng.permutation(U);
  const weights = new Float64Array(U);
  let total = 0;
  for (let u = 0; u < U; u++) total += weights[u] = (userRank[u]! + 1) ** -USER_EXPONENT;
  const counts = new Int32Array(U);
  let assigned = 0;
  const extra = R - minPer * U;
  for (let u = 0; u < U; u++) {
    counts[u] = Math.min(cap, minPer + Math.floor((extra * weights[u]!) / total));
    assigned += counts[u]!;
  }
  while (assigned < R) {
    const u = rng.int(U);
    if (counts[u]! < cap) {
      counts[u]!++;
      assigned++;
    }
  }

  // Item popularity CDF over a random ranking of items.
  const itemRank = rng.permutation(I);
  const cdf = new Float64Array(I);
  let acc = 0;
  for (let i = 0; i < I; i++) cdf[i] = acc += (itemRank[i]! + 1) ** -ITEM_EXPONENT;
  for (let i = 0; i < I; i++) cdf[i]! /= acc;

  const users = new Int32Array(R);
  const items = new Int32Array(R);
  const ratings = new Float32Array(R);
  const timestamps = new Int32Array(R);
  const mark = new Int32Array(I).fill(-1);
  const from = Date.UTC(2000, 0, 1) / 1000;
  const span = Date.UTC(2019, 0, 1) / 1000 - from;
  let row = 0;
  const every = Math.max(1, Math.floor(U / 100));
  for (let u = 0; u < U; u++) {
    if (o.onProgress && u % every === 0) o.onProgress({ done: row, total: R });
    const c = counts[u]!;
    const start = row;
    let picked = 0;
    let attempts = 0;
    while (picked < c && attempts < 8 * c + 1000) {
      attempts++;
      const i = sampleCdf(cdf, rng.uniform());
      if (mark[i] === u) continue;
      mark[i] = u;
      items[row + picked++] = i;
    }
    // a heavy user who has taken most popular items: fill up from a random point of the catalogue
    for (let i = rng.int(I), scanned = 0; picked < c && scanned < I; i = (i + 1) % I, scanned++) {
      if (mark[i] === u) continue;
      mark[i] = u;
      items[row + picked++] = i;
    }
    items.subarray(start, start + c).sort();
    let t = from + rng.int(span);
    for (let j = start; j < start + c; j++) {
      const i = items[j]!;
      users[j] = u;
      let dot = 0;
      for (let f = 0; f < K; f++) dot += P[u * K + f]! * Q[i * K + f]!;
      // r = μ + b_u + b_i + p_u·q_i + ε, then half stars in [0.5, 5]
      const r = mu + userBias[u]! + itemBias[i]! + dot + noise * rng.normal();
      ratings[j] = Math.min(5, Math.max(0.5, Math.round(r * 2) / 2));
      t = Math.min(2147483647, t + 1 + rng.int(3600));
      timestamps[j] = t;
    }
    row += c;
  }
  o.onProgress?.({ done: R, total: R });

  const userIds = new Array<number>(U);
  for (let u = 0; u < U; u++) userIds[u] = u + 1;
  const itemIds = new Array<number>(I);
  for (let i = 0; i < I; i++) itemIds[i] = i + 1;
  return {
    name: `synthetic-${o.preset ?? `${U}x${I}`}-${R}`,
    ratings: { length: R, users, items, ratings, timestamps },
    users: IdMap.fromJSON(userIds),
    items: IdMap.fromJSON(itemIds),
    report: { rowsRead: R, skipped: {}, duplicates: 0 },
    planted: { globalMean: mu, userBias, itemBias, userFactors: P, itemFactors: Q, factors: K },
  };
}

/** Smallest i with cdf[i] > x (binary search). */
function sampleCdf(cdf: Float64Array, x: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
