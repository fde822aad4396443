import { type Metrics, type MFModel, saveRecommender } from '@movierec/core';
import { type Dataset, randomSplit } from '@movierec/data';
import { type EpochProgress, evaluate, evaluationMetrics, train } from '@movierec/trainer';
import { withDb } from '../db.ts';
import {
  type Command,
  type CommandInput,
  type Context,
  intFlag,
  numberFlag,
  stringFlag,
  type Values,
  yieldToEventLoop,
} from '../framework/command.ts';
import { CliError, UsageError } from '../framework/errors.ts';
import { formatCount } from '../framework/progress.ts';
import { table } from '../framework/table.ts';
import { INTERACTIONS_OPTION, loadRankingData, TASK_OPTION, taskFlag } from '../ranking.ts';
import { DATASET_OPTIONS, datasetOptions, loadRatings } from '../sources.ts';
import {
  datasetFingerprint,
  namedMetrics,
  TRAINING_OPTIONS,
  type TrainingChoice,
  threadsWarning,
  trainingChoice,
} from '../training.ts';
import { rankingFlags, rankingTrainJson, runRankingTraining, saveRankingVersion } from './train-ranking.ts';

export const TRAIN_RUN_OPTIONS = {
  ...TRAINING_OPTIONS,
  validation: {
    type: 'string' as const,
    valueName: 'ratio',
    description:
      'share of ratings held out for per-epoch validation RMSE/MAE and the final evaluation (0: none)',
    defaultText: '0.1',
  },
  patience: {
    type: 'string' as const,
    valueName: 'n',
    description: 'stop after n epochs without a better validation RMSE, keeping the best epoch (0: off)',
    defaultText: '0',
  },
};

export interface TrainRun {
  model: MFModel;
  dataset: Dataset;
  choice: TrainingChoice;
  epochs: EpochProgress[];
  /** On the held-out ratings, with baselines (absent with --validation 0). */
  evaluation: ReturnType<typeof evaluate> | undefined;
  metrics: Record<string, number>;
  seconds: number;
  heldOut: number;
}

function epochLine(e: EpochProgress, total: number): string {
  const width = String(total).length;
  const val =
    e.validationRmse !== undefined
      ? `  val RMSE ${e.validationRmse.toFixed(4)}  MAE ${(e.validationMae ?? Number.NaN).toFixed(4)}`
      : '';
  return (
    `epoch ${String(e.epoch).padStart(width)}/${total}  loss ${e.loss.toFixed(4)}${val}` +
    `  (${formatCount(e.ratingsPerSecond)} ratings/s, ${e.seconds.toFixed(1)} s)`
  );
}

/** --validation and --patience, checked (train and main call it before reading any data). */
export function trainRunFlags(values: Values): { ratio: number; patience: number } {
  const ratio = numberFlag(values, 'validation', { min: 0, max: 0.9 }) ?? 0.1;
  const patience = intFlag(values, 'patience', 0) ?? 0;
  if (patience > 0 && ratio === 0)
    throw new UsageError('--patience needs a validation share (--validation > 0)');
  return { ratio, patience };
}

/** The few lines that stand for the per-epoch ones when those are off: epochs, time, last loss and validation. */
function trainingSummary(epochs: readonly EpochProgress[], seconds: number): string {
  const last = epochs.at(-1);
  if (!last) return 'trained: no epoch ran';
  const val =
    last.validationRmse !== undefined
      ? `, validation RMSE ${last.validationRmse.toFixed(4)} MAE ${(last.validationMae ?? Number.NaN).toFixed(4)}`
      : '';
  return `trained ${epochs.length} epochs in ${seconds.toFixed(1)} s: last loss ${last.loss.toFixed(4)}${val}`;
}

/**
 * Training with a bar over epochs and the holdout evaluation, whose table it prints; shared by train and main. `epochLines` (default on):
 * a line per epoch on stdout; off (the main job without --verbose), one summary line after the bar instead.
 */
export async function runTraining(
  ctx: Context,
  dataset: Dataset,
  values: Values,
  { epochLines = true }: { epochLines?: boolean } = {},
): Promise<TrainRun> {
  const choice = trainingChoice(values);
  const { ratio, patience } = trainRunFlags(values);
  const split =
    ratio > 0 ? randomSplit(dataset.ratings, { testRatio: ratio, seed: choice.config.seed }) : undefined;
  const trainSet: Dataset = split ? { ...dataset, ratings: split.train } : dataset;
  const { config } = choice;
  const warning = threadsWarning(choice.threads);
  if (warning) ctx.log(warning);
  ctx.log(
    `training ${choice.engineName} (preset ${choice.preset}): ${config.factors} factors, ${config.epochs} epochs, ` +
      (choice.engineName === 'bpmf'
        ? ''
        : `lr ${config.learningRate}, l2 ${config.l2}, batch ${config.batchSize}, `) +
      `seed ${config.seed}; ` +
      `${trainSet.ratings.length} ratings${split ? `, ${split.test.length} held out` : ''}`,
  );
  const bar = ctx.progress('train', 'epochs');
  const epochs: EpochProgress[] = [];
  const started = performance.now();
  let model: MFModel;
  try {
    bar.update({ done: 0, total: config.epochs });
    ({ model } = await train(trainSet, {
      preset: choice.preset,
      config: choice.overrides,
      ...(choice.engine ? { engine: choice.engine } : {}),
      ...(split ? { validation: { ratings: split.test } } : {}),
      ...(patience > 0 ? { earlyStopping: { patience } } : {}),
      threads: choice.threads,
      signal: ctx.signal,
      onNote: (line) => bar.interrupt(() => ctx.log(line)),
      onEpoch: async (e) => {
        epochs.push(e);
        if (epochLines) bar.interrupt(() => ctx.print(epochLine(e, config.epochs)));
        bar.update({ done: e.epoch, total: config.epochs });
        // Engines check the signal at each epoch; let a Ctrl-C land first.
        await yieldToEventLoop();
      },
    }));
    bar.finish(`${epochs.length} epochs in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  } catch (error) {
    bar.abort();
    throw error;
  }
  if (model.log.stoppedEarly)
    ctx.print(`early stop: kept epoch ${model.log.bestEpoch} (best validation RMSE)`);
  const seconds = (performance.now() - started) / 1000;
  if (!epochLines) ctx.print(trainingSummary(epochs, seconds));
  let evaluation: TrainRun['evaluation'];
  let metrics: Record<string, number> = {};
  if (split) {
    evaluation = evaluate(model, split.test, split.train, { k: 10 });
    metrics = namedMetrics(evaluation);
  }
  const run = {
    model,
    dataset,
    choice,
    epochs,
    evaluation,
    metrics,
    seconds,
    heldOut: split?.test.length ?? 0,
  };
  printHoldoutEvaluation(ctx, run);
  return run;
}

/** The evaluation table: the model next to the baselines fitted on the same training ratings. */
export function evaluationTable(
  rows: { name: string; m: Record<string, number | undefined> }[],
  k = 10,
): string {
  return table(
    ['model', 'RMSE', 'MAE', `P@${k}`, `R@${k}`, `NDCG@${k}`],
    rows.map(({ name, m }) => [
      name,
      ...[m.rmse, m.mae, m[`precision@${k}`], m[`recall@${k}`], m[`ndcg@${k}`]].map((v) =>
        v === undefined || !Number.isFinite(v) ? null : v.toFixed(4),
      ),
    ]),
  );
}

function printHoldoutEvaluation(ctx: Context, run: TrainRun): void {
  const e = run.evaluation;
  if (!e) return;
  const b = e.baselines;
  const rank = (r: typeof e.ranking | undefined) =>
    r ? { 'precision@10': r.precision, 'recall@10': r.recall, 'ndcg@10': r.ndcg } : {};
  ctx.print('');
  ctx.print(`Evaluation on ${run.heldOut} held-out ratings:`);
  ctx.print(
    evaluationTable([
      { name: `MF (${run.choice.engineName})`, m: run.metrics },
      { name: 'baseline: user+movie biases', m: { ...b.biases, ...rank(b.biases.ranking) } },
      { name: 'baseline: global mean', m: { ...b.globalMean } },
      { name: 'baseline: popularity', m: rank(b.popularity?.ranking) },
    ]),
  );
}

/** The metrics a model version stores: core's Metrics, as the trainer spells them (what GraphQL shows). */
export function versionMetrics(run: TrainRun): Metrics {
  return run.evaluation ? evaluationMetrics(run.evaluation, run.heldOut) : {};
}

export function trainJson(run: TrainRun) {
  return {
    dataset: run.dataset.name,
    engine: run.choice.engineName,
    preset: run.choice.preset,
    config: run.choice.config,
    ratings: run.dataset.ratings.length - run.heldOut,
    heldOut: run.heldOut,
    epochs: run.epochs,
    ...(run.model.log.stoppedEarly ? { bestEpoch: run.model.log.bestEpoch } : {}),
    seconds: run.seconds,
    ...run.metrics,
    ...(run.evaluation
      ? {
          baselines: {
            globalMean: run.evaluation.baselines.globalMean,
            biases: { rmse: run.evaluation.baselines.biases.rmse, mae: run.evaluation.baselines.biases.mae },
          },
        }
      : {}),
  };
}

/**
 * `train --task ranking`: the --preset configuration, scored by the temporal protocol next to popularity, fitted on
 * every interaction, then saved as a model version with task 'ranking' (its ranking metrics and popularity's beside
 * them; `--activate` makes it the active ranking model, which ranks the API's recommendations) or to `--out`.
 */
async function trainRanking(ctx: Context, input: CommandInput, out: string | undefined) {
  const { values } = input;
  const warning = threadsWarning(rankingFlags(ctx, values).threads);
  // a database that cannot take the version is said before the training, not after
  if (out === undefined && values['from-db'] !== true)
    await withDb(ctx, (db) => db.store.assertMigrated(db.raw));
  // ratings (or watch history; --from-db: ratings and views) as interactions, --interactions applied
  const dataset = await loadRankingData(ctx, input);
  if (warning) ctx.log(warning);
  const run = await runRankingTraining(ctx, dataset, values);
  if (out !== undefined) {
    const path = ctx.resolvePath(out);
    try {
      // any family through core's registry (EASE, item-kNN, iALS, BPR, NCF), as model versions are stored
      await saveRecommender(run.model, path);
    } catch (error) {
      throw new CliError(`cannot write ${path}: ${(error as Error).message}`);
    }
    ctx.print(`\nranking model → ${path}`);
    return { ...rankingTrainJson(run), out: path };
  }
  ctx.signal.throwIfAborted();
  return withDb(ctx, async (db) => {
    await db.store.assertMigrated(db.raw);
    const activate = values.activate === true;
    const id = await saveRankingVersion(db, run, datasetFingerprint(dataset), activate);
    ctx.print(
      `\nsaved ranking model version ${id} in ${db.location}${activate ? ' (active: it ranks recommendations)' : ` — activate it with 'movierec models activate ${id}'`}`,
    );
    return { ...rankingTrainJson(run), modelVersion: id, active: activate };
  });
}

export const trainCommand: Command = {
  name: 'train',
  summary:
    'train a model from a dataset (default: bundled) or --from-db; saves a new model version or --out <file>',
  args: [
    { name: 'path|name', description: 'ratings file/folder/archive or dataset name (default: bundled)' },
  ],
  options: {
    'from-db': {
      type: 'boolean',
      description: 'train on the ratings stored in the database (--task ranking: and the views)',
    },
    out: {
      type: 'string',
      valueName: 'file',
      description: 'write the model to this file instead of the database',
    },
    activate: {
      type: 'boolean',
      description: 'make the new version the active one of its task, rating or ranking (database only)',
    },
    ...TASK_OPTION,
    ...INTERACTIONS_OPTION,
    ...TRAIN_RUN_OPTIONS,
    ...DATASET_OPTIONS,
  },
  examples: [
    'movierec train --epochs 20 --activate',
    'movierec train --preset reference --out reference.mfm',
    'movierec train --from-db --engine als --factors 32 --l2 0.1',
    'movierec train --task ranking --activate',
    'movierec train --task ranking --out ease.mrm',
    'movierec train --task ranking --preset tuned-ease.json --out ease.mrm',
  ],
  async run(ctx, input) {
    const out = stringFlag(input.values, 'out');
    const fromDb = input.values['from-db'] === true;
    if (fromDb && input.args['path|name'] !== undefined) {
      throw new UsageError('give either a dataset or --from-db, not both');
    }
    if (out !== undefined && input.values.activate)
      throw new UsageError('--activate applies to the database, not --out');
    datasetOptions(input.values);
    if (taskFlag(input.values) === 'ranking') return trainRanking(ctx, input, out);
    if (input.values.interactions !== undefined)
      throw new UsageError('--interactions applies to --task ranking (the rating model trains on ratings)');
    // flag errors before any loading
    trainingChoice(input.values);
    trainRunFlags(input.values);
    if (out !== undefined) {
      const dataset = fromDb
        ? await withDb(ctx, (db) => db.readRatings())
        : await loadRatings(ctx, input.args['path|name'], input.values);
      const run = await runTraining(ctx, dataset, input.values);
      const path = ctx.resolvePath(out);
      try {
        await saveRecommender(run.model, path);
      } catch (error) {
        throw new CliError(`cannot write ${path}: ${(error as Error).message}`);
      }
      ctx.print(`\nmodel → ${path}`);
      return { ...trainJson(run), out: path };
    }
    return withDb(ctx, async (db) => {
      await db.store.assertMigrated(db.raw);
      const dataset = fromDb
        ? await db.readRatings()
        : await loadRatings(ctx, input.args['path|name'], input.values);
      const run = await runTraining(ctx, dataset, input.values);
      ctx.signal.throwIfAborted();
      const id = await db.store.saveModel(db.raw, run.model, {
        datasetFingerprint: datasetFingerprint(dataset),
        metrics: versionMetrics(run),
        engine: run.choice.engineName,
        activate: input.values.activate === true,
      });
      ctx.print(
        `\nsaved model version ${id} in ${db.location}${input.values.activate ? ' (active)' : ` — activate it with 'movierec models activate ${id}'`}`,
      );
      return { ...trainJson(run), modelVersion: id, active: input.values.activate === true };
    });
  },
};
