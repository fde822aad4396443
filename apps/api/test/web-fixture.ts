/**
 * The small model the web test serves, made the way the project makes models (the trainer's `train` and `evaluate`):
 * biased MF by SGD (16 factors, 8 epochs, seed 7, the trainer's TUNED_SGD step sizes and regularisation; not a preset,
 * so changes to the presets' choice of model do not change this test),
 * on the bundled data with a 10 % random holdout as validation, so the stored training run has a loss and a
 * validation RMSE per epoch for the page's chart, and the holdout evaluation (RMSE, MAE, Precision/Recall/NDCG@10)
 * as the version's metrics.
 */
import type { Metrics, RankingModel } from '@movierec/core';
import { type Dataset, randomSplit } from '@movierec/data';
import type { SaveModelVersionInput } from '@movierec/db';
import {
  evaluate,
  evaluateRanking,
  fitRanking,
  popularityModel,
  RANKING_PRESETS,
  type RankingConfig,
  rankingSplit,
  TUNED_SGD,
  train,
} from '@movierec/trainer';

export async function trainSmallModel(dataset: Dataset): Promise<Omit<SaveModelVersionInput, 'activate'>> {
  const split = randomSplit(dataset.ratings, { testRatio: 0.1, seed: 7 });
  const { model, log } = await train(
    { ...dataset, ratings: split.train },
    {
      preset: 'reference',
      config: {
        optimizer: 'sgd',
        factors: 16,
        epochs: 8,
        ...TUNED_SGD,
        seed: 7,
      },
      validation: { ratings: split.test },
    },
  );
  const evaluation = evaluate(model, split.test, split.train);
  const ranking = evaluation.ranking;
  return {
    params: model.params,
    users: model.users,
    items: model.items,
    engine: log.engine,
    config: { ...model.config },
    metrics: {
      rmse: evaluation.rmse,
      mae: evaluation.mae,
      ...(ranking
        ? { precisionAt10: ranking.precision, recallAt10: ranking.recall, ndcgAt10: ranking.ndcg }
        : {}),
    },
    trainingLog: log,
    datasetFingerprint: `${dataset.name}:${dataset.ratings.length}`,
  };
}

/**
 * The recommendation model the web test serves beside the rating model, made as `movierec train --task ranking`
 * makes it: the `default` ranking preset (EASE, recency- and rating-weighted history; kept to the 1,000 most-rated
 * movies here so the fit stays quick), scored by the temporal protocol next to popularity, then fitted on every
 * rating. Its metrics are what the page must show beside popularity's.
 */
export function trainSmallRankingModel(dataset: Dataset): { model: RankingModel; metrics: Metrics } {
  const config = { ...RANKING_PRESETS.default, maxItems: 1000 } as RankingConfig;
  const split = rankingSplit(dataset.ratings, 'temporal');
  const trainSet = { ...dataset, ratings: split.train };
  const options = { protocol: 'temporal' as const, dataName: dataset.name };
  const own = evaluateRanking(fitRanking(trainSet, config), split.train, split.test, options);
  const popularity = evaluateRanking(popularityModel(trainSet), split.train, split.test, options);
  return {
    model: fitRanking(dataset, config),
    metrics: {
      ndcgAt10: own.ndcg,
      recallAt10: own.recall,
      coverageAt10: own.coverage,
      popularityNdcgAt10: popularity.ndcg,
      popularityRecallAt10: popularity.recall,
      popularityCoverageAt10: popularity.coverage,
      heldOutInteractions: split.test.length,
    },
  };
}
