/**
 * MovieLens-shaped synthetic ratings for the training and serving benches, used until/unless @movierec/data's
 * generateSynthetic is available: item popularity Zipf-like (p_i ∝ 1/(i+10)^0.9), user activity log-normal,
 * ratings = clip(round(3.6 + b_u + b_i + p_u·q_i + noise), 1, 5) from a hidden rank-8 model. Deterministic per seed.
 */
import type { RatingColumns } from '@movierec/data';
import { Random } from '../packages/trainer/src/random.ts';

export interface SyntheticShape {
  numUsers: number;
  numItems: number;
  numRatings: number;
}

export const ML_1M: SyntheticShape = { numUsers: 6040, numItems: 3706, numRatings: 1_000_209 };
export const ML_25M: SyntheticShape = { numUsers: 162_541, numItems: 59_047, numRatings: 25_000_095 };

export function syntheticRatings(shape: SyntheticShape, seed = 42): RatingColumns {
  const { numUsers, numItems, numRatings: n } = shape;
  const random = new Random(seed);
  // cumulative item popularity for inverse-CDF sampling
  const cdf = new Float64Array(numItems);
  let acc = 0;
  for (let i = 0; i < numItems; i++) cdf[i] = acc += 1 / (i + 10) ** 0.9;
  for (let i = 0; i < numItems; i++) cdf[i]! /= acc;
  // user activity weights (log-normal), turned into per-user rating counts summing to n
  const w = new Float64Array(numUsers);
  let ws = 0;
  for (let u = 0; u < numUsers; u++) ws += w[u] = Math.exp(random.normal());
  const users = new Int32Array(n);
  let r = 0;
  for (let u = 0; u < numUsers && r < n; u++) {
    const count = u === numUsers - 1 ? n - r : Math.min(n - r, Math.max(1, Math.round((w[u]! / ws) * n)));
    users.fill(u, r, r + count);
    r += count;
  }
  for (; r < n; r++) users[r] = random.int(numUsers);
  const rank = 8;
  const bu = Float32Array.from({ length: numUsers }, () => random.normal() * 0.4);
  const bi = Float32Array.from({ length: numItems }, () => random.normal() * 0.5);
  const pu = Float32Array.from({ length: numUsers * rank }, () => random.normal() * 0.3);
  const qi = Float32Array.from({ length: numItems * rank }, () => random.normal() * 0.3);
  const items = new Int32Array(n);
  const ratings = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const x = random.next();
    let lo = 0;
    let hi = numItems - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    const u = users[j]!;
    items[j] = lo;
    let dot = 0;
    for (let f = 0; f < rank; f++) dot += pu[u * rank + f]! * qi[lo * rank + f]!;
    const y = 3.6 + bu[u]! + bi[lo]! + dot + random.normal() * 0.7;
    ratings[j] = Math.min(5, Math.max(1, Math.round(y)));
  }
  // shuffle rows so the data is not grouped by user
  const perm = random.permutation(n);
  const su = new Int32Array(n);
  const si = new Int32Array(n);
  const sr = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const p = perm[j]!;
    su[j] = users[p]!;
    si[j] = items[p]!;
    sr[j] = ratings[p]!;
  }
  return { length: n, users: su, items: si, ratings: sr, timestamps: new Int32Array(n) };
}
