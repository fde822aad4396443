import { buildRatedIndex, type Metrics, type MFModel, ratedItems } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import { biasBaselineModel, globalMeanModel, popularityOrder, popularityRanker } from './baselines.ts';
import { mae, type Ranker, type RankingMetrics, rankingMetrics, rmse } from './metrics.ts';

export interface EvaluateOptions {
  /** Cut-off for the ranking metrics, default 10. */
  k?: number;
  /** A held-out rating ≥ this is relevant, default 4. */
  relevantThreshold?: number;
  /** Clip predictions to [min, max] of the training ratings before RMSE/MAE (as Surprise does); default false. */
  clip?: boolean;
  /** Skip the ranking metrics (they score every item for every test user); default false. */
  skipRanking?: boolean;
  /**
   * When a time-aware model predicts (MFParams.temporal): 'rating' (default) at each test rating's own timestamp
   * (0, no timestamp: at "now"), 'now' at the newest training time for every row (what a deployed model knows).
   */
  at?: 'rating' | 'now';
}

export interface RatingAccuracy {
  rmse: number;
  mae: number;
}

export interface Evaluation extends RatingAccuracy {
  ranking?: RankingMetrics;
  /** Test rows whose user or item lies outside the model (predicted by the fallback μ + known biases). */
  coldRows: number;
  baselines: {
    globalMean: RatingAccuracy;
    biases: RatingAccuracy & { ranking?: RankingMetrics };
    popularity?: { ranking: RankingMetrics };
  };
}

/** Predictions for the test rows; users/items outside the model fall back to μ (+ the bias that is known). */
function predictTest(
  model: MFModel,
  test: RatingColumns,
  clip: [number, number] | undefined,
  at: 'rating' | 'now' = 'rating',
) {
  const timed = at === 'rating' && model.params.temporal !== undefined;
  const out = new Float32Array(test.length);
  let cold = 0;
  const { numUsers, numItems } = model;
  const p = model.params;
  for (let r = 0; r < test.length; r++) {
    const u = test.users[r]!;
    const i = test.items[r]!;
    let y: number;
    if (u >= 0 && u < numUsers && i >= 0 && i < numItems)
      y = model.predict(u, i, timed && test.timestamps[r]! > 0 ? test.timestamps[r]! : undefined);
    else {
      cold++;
      y =
        p.globalMean +
        (u >= 0 && u < numUsers ? p.userBias[u]! : 0) +
        (i >= 0 && i < numItems ? p.itemBias[i]! : 0);
    }
    out[r] = clip ? Math.min(clip[1], Math.max(clip[0], y)) : y;
  }
  return { predictions: out, cold };
}

function accuracy(model: MFModel, test: RatingColumns, clip: [number, number] | undefined): RatingAccuracy {
  const { predictions } = predictTest(model, test, clip);
  const actual = test.ratings.subarray(0, test.length);
  return { rmse: rmse(predictions, actual), mae: mae(predictions, actual) };
}

/** relevant[u] = the user's held-out items rated ≥ threshold. */
export function relevantItems(test: RatingColumns, threshold: number): Map<number, Set<number>> {
  const relevant = new Map<number, Set<number>>();
  for (let r = 0; r < test.length; r++) {
    if (test.ratings[r]! < threshold) continue;
    const u = test.users[r]!;
    let set = relevant.get(u);
    if (!set) relevant.set(u, (set = new Set()));
    set.add(test.items[r]!);
  }
  return relevant;
}

/** A Ranker over a model's top-k (users outside the model get an empty list). */
export function modelRanker(model: MFModel): Ranker {
  return (user, exclude, k) =>
    user >= 0 && user < model.numUsers ? Array.from(model.recommend(user, { k, exclude }).items) : [];
}

/**
 * Evaluates a model on held-out ratings the way the field does: RMSE and MAE on every test rating; ranking metrics
 * per user (Precision/Recall/NDCG/MAP@k, hit rate, coverage) with the user's TRAINING items excluded from the
 * candidates and relevant = held-out rating ≥ 4; beside it, the same for the baselines fitted on `train`
 * (global mean; Koren's regularised user+movie biases; popularity for ranking).
 */
export function evaluate(
  model: MFModel,
  test: RatingColumns,
  train: RatingColumns,
  options: EvaluateOptions = {},
): Evaluation {
  const { k = 10, relevantThreshold = 4, clip = false, skipRanking = false, at = 'rating' } = options;
  if (test.length === 0) throw new RangeError('evaluate: the test set has no ratings');
  if (train.length === 0) throw new RangeError('evaluate: the training set has no ratings');
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < train.length; r++) {
    lo = Math.min(lo, train.ratings[r]!);
    hi = Math.max(hi, train.ratings[r]!);
  }
  const range: [number, number] | undefined = clip ? [lo, hi] : undefined;
  const { numUsers, numItems } = model;
  const { predictions, cold } = predictTest(model, test, range, at);
  const actual = test.ratings.subarray(0, test.length);
  const meanModel = globalMeanModel(train, numUsers, numItems);
  const biasModel = biasBaselineModel(train, numUsers, numItems);
  const result: Evaluation = {
    rmse: rmse(predictions, actual),
    mae: mae(predictions, actual),
    coldRows: cold,
    baselines: {
      globalMean: accuracy(meanModel, test, range),
      biases: accuracy(biasModel, test, range),
    },
  };
  if (!skipRanking) {
    const relevant = relevantItems(test, relevantThreshold);
    const rated = buildRatedIndex(
      train,
      Math.max(numUsers, maxPlusOne(train.users, train.length), maxPlusOne(test.users, test.length)),
    );
    const trainItemsOf = (u: number) => ratedItems(rated, u);
    result.ranking = rankingMetrics(modelRanker(model), relevant, trainItemsOf, numItems, k);
    result.baselines.biases.ranking = rankingMetrics(
      modelRanker(biasModel),
      relevant,
      trainItemsOf,
      numItems,
      k,
    );
    result.baselines.popularity = {
      ranking: rankingMetrics(
        popularityRanker(popularityOrder(train, numItems)),
        relevant,
        trainItemsOf,
        numItems,
        k,
      ),
    };
  }
  return result;
}

function maxPlusOne(a: Int32Array, n: number): number {
  let m = 0;
  for (let j = 0; j < n; j++) if (a[j]! >= m) m = a[j]! + 1;
  return m;
}

/**
 * An evaluation as the one Metrics record (core) that model versions store and GraphQL shows: RMSE, MAE and, when
 * the ranking cut-off is 10, the @10 ranking figures; `heldOutRatings` when given. Non-finite values are left out.
 */
export function evaluationMetrics(e: Evaluation, heldOutRatings?: number): Metrics {
  const m: Metrics = {};
  const put = (name: keyof Metrics, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) m[name] = value;
  };
  put('rmse', e.rmse);
  put('mae', e.mae);
  if (e.ranking?.k === 10) {
    put('precisionAt10', e.ranking.precision);
    put('recallAt10', e.ranking.recall);
    put('ndcgAt10', e.ranking.ndcg);
    put('mapAt10', e.ranking.map);
    put('hitRateAt10', e.ranking.hitRate);
    put('coverageAt10', e.ranking.coverage);
  }
  if (heldOutRatings) put('heldOutRatings', heldOutRatings);
  return m;
}
