import { allocParams, MFModel } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import type { Ranker } from './metrics.ts';

export interface BaselineOptions {
  /** λ_u, default 15 (Surprise's BaselineOnly default). */
  regUser?: number;
  /** λ_i, default 10. */
  regItem?: number;
  /** Alternations, default 10. */
  iterations?: number;
}

/** The global-mean predictor r̂ = μ, as a zero-factor model. */
export function globalMeanModel(train: RatingColumns, numUsers: number, numItems: number): MFModel {
  let s = 0;
  for (let r = 0; r < train.length; r++) s += train.ratings[r]!;
  return new MFModel({
    params: allocParams(numUsers, numItems, 0, s / train.length),
    log: { engine: 'mean', epochs: [] },
  });
}

/**
 * Koren's regularised baseline r̂ = μ + b_u + b_i (Koren 2010, "Factor in the neighbors", §2.1), fitted by
 * alternating closed-form updates as in Surprise's BaselineOnly (ALS):
 *   b_i = Σ_{u∈R(i)} (r_ui − μ − b_u) / (λ_i + |R(i)|),   b_u = Σ_{i∈R(u)} (r_ui − μ − b_i) / (λ_u + |R(u)|).
 * Returned as a zero-factor MFModel, so it predicts and ranks through the same interface.
 */
export function biasBaselineModel(
  train: RatingColumns,
  numUsers: number,
  numItems: number,
  options: BaselineOptions = {},
): MFModel {
  const { regUser = 15, regItem = 10, iterations = 10 } = options;
  const n = train.length;
  let s = 0;
  for (let r = 0; r < n; r++) s += train.ratings[r]!;
  const mu = s / n;
  const params = allocParams(numUsers, numItems, 0, mu);
  const bu = new Float64Array(numUsers);
  const bi = new Float64Array(numItems);
  const userCount = new Float64Array(numUsers);
  const itemCount = new Float64Array(numItems);
  for (let r = 0; r < n; r++) {
    userCount[train.users[r]!]!++;
    itemCount[train.items[r]!]!++;
  }
  const sumU = new Float64Array(numUsers);
  const sumI = new Float64Array(numItems);
  for (let it = 0; it < iterations; it++) {
    sumI.fill(0);
    for (let r = 0; r < n; r++) sumI[train.items[r]!]! += train.ratings[r]! - mu - bu[train.users[r]!]!;
    for (let i = 0; i < numItems; i++) bi[i] = sumI[i]! / (regItem + itemCount[i]!);
    sumU.fill(0);
    for (let r = 0; r < n; r++) sumU[train.users[r]!]! += train.ratings[r]! - mu - bi[train.items[r]!]!;
    for (let u = 0; u < numUsers; u++) bu[u] = sumU[u]! / (regUser + userCount[u]!);
  }
  params.userBias.set(bu);
  params.itemBias.set(bi);
  return new MFModel({
    params,
    log: { engine: 'baseline', epochs: [] },
    config: { regUser, regItem, iterations },
  });
}

/** Items ordered by number of training ratings, most first (ties by index). */
export function popularityOrder(train: RatingColumns, numItems: number): Int32Array {
  const counts = new Int32Array(numItems);
  for (let r = 0; r < train.length; r++) counts[train.items[r]!]!++;
  const order = Int32Array.from({ length: numItems }, (_, j) => j);
  return order.sort((a, b) => counts[b]! - counts[a]! || a - b);
}

/** The popularity ranker: the most-rated items the user has not rated in training. */
export function popularityRanker(order: Int32Array): Ranker {
  return (_user, exclude, k) => {
    const out: number[] = [];
    for (let j = 0; j < order.length && out.length < k; j++) {
      const item = order[j]!;
      if (!sortedHas(exclude, item)) out.push(item);
    }
    return out;
  };
}

function sortedHas(a: Int32Array, x: number): boolean {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = a[mid]!;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
