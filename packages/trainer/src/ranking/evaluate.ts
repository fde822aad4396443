import { buildRatedIndex, type Recommender, ratedItems, topK, type UserState } from '@movierec/core';
import { type RatingColumns, Rng, type Split, userHoldout } from '@movierec/data';
import { type RankingMetrics, rankUser } from '../metrics.ts';

/**
 * Ranking evaluation protocols:
 * - 'temporal': each user's most recent 20% of interactions held out (by timestamp; users keep ≥ 1 in training);
 *   relevant = held-out rating ≥ `relevantThreshold` (default 4), or every held-out interaction for data without
 *   ratings (`relevantThreshold: null`); the whole catalogue ranked minus the user's training movies;
 * - 'loo-sampled': the NCF paper's leave-one-out (He et al., "Neural Collaborative Filtering", WWW 2017, §4.1): each
 *   user's latest interaction held out (whatever its rating, as the paper turns every rating into an interaction)
 *   and ranked among 100 sampled items the user never interacted with; HR@10 and NDCG@10;
 * - 'loo-full': the same held-out item ranked against the full catalogue minus the training movies (sampled metrics
 *   can disagree with full ranking: Krichene & Rendle, "On sampled metrics for item recommendation", KDD 2020).
 */
export type RankingProtocol = 'temporal' | 'loo-sampled' | 'loo-full';
export const RANKING_PROTOCOLS: readonly RankingProtocol[] = ['temporal', 'loo-sampled', 'loo-full'];

/** The protocol's per-user holdout of `cols`. */
export function rankingSplit(cols: RatingColumns, protocol: RankingProtocol, fraction = 0.2): Split {
  return protocol === 'temporal'
    ? userHoldout(cols, { strategy: 'recent', fraction })
    : userHoldout(cols, { strategy: 'recent', k: 1 });
}

export interface RankingEvalOptions {
  protocol: RankingProtocol;
  /** Cut-off, default 10. */
  k?: number;
  /**
   * Held-out interactions with a value ≥ this are relevant; null = every held-out interaction. Default: 4 for
   * 'temporal', null for the leave-one-out protocols.
   */
  relevantThreshold?: number | null;
  /** Sampled negatives per user for 'loo-sampled' (default 100) and their seed (default 42). */
  negatives?: number;
  seed?: number;
  /** What the data is called, for the error messages. */
  dataName?: string;
}

/** RankingMetrics of one protocol (coverage is NaN for 'loo-sampled', whose lists come from sampled candidates). */
export interface RankingReport extends RankingMetrics {
  protocol: RankingProtocol;
  /** Mean self-information of recommended items, −log2(pop_i/|U|) (Zhou et al., PNAS 2010); NaN when sampled. */
  novelty: number;
  /** Users whose lists came from the popularity fallback. */
  fallbackUsers: number;
}

/** A clear error: no user has a relevant held-out item, so ranking metrics would be 0/0. */
export class NoRelevantItemsError extends RangeError {
  override readonly name = 'NoRelevantItemsError';
}

/** relevant[u] = held-out items with value ≥ threshold (all when threshold is null). */
export function heldOutRelevant(test: RatingColumns, threshold: number | null): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  for (let r = 0; r < test.length; r++) {
    if (threshold !== null && !(test.ratings[r]! >= threshold)) continue;
    const u = test.users[r]!;
    let s = out.get(u);
    if (!s) out.set(u, (s = new Set()));
    s.add(test.items[r]!);
  }
  return out;
}

/** Evaluates a ranking model on a split made by `rankingSplit`. */
export function evaluateRanking(
  model: Recommender,
  train: RatingColumns,
  test: RatingColumns,
  options: RankingEvalOptions,
): RankingReport {
  const { protocol } = options;
  const k = options.k ?? 10;
  if (!(Number.isInteger(k) && k >= 1))
    throw new RangeError(`evaluateRanking: k must be an integer ≥ 1, got ${k}`);
  const threshold =
    options.relevantThreshold === undefined
      ? protocol === 'temporal'
        ? 4
        : null
      : options.relevantThreshold;
  const relevant = heldOutRelevant(test, threshold);
  if (relevant.size === 0) {
    const what = threshold === null ? 'held-out interaction' : `held-out rating ≥ ${threshold}`;
    throw new NoRelevantItemsError(
      `evaluate --task ranking: no user of ${options.dataName ?? 'the data'} has a relevant held-out item ` +
        `(${test.length} held out by the ${protocol} protocol, none a ${what}); ranking metrics would be 0/0. ` +
        (threshold === null
          ? 'Give users at least two interactions each.'
          : 'Use data with higher ratings, or treat every interaction as relevant (data without ratings).'),
    );
  }
  const numItems = model.numItems;
  const numUsers = Math.max(
    model.numUsers,
    maxPlusOne(train.users, train.length),
    maxPlusOne(test.users, test.length),
  );
  const trained = buildRatedIndex(train, numUsers);
  const heldOut = buildRatedIndex(test, numUsers);
  // popularity over distinct training users, for novelty
  const pop = new Float64Array(numItems);
  let activeUsers = 0;
  for (let u = 0; u < numUsers; u++) {
    const items = ratedItems(trained, u);
    if (items.length > 0) activeUsers++;
    for (const i of items) if (i < numItems) pop[i]!++;
  }
  const users = [...relevant.keys()].sort((a, b) => a - b);
  const scores = new Float32Array(numItems);
  const recommended = new Uint8Array(numItems);
  const rng = new Rng(options.seed ?? 42);
  const negatives = options.negatives ?? 100;
  const sum = { precision: 0, recall: 0, ndcg: 0, map: 0, hits: 0, novelty: 0 };
  let fallbackUsers = 0;
  const empty = { items: new Int32Array(0), values: new Float32Array(0) };
  for (const u of users) {
    const rel = relevant.get(u)!;
    const state: UserState = u < model.numUsers ? model.userState(u) : model.foldIn(empty);
    if (state.fallback) fallbackUsers++;
    model.scoreAll(state, scores);
    const exclude = ratedItems(trained, u);
    let list: Int32Array;
    if (protocol === 'loo-sampled') {
      // the held-out item(s) among `negatives` items the user never touched (rank pessimistic on ties)
      const seen = new Set<number>([...exclude, ...ratedItems(heldOut, u)]);
      const pool: number[] = [];
      const chosen = new Set<number>();
      const want = Math.min(negatives, numItems - seen.size);
      while (pool.length < want) {
        const j = rng.int(numItems);
        if (!seen.has(j) && !chosen.has(j)) {
          chosen.add(j);
          pool.push(j);
        }
      }
      const candidates = [...rel, ...pool];
      candidates.sort(
        (a, b) => scores[b]! - scores[a]! || (rel.has(a) ? 1 : 0) - (rel.has(b) ? 1 : 0) || a - b,
      );
      list = Int32Array.from(candidates.slice(0, k));
    } else {
      list = topK(scores, { k, exclude }).items;
      for (const i of list) recommended[i] = 1;
      let nov = 0;
      for (const i of list) nov += -Math.log2(Math.max(pop[i]!, 1) / Math.max(activeUsers, 1));
      sum.novelty += list.length > 0 ? nov / list.length : 0;
    }
    const r = rankUser(list, rel, k);
    sum.precision += r.precision;
    sum.recall += r.recall;
    sum.ndcg += r.ndcg;
    sum.map += r.ap;
    if (r.hits > 0) sum.hits++;
  }
  const n = users.length;
  let distinct = 0;
  for (let i = 0; i < numItems; i++) distinct += recommended[i]!;
  const sampled = protocol === 'loo-sampled';
  const result: RankingReport = {
    protocol,
    k,
    users: n,
    precision: sum.precision / n,
    recall: sum.recall / n,
    ndcg: sum.ndcg / n,
    map: sum.map / n,
    hitRate: sum.hits / n,
    coverage: sampled ? Number.NaN : distinct / numItems,
    novelty: sampled ? Number.NaN : sum.novelty / n,
    fallbackUsers,
  };
  return result;
}

function maxPlusOne(a: Int32Array, n: number): number {
  let m = 0;
  for (let j = 0; j < n; j++) if (a[j]! >= m) m = a[j]! + 1;
  return m;
}
