import os from 'node:os';
import type { Metrics } from '@movierec/core';
import type { Dataset } from '@movierec/data';
import {
  type AnyRankingConfig,
  evaluateRanking,
  popularityModel,
  type RankingReport,
  rankingSplit,
  relevantThresholdFor,
  type TrainedRankingModel,
} from '@movierec/trainer';
import type { CliDb } from '../db.ts';
import { type Context, intFlag, numberFlag, type Values } from '../framework/command.ts';
import { UsageError } from '../framework/errors.ts';
import {
  describeRanking,
  type RankingChoice,
  rankingChoice,
  rankingMetricNames,
  rankingTable,
  trainRankingModel,
} from '../ranking.ts';

export interface RankingRun {
  model: TrainedRankingModel;
  config: AnyRankingConfig;
  /** The preset name or file. */
  source: string;
  dataset: Dataset;
  /** Seconds to fit the saved model (on every interaction). */
  seconds: number;
  /** Temporal-protocol figures of the same configuration fitted on the training part (absent with --validation 0). */
  evaluation?: { model: RankingReport; popularity: RankingReport; heldOut: number };
}

/**
 * The flags of a ranking training, checked (train calls it before reading any data): the --preset configuration,
 * whether to evaluate (--validation other than 0) and --threads (≥ 1, default every core: iALS and EASE use them).
 * Rating-model flags are usage errors.
 */
export function rankingFlags(
  ctx: Context,
  values: Values,
  rejected: readonly string[] = [
    'engine',
    'epochs',
    'batch-size',
    'learning-rate',
    'factors',
    'l2',
    'patience',
  ],
): { choice: RankingChoice; evaluate: boolean; threads: number } {
  for (const flag of rejected)
    if (values[flag] !== undefined)
      throw new UsageError(
        `--${flag} applies to --task rating; a ranking model's settings come from --preset`,
      );
  const choice = rankingChoice(ctx, values);
  const ratio = numberFlag(values, 'validation', { min: 0, max: 0.9 });
  const threads = intFlag(values, 'threads', 1) ?? os.availableParallelism();
  return { choice, evaluate: ratio !== 0, threads };
}

/**
 * `train --task ranking` and the main job's recommendation model: the configuration of --preset, scored first by the
 * temporal protocol (fitted on each user's earlier 80%, ranked against their latest 20%) unless --validation 0, then
 * fitted on every interaction for serving; prints the evaluation table.
 */
export async function runRankingTraining(
  ctx: Context,
  dataset: Dataset,
  values: Values,
): Promise<RankingRun> {
  const { choice, evaluate, threads } = rankingFlags(ctx, values);
  ctx.log(`ranking model ${describeRanking(choice.config)} (preset ${choice.source}) on ${dataset.name}`);
  let evaluation: RankingRun['evaluation'];
  if (evaluate) {
    const split = rankingSplit(dataset.ratings, 'temporal');
    const trainSet = { ...dataset, ratings: split.train };
    const { model } = await trainRankingModel(
      ctx,
      trainSet,
      choice.config,
      `train ${choice.config.family} (holdout)`,
      { threads },
    );
    // watch history: every held-out interaction is relevant (its values are weights, not ratings)
    const options = {
      protocol: 'temporal' as const,
      dataName: dataset.name,
      relevantThreshold: relevantThresholdFor(dataset),
    };
    evaluation = {
      model: evaluateRanking(model, split.train, split.test, options),
      popularity: evaluateRanking(popularityModel(trainSet), split.train, split.test, options),
      heldOut: split.test.length,
    };
  }
  const { model, seconds } = await trainRankingModel(
    ctx,
    dataset,
    choice.config,
    `train ${choice.config.family}`,
    { threads },
  );
  const run: RankingRun = {
    model,
    config: choice.config,
    source: choice.source,
    dataset,
    seconds,
    ...(evaluation ? { evaluation } : {}),
  };
  printRankingEvaluation(ctx, run);
  return run;
}

function printRankingEvaluation(ctx: Context, run: RankingRun): void {
  const e = run.evaluation;
  if (!e) return;
  ctx.print('');
  ctx.print(
    `Ranking on each user's latest 20% (${e.heldOut} held-out interactions; relevant = ${
      relevantThresholdFor(run.dataset) === null ? 'every held-out interaction (watch history)' : 'rating ≥ 4'
    }; full catalogue):`,
  );
  ctx.print(
    rankingTable([
      { name: `${run.config.family} (${run.source})`, r: e.model },
      { name: 'baseline: popularity', r: e.popularity },
    ]),
  );
}

/**
 * The metrics a ranking model version stores (core's Metrics): its temporal-protocol figures and the popularity
 * baseline's on the same split, which `models list`, GraphQL `ModelMetrics` and the web page show side by side.
 * Non-finite figures are left out.
 */
function rankingVersionMetrics(run: RankingRun): Metrics {
  const e = run.evaluation;
  if (!e) return {};
  const m = e.model;
  const all: Metrics = {
    precisionAt10: m.precision,
    recallAt10: m.recall,
    ndcgAt10: m.ndcg,
    mapAt10: m.map,
    hitRateAt10: m.hitRate,
    coverageAt10: m.coverage,
    novelty: m.novelty,
    popularityNdcgAt10: e.popularity.ndcg,
    popularityRecallAt10: e.popularity.recall,
    popularityCoverageAt10: e.popularity.coverage,
    heldOutInteractions: e.heldOut,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => Number.isFinite(v))) as Metrics;
}

/** Saves the run's model as a model version of task 'ranking' with its rankingVersionMetrics; its id. */
export function saveRankingVersion(
  db: CliDb,
  run: RankingRun,
  datasetFingerprint: string,
  activate: boolean,
) {
  return db.store.saveModel(db.raw, run.model, {
    datasetFingerprint,
    metrics: rankingVersionMetrics(run),
    task: 'ranking',
    activate,
  });
}

export function rankingTrainJson(run: RankingRun) {
  return {
    task: 'ranking',
    dataset: run.dataset.name,
    family: run.config.family,
    preset: run.source,
    config: run.config,
    interactions: run.dataset.ratings.length,
    seconds: run.seconds,
    ...(run.evaluation
      ? {
          ...rankingMetricNames(run.evaluation.model),
          heldOut: run.evaluation.heldOut,
          baselines: { popularity: rankingMetricNames(run.evaluation.popularity) },
        }
      : {}),
  };
}
