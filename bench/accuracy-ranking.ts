/**
 * Ranking bench: per-user holdout of each user's most recent 20% of ratings (by timestamp) on the bundled
 * ml-latest-small; train on the rest, rank every movie the user has not rated in training, relevant = held-out
 * rating ≥ 4; Recall@10, NDCG@10 (and precision, MAP, hit rate, coverage) of each model beside the popularity and
 * bias baselines — all through the shipped code path (loadBundled → userHoldout → train → evaluate).
 *
 *   pnpm exec tsx bench/accuracy-ranking.ts [--only default,sgd-64] [--json]
 *   pnpm exec tsx bench/accuracy-ranking.ts --sweep   # how w of itemRankBias = w·ln(1 + n_i) was chosen:
 *     the default model trained on an INNER holdout (each user's latest 20% of the training part) for w ∈ grid,
 *     then the same grid on the real holdout for reference.
 */
import { parseArgs } from 'node:util';
import { buildRatedIndex, MFModel, ratedItems } from '../packages/core/src/index.ts';
import { loadBundled, userHoldout } from '../packages/data/src/index.ts';
import {
  createBayesEngine,
  type Engine,
  evaluate,
  modelRanker,
  popularityOrder,
  popularityRanker,
  presets,
  rankingMetrics,
  relevantItems,
  type TrainConfig,
  train,
} from '../packages/trainer/src/index.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    sweep: { type: 'boolean', default: false },
  },
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
    what: 'BPMF, no side features (with the default ranking term w = 0.5)',
    config: bpmf({ sampleFactors: 10, burnIn: 20, movieFeatures: false, popularityFeatures: false }),
    engine: bayes,
  },
  {
    name: 'default-w0',
    what: 'presets.default without the ranking term (rank by r̂ alone)',
    preset: 'default',
    config: { bayes: { ...presets.default.bayes, rankPopularity: 0 } } as Partial<TrainConfig>,
  },
];

if (args.sweep) {
  const grid = [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5];
  const inner = userHoldout(split.train, { strategy: 'recent', fraction: 0.2 });
  for (const [label, s] of [
    ['inner', inner],
    ['holdout', split],
  ] as const) {
    const { model } = await train({ ...dataset, ratings: s.train }, { preset: 'default' });
    const counts = new Float64Array(dataset.items.size);
    for (let r = 0; r < s.train.length; r++) counts[s.train.items[r]!]!++;
    const rel = relevantItems(s.test, 4);
    const rated = buildRatedIndex(s.train, dataset.users.size);
    const trainItemsOf = (u: number) => ratedItems(rated, u);
    const pop = rankingMetrics(
      popularityRanker(popularityOrder(s.train, dataset.items.size)),
      rel,
      trainItemsOf,
      dataset.items.size,
      10,
    );
    console.log(
      `${label.padEnd(8)} popularity      Recall@10 ${pop.recall.toFixed(4)}  NDCG@10 ${pop.ndcg.toFixed(4)}`,
    );
    for (const w of grid) {
      const itemRankBias = Float32Array.from(counts, (n) => w * Math.log1p(n));
      const m = new MFModel({ params: { ...model.params, itemRankBias }, rated });
      const r = rankingMetrics(modelRanker(m), rel, trainItemsOf, dataset.items.size, 10);
      console.log(
        `${label.padEnd(8)} w = ${w.toFixed(2).padEnd(10)} Recall@10 ${r.recall.toFixed(4)}  NDCG@10 ${r.ndcg.toFixed(4)}  coverage ${r.coverage.toFixed(4)}`,
      );
    }
  }
  process.exit(0);
}

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
