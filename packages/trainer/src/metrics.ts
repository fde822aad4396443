/**
 * Accuracy and ranking metrics as the field defines them (Herlocker et al. 2004; Järvelin & Kekäläinen 2002 for
 * NDCG; Manning et al., Introduction to IR, ch. 8 for MAP).
 */

/** RMSE = √(Σ(ŷ − y)² / n). */
export function rmse(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkLengths('rmse', predicted, actual);
  let s = 0;
  for (let j = 0; j < actual.length; j++) {
    const e = predicted[j]! - actual[j]!;
    s += e * e;
  }
  return Math.sqrt(s / actual.length);
}

/** MAE = Σ|ŷ − y| / n. */
export function mae(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkLengths('mae', predicted, actual);
  let s = 0;
  for (let j = 0; j < actual.length; j++) s += Math.abs(predicted[j]! - actual[j]!);
  return s / actual.length;
}

function checkLengths(name: string, predicted: ArrayLike<number>, actual: ArrayLike<number>): void {
  if (predicted.length !== actual.length)
    throw new RangeError(`${name}: ${predicted.length} predictions for ${actual.length} ratings`);
  if (actual.length === 0) throw new RangeError(`${name}: no ratings to score`);
}

/** Ranking quality of one user's top-k list against their relevant held-out items. */
export interface UserRanking {
  hits: number;
  /** Precision@k = hits / k. */
  precision: number;
  /** Recall@k = hits / |relevant|. */
  recall: number;
  /** NDCG@k with binary gains: DCG = Σ_{hit at rank j (0-based)} 1/log2(j+2), IDCG the same for min(k, |relevant|) hits at the top. */
  ndcg: number;
  /** AP@k = (1/min(k, |relevant|)) Σ_{hit at rank j} Precision@(j+1). */
  ap: number;
}

/** Scores one ranked list (item indices, best first) against the relevant set, cut at k. */
export function rankUser(list: ArrayLike<number>, relevant: ReadonlySet<number>, k: number): UserRanking {
  if (!(Number.isInteger(k) && k > 0))
    throw new RangeError(`rankUser: k must be a positive integer, got ${k}`);
  const n = Math.min(k, list.length);
  let hits = 0;
  let dcg = 0;
  let apSum = 0;
  for (let j = 0; j < n; j++) {
    if (relevant.has(list[j]!)) {
      hits++;
      dcg += 1 / Math.log2(j + 2);
      apSum += hits / (j + 1);
    }
  }
  const ideal = Math.min(k, relevant.size);
  let idcg = 0;
  for (let j = 0; j < ideal; j++) idcg += 1 / Math.log2(j + 2);
  return {
    hits,
    precision: hits / k,
    recall: relevant.size > 0 ? hits / relevant.size : 0,
    ndcg: idcg > 0 ? dcg / idcg : 0,
    ap: ideal > 0 ? apSum / ideal : 0,
  };
}

/** Means over evaluated users, plus catalogue coverage. */
export interface RankingMetrics {
  k: number;
  /** Users with at least one relevant held-out rating (the ones averaged over). */
  users: number;
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  /** Share of users with at least one relevant item in their top k. */
  hitRate: number;
  /** Distinct items recommended to any evaluated user / number of items in the catalogue. */
  coverage: number;
}

/**
 * A ranker returns a user's top-k item indices, best first, never including `exclude` (the user's training items,
 * sorted ascending).
 */
export type Ranker = (user: number, exclude: Int32Array, k: number) => ArrayLike<number>;

/** Averages rankUser over users, with the user's training items excluded from candidates. */
export function rankingMetrics(
  ranker: Ranker,
  relevant: Map<number, Set<number>>,
  trainItemsOf: (user: number) => Int32Array,
  numItems: number,
  k: number,
): RankingMetrics {
  let users = 0;
  let precision = 0;
  let recall = 0;
  let ndcg = 0;
  let map = 0;
  let hitUsers = 0;
  const recommended = new Uint8Array(numItems);
  let distinct = 0;
  for (const [user, rel] of relevant) {
    if (rel.size === 0) continue;
    const list = ranker(user, trainItemsOf(user), k);
    const r = rankUser(list, rel, k);
    users++;
    precision += r.precision;
    recall += r.recall;
    ndcg += r.ndcg;
    map += r.ap;
    if (r.hits > 0) hitUsers++;
    for (let j = 0; j < Math.min(k, list.length); j++) {
      const item = list[j]!;
      if (item >= 0 && item < numItems && recommended[item] === 0) {
        recommended[item] = 1;
        distinct++;
      }
    }
  }
  const d = Math.max(users, 1);
  return {
    k,
    users,
    precision: precision / d,
    recall: recall / d,
    ndcg: ndcg / d,
    map: map / d,
    hitRate: hitUsers / d,
    coverage: numItems > 0 ? distinct / numItems : 0,
  };
}
