/**
 * Ranking bench: per-user holdout of each user's most recent 20% of ratings (by timestamp) on the bundled
 * ml-latest-small; train on the rest, rank every movie the user has not rated in training, relevant = held-out
 * rating ≥ 4; Recall@10, NDCG@10 (and precision, MAP, hit rate, coverage) of each model beside the popularity and
 * bias baselines — all through the shipped code path (loadBundled → userHoldout → train → evaluate).
 *
 *   pnpm exec tsx bench/accuracy-ranking.ts [--only default,sgd-64] [--json]
 */
import { parseArgs } from 'node:util';
import { loadBundled, userHoldout } from '../packages/data/src/index.ts';
import { createBayesEngine } from '../packages/trainer/src/algorithms/bpmf-engine.ts';
import { type Engine, evaluate, presets, type TrainConfig, train } from '../packages/trainer/src/index.ts';

const { values: args } = parseArgs({
  options: { only: { type: 'string' }, json: { type: 'boolean', default: false } },
});

const dataset = await loadBundled();
const split = userHoldout(dataset.ratings, { strategy: 'recent', fraction: 0.2 });
const trainSet = { ...dataset, ratings: split.train };
const bayes = createBayesEngine({ movies: dataset.movies });
const bpmf = (b: Record<string, unknown>): Partial<TrainConfig> =>
  ({
    ...presets.default,
    factors: 32,
    epochs: 120,
    initStd: 0.1,
    seed: 42,
    bayes: b,
  }) as Partial<TrainConfig>;

interface Run {
  name: string;
  what: string;
  preset?: 'reference' | 'default';
  config?: Partial<TrainConfig>;
  engine?: Engine;
}
const runs: Run[] = [
  { name: 'reference', what: 'notebook preset (Adam, MSE)', preset: 'reference' },
  { name: 'default', what: 'presets.default through train()', preset: 'default' },
  {
    name: 'sgd-64',
    what: 'biased SGD, MSE, 64 factors',
    config: {
      optimizer: 'sgd',
      factors: 64,
      epochs: 25,
      batchSize: 4096,
      learningRate: 0.007,
      l2: 0.05,
      l2Bias: 0.02,
      initStd: 0.1,
      seed: 42,
    },
  },
  {
    name: 'bpmf',
    what: 'BPMF, no side features',
    config: bpmf({ sampleFactors: 10, burnIn: 20, movieFeatures: false, popularityFeatures: false }),
    engine: bayes,
  },
  {
    name: 'bpmf-genre-pop',
    what: 'BPMF + genre/decade + count-bin prior',
    config: bpmf({ sampleFactors: 10, burnIn: 20, movieFeatures: true, popularityFeatures: true }),
    engine: bayes,
  },
];

const only = args.only?.split(',');
const rows: Record<string, unknown>[] = [];
let baselinesPrinted = false;
if (!args.json)
  console.log(
    `# ${dataset.name}: holdout = each user's latest 20% by timestamp (${split.test.length} test, ${split.train.length} train ratings); ` +
      'relevant = held-out rating ≥ 4; candidates exclude the user’s training movies; k = 10',
  );
const line = (
  name: string,
  r: { recall: number; ndcg: number; precision: number; map: number; hitRate: number; coverage: number },
  what: string,
) =>
  console.log(
    `${name.padEnd(20)} Recall@10 ${r.recall.toFixed(4)}  NDCG@10 ${r.ndcg.toFixed(4)}  P@10 ${r.precision.toFixed(4)}  ` +
      `MAP@10 ${r.map.toFixed(4)}  hit ${r.hitRate.toFixed(3)}  coverage ${r.coverage.toFixed(4)}  — ${what}`,
  );
for (const run of runs) {
  if (only && !only.includes(run.name)) continue;
  const { model } = await train(trainSet, {
    ...(run.preset ? { preset: run.preset } : {}),
    ...(run.config ? { config: run.config } : {}),
    ...(run.engine ? { engine: run.engine } : {}),
  });
  const e = evaluate(model, split.test, split.train, { k: 10, clip: true });
  const ranking = e.ranking!;
  if (!baselinesPrinted && !args.json) {
    line('popularity', e.baselines.popularity!.ranking, 'most-rated movies first');
    line('biases', e.baselines.biases.ranking!, 'μ + b_u + b_i (Koren regularised biases)');
    baselinesPrinted = true;
  }
  rows.push({
    name: run.name,
    rmse: e.rmse,
    mae: e.mae,
    ranking,
    popularity: e.baselines.popularity!.ranking,
  });
  if (!args.json)
    line(run.name, ranking, `${run.what}; holdout RMSE ${e.rmse.toFixed(4)} MAE ${e.mae.toFixed(4)}`);
}
if (args.json) console.log(JSON.stringify({ runs: rows }));
