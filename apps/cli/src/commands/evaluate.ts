import { type Dataset, kFold, type RatingColumns, randomSplit } from '@movierec/data';
import { evaluate, flattenEvaluation, train } from '@movierec/trainer';
import { withDb } from '../db.ts';
import { type Command, intFlag, numberFlag, yieldToEventLoop } from '../framework/command.ts';
import { UsageError } from '../framework/errors.ts';
import { INTERACTIONS_OPTION, loadRankingData, TASK_OPTION, taskFlag } from '../ranking.ts';
import { DATASET_OPTIONS, datasetOptions, loadRatings } from '../sources.ts';
import { TRAINING_OPTIONS, threadsWarning, trainingChoice } from '../training.ts';
import { evaluateRankingTask } from './evaluate-ranking.ts';
import { evaluationTable } from './train.ts';

/** Flattened evaluation keys (trainer's flattenEvaluation) → the names printed and emitted. */
function rename(flat: Record<string, number>, prefix: string, k: number): Record<string, number> {
  const out: Record<string, number> = {};
  const base = prefix ? `${prefix}.` : '';
  const take = (from: string, to: string) => {
    const v = flat[`${base}${from}`];
    if (v !== undefined) out[to] = v;
  };
  take('rmse', 'rmse');
  take('mae', 'mae');
  for (const m of ['precision', 'recall', 'ndcg', 'map', 'hitRate', 'coverage'])
    take(`ranking.${m}`, `${m}@${k}`);
  return out;
}

function split(flat: Record<string, number>, k: number) {
  return {
    model: rename(flat, '', k),
    baselines: {
      globalMean: rename(flat, 'baselines.globalMean', k),
      biases: rename(flat, 'baselines.biases', k),
      popularity: rename(flat, 'baselines.popularity', k),
    },
    coldRows: flat.coldRows ?? 0,
  };
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'k-fold or holdout evaluation: RMSE, MAE, Precision/Recall/NDCG@k, next to the baselines',
  details:
    'Each fold trains a fresh model on the other folds and scores its held-out ratings. Ranking metrics: per user, ' +
    "the user's training movies excluded, relevant = held-out rating ≥ 4. Baselines (global mean; regularised " +
    'user+movie biases; popularity) are fitted on the same training ratings. With --json the mean metrics are at the ' +
    "top level ('rmse', 'mae', 'precision@10', …), beside 'std', 'folds' and 'baselines'. " +
    "--task ranking evaluates a top-N model (--preset default|ease|item-knn|ials|bpr|gmf|mlp|neumf or a file from 'movierec tune') " +
    'next to popularity and item-kNN by --protocol: temporal (each user’s latest 20%, relevant = held-out rating ≥ 4 ' +
    'or every held-out interaction without ratings, full catalogue minus training movies), loo-sampled (the NCF ' +
    "paper's latest-one-out vs 100 sampled negatives) or loo-full (the same against the full catalogue).",
  args: [
    { name: 'path|name', description: 'ratings file/folder/archive or dataset name (default: bundled)' },
  ],
  options: {
    folds: { type: 'string', valueName: 'k', description: 'k-fold cross-validation', defaultText: '5' },
    holdout: {
      type: 'string',
      valueName: 'ratio',
      description: 'one random holdout of this share instead of folds',
    },
    k: { type: 'string', valueName: 'n', description: 'cut-off of the ranking metrics', defaultText: '10' },
    'from-db': {
      type: 'boolean',
      description: 'evaluate on the ratings stored in the database (--task ranking: and the views)',
    },
    ...TASK_OPTION,
    ...INTERACTIONS_OPTION,
    protocol: {
      type: 'string',
      valueName: 'temporal|loo-sampled|loo-full',
      description: 'ranking protocol (--task ranking)',
      defaultText: 'temporal',
    },
    ...TRAINING_OPTIONS,
    ...DATASET_OPTIONS,
  },
  examples: [
    'movierec evaluate --folds 5',
    'movierec evaluate --holdout 0.2 --preset reference --json',
    'movierec evaluate ml-1m --folds 3 --engine als',
    'movierec evaluate --task ranking --protocol temporal',
    'movierec evaluate --task ranking --protocol loo-sampled --preset ials --json',
  ],
  async run(ctx, input) {
    const { values } = input;
    if (taskFlag(values) === 'ranking') {
      datasetOptions(values);
      return evaluateRankingTask(ctx, input, await loadRankingData(ctx, input));
    }
    if (values.interactions !== undefined)
      throw new UsageError('--interactions applies to --task ranking (the rating model trains on ratings)');
    if (values.protocol !== undefined) throw new UsageError('--protocol applies to --task ranking');
    if (values.folds !== undefined && values.holdout !== undefined) {
      throw new UsageError('give either --folds or --holdout, not both');
    }
    const holdout = numberFlag(values, 'holdout', { min: 0, max: 0.9, exclusiveMin: true });
    const folds = holdout === undefined ? (intFlag(values, 'folds', 2) ?? 5) : 1;
    const k = intFlag(values, 'k', 1) ?? 10;
    const choice = trainingChoice(values);
    datasetOptions(values);
    const warning = threadsWarning(choice.threads);
    if (warning) ctx.log(warning);
    const fromDb = values['from-db'] === true;
    if (fromDb && input.args['path|name'] !== undefined)
      throw new UsageError('give either a dataset or --from-db');
    const dataset: Dataset = fromDb
      ? await withDb(ctx, (db) => db.readRatings())
      : await loadRatings(ctx, input.args['path|name'], input.values);
    const method = holdout === undefined ? `${folds}-fold cross-validation` : `holdout of ${holdout}`;
    ctx.log(
      `evaluating ${choice.engineName} (preset ${choice.preset}, ${choice.config.factors} factors, ` +
        `${choice.config.epochs} epochs) on ${dataset.name}: ${method}`,
    );
    // The folds of trainer's crossValidate (data's kFold, same seed), run here so each epoch lets a Ctrl-C in and
    // the bar counts epochs across folds.
    const epochs = choice.config.epochs;
    const bar = ctx.progress('evaluate', 'epochs');
    const perFold: Record<string, number>[] = [];
    const engineOpt = choice.engine ? { engine: choice.engine } : {};
    const cols = dataset.ratings;
    const runs: { train: RatingColumns; test: RatingColumns }[] =
      holdout === undefined
        ? kFold(cols, { k: folds, seed: choice.config.seed })
        : [randomSplit(cols, { testRatio: holdout, seed: choice.config.seed })];
    try {
      bar.update({ done: 0, total: folds * epochs });
      for (const [f, run] of runs.entries()) {
        const { model } = await train(
          { ...dataset, ratings: run.train },
          {
            preset: choice.preset,
            config: choice.overrides,
            ...engineOpt,
            threads: choice.threads,
            signal: ctx.signal,
            ...(f === 0 ? { onNote: (line: string) => bar.interrupt(() => ctx.log(line)) } : {}),
            onEpoch: async (e) => {
              bar.update({ done: f * epochs + e.epoch, total: folds * epochs });
              await yieldToEventLoop();
            },
          },
        );
        const metrics = flattenEvaluation(evaluate(model, run.test, run.train, { k }));
        perFold.push(metrics);
        if (runs.length > 1) {
          bar.interrupt(() =>
            ctx.print(
              `fold ${f + 1}/${folds}: RMSE ${metrics.rmse?.toFixed(4)}  MAE ${metrics.mae?.toFixed(4)}` +
                `  NDCG@${k} ${metrics['ranking.ndcg']?.toFixed(4) ?? '—'}`,
            ),
          );
        }
        bar.update({ done: (f + 1) * epochs, total: folds * epochs });
        await yieldToEventLoop();
        ctx.signal.throwIfAborted();
      }
      bar.finish();
    } catch (error) {
      bar.abort();
      throw error;
    }

    const parts = perFold.map((flat) => split(flat, k));
    const mean = (pick: (p: ReturnType<typeof split>) => Record<string, number>) => {
      const out: Record<string, number> = {};
      for (const key of Object.keys(pick(parts[0]!))) {
        out[key] = parts.reduce((a, p) => a + (pick(p)[key] ?? Number.NaN), 0) / parts.length;
      }
      return out;
    };
    const model = mean((p) => p.model);
    const std: Record<string, number> = {};
    for (const key of Object.keys(model)) {
      // Population standard deviation over folds, as Surprise's cross_validate reports it.
      const m = model[key]!;
      std[key] = Math.sqrt(
        parts.reduce((a, p) => a + ((p.model[key] ?? Number.NaN) - m) ** 2, 0) / parts.length,
      );
    }
    const baselines = {
      globalMean: mean((p) => p.baselines.globalMean),
      biases: mean((p) => p.baselines.biases),
      popularity: mean((p) => p.baselines.popularity),
    };
    ctx.print('');
    ctx.print(`${dataset.name}, ${method}${parts.length > 1 ? ' (mean over folds)' : ''}:`);
    ctx.print(
      evaluationTable(
        [
          { name: `MF (${choice.engineName}, ${choice.preset})`, m: model },
          { name: 'baseline: user+movie biases', m: baselines.biases },
          { name: 'baseline: global mean', m: baselines.globalMean },
          { name: 'baseline: popularity', m: baselines.popularity },
        ],
        k,
      ),
    );
    if (parts.length > 1)
      ctx.print(`std over folds: RMSE ${std.rmse?.toFixed(4)}, MAE ${std.mae?.toFixed(4)}`);
    return {
      ...model,
      std,
      folds: parts.map((p, i) => ({ fold: i + 1, ...p.model, coldRows: p.coldRows })),
      baselines,
      k,
      method: holdout === undefined ? { folds } : { holdout },
      dataset: dataset.name,
      ratings: dataset.ratings.length,
      engine: choice.engineName,
      preset: choice.preset,
      config: choice.config,
    };
  },
};
