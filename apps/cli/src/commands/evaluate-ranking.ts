import type { Dataset } from '@movierec/data';
import {
  type AnyRankingConfig,
  evaluateRanking,
  popularityModel,
  RANKING_PRESETS,
  RANKING_PROTOCOLS,
  type RankingProtocol,
  type RankingReport,
  rankingSplit,
} from '@movierec/trainer';
import { type CommandInput, type Context, choiceFlag, intFlag } from '../framework/command.ts';
import { CliError, UsageError } from '../framework/errors.ts';
import {
  describeRanking,
  rankingChoice,
  rankingMetricNames,
  rankingTable,
  trainRankingModel,
} from '../ranking.ts';

/**
 * `evaluate --task ranking`: the chosen ranking model next to popularity and item-kNN on one protocol (trainer's
 * evaluateRanking): 'temporal' (each user's latest 20%, relevant = held-out rating ≥ 4, full catalogue minus the
 * training movies), 'loo-sampled' (the NCF paper's latest-one-out vs 100 sampled negatives), 'loo-full'.
 */
export async function evaluateRankingTask(
  ctx: Context,
  input: CommandInput,
  dataset: Dataset,
): Promise<object> {
  const { values } = input;
  for (const flag of ['folds', 'holdout', 'engine', 'epochs', 'batch-size', 'learning-rate', 'factors', 'l2'])
    if (values[flag] !== undefined)
      throw new UsageError(
        `--${flag} applies to --task rating; a ranking model's settings come from --preset`,
      );
  const protocol: RankingProtocol = choiceFlag(values, 'protocol', RANKING_PROTOCOLS) ?? 'temporal';
  const k = intFlag(values, 'k', 1) ?? 10;
  // worker threads for the families that use them (iALS, EASE); default every core
  const threads = intFlag(values, 'threads', 1);
  const choice = rankingChoice(ctx, values);
  const split = rankingSplit(dataset.ratings, protocol);
  if (split.test.length === 0)
    throw new CliError(
      `evaluate --task ranking: the ${protocol} protocol held out nothing from ${dataset.name} ` +
        '(every user has a single interaction); ranking needs users with at least two',
    );
  const trainSet = { ...dataset, ratings: split.train };
  ctx.log(
    `evaluating ${describeRanking(choice.config)} on ${dataset.name}, protocol ${protocol}: ` +
      `${split.train.length} training, ${split.test.length} held-out interactions`,
  );
  // watch history: every held-out interaction is relevant (its values are weights, not ratings)
  const options = {
    protocol,
    k,
    dataName: dataset.name,
    ...(dataset.kind === 'views' ? { relevantThreshold: null } : {}),
  };
  const rows: { name: string; key: string; r: RankingReport; seconds?: number }[] = [];
  // popularity first: it also raises the no-relevant-item error before any model is fitted
  rows.push({
    name: 'baseline: popularity',
    key: 'popularity',
    r: evaluateRanking(popularityModel(trainSet), split.train, split.test, options),
  });
  const runs: { name: string; key: string; config: AnyRankingConfig }[] = [
    { name: `${choice.config.family} (${choice.source})`, key: 'model', config: choice.config },
  ];
  if (choice.config.family !== 'item-knn')
    runs.push({ name: 'baseline: item-kNN', key: 'itemKnn', config: RANKING_PRESETS['item-knn'] });
  for (const run of runs) {
    const { model, seconds } = await trainRankingModel(
      ctx,
      trainSet,
      run.config,
      `train ${run.config.family}`,
      threads === undefined ? {} : { threads },
    );
    rows.push({
      name: run.name,
      key: run.key,
      r: evaluateRanking(model, split.train, split.test, options),
      seconds,
    });
    ctx.signal.throwIfAborted();
  }
  const model = rows.find((r) => r.key === 'model')!;
  const pop = rows[0]!.r;
  ctx.print('');
  ctx.print(
    `${dataset.name}, protocol ${protocol} (${model.r.users} users with a relevant held-out item${
      protocol === 'loo-sampled' ? ', each ranked among 100 sampled negatives' : ', full catalogue'
    }):`,
  );
  ctx.print(rankingTable([model, ...rows.filter((r) => r !== model)]));
  ctx.print(
    `vs popularity: NDCG@${k} ×${(model.r.ndcg / pop.ndcg).toFixed(2)}, Recall@${k} ×${(model.r.recall / pop.recall).toFixed(2)}` +
      (Number.isFinite(model.r.coverage)
        ? `, coverage ×${(model.r.coverage / pop.coverage).toFixed(2)}`
        : ''),
  );
  const baselines: Record<string, Record<string, number>> = {};
  for (const r of rows) if (r.key !== 'model') baselines[r.key] = rankingMetricNames(r.r);
  return {
    task: 'ranking',
    protocol,
    k,
    dataset: dataset.name,
    interactions: dataset.ratings.length,
    heldOut: split.test.length,
    users: model.r.users,
    model: choice.config,
    preset: choice.source,
    ...rankingMetricNames(model.r),
    trainSeconds: model.seconds,
    fallbackUsers: model.r.fallbackUsers,
    baselines,
  };
}
