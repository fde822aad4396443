/**
 * Accuracy bench: 5-fold random CV (seeded) on the bundled ml-latest-small, through the shipped code path
 * (loadBundled → crossValidate → train → evaluate), one line per configuration with RMSE/MAE mean ± std.
 *
 *   pnpm exec tsx bench/accuracy.ts                 # every configuration
 *   pnpm exec tsx bench/accuracy.ts --only default,reference --folds 5 --seed 42 [--no-clip] [--json]
 *
 * Predictions are clipped to the training rating range [0.5, 5] before RMSE/MAE, as Surprise does (--no-clip
 * turns that off). Ranking metrics are skipped here (see bench/accuracy-ranking.ts).
 */
import { parseArgs } from 'node:util';
import { loadBundled } from '../packages/data/src/index.ts';
import {
  type BayesSettings,
  createBayesEngine,
  crossValidate,
  type Engine,
  presets,
  type TrainConfig,
} from '../packages/trainer/src/index.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    folds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '42' },
    'no-clip': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const dataset = await loadBundled();
const bayes = createBayesEngine({ movies: dataset.movies });
type Bayes = Partial<BayesSettings>;
const bpmf = (epochs: number, factors: number, b: Bayes): Partial<TrainConfig> =>
  ({ ...presets.default, optimizer: 'sgd', factors, epochs, initStd: 0.1, bayes: b }) as Partial<TrainConfig>;

interface Run {
  name: string;
  what: string;
  preset?: 'reference' | 'default';
  config?: Partial<TrainConfig>;
  engine?: Engine;
}
const runs: Run[] = [
  {
    name: 'reference',
    what: 'notebook: Adam, MSE, 5 epochs, batch 4096, lr 0.005, no L2, 32 factors',
    preset: 'reference',
  },
  { name: 'default', what: 'presets.default through train()', preset: 'default' },
  {
    name: 'sgd-64',
    what: 'biased SGD (Funk/Koren) 64 factors, 25 epochs, lr 0.007, λ 0.05, λ_bias 0.02',
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
    what: 'BPMF (Salakhutdinov & Mnih 2008) 10 factors/sample, 20 burn-in + 100 samples, α sampled, no side features',
    config: bpmf(120, 32, { sampleFactors: 10, burnIn: 20, movieFeatures: false, popularityFeatures: false }),
    engine: bayes,
  },
  {
    name: 'bpmf-genre',
    what: 'BPMF + genre/decade prior on movies',
    config: bpmf(120, 32, { sampleFactors: 10, burnIn: 20, movieFeatures: true, popularityFeatures: false }),
    engine: bayes,
  },
  {
    name: 'bpmf-genre-pop',
    what: 'BPMF + genre/decade + rating-count-bin prior on movies',
    config: bpmf(120, 32, { sampleFactors: 10, burnIn: 20, movieFeatures: true, popularityFeatures: true }),
    engine: bayes,
  },
  {
    name: 'bpmf-genre-pop-svdpp',
    what: 'as bpmf-genre-pop + Bayesian SVD++ implicit block',
    config: bpmf(120, 32, {
      sampleFactors: 10,
      burnIn: 20,
      movieFeatures: true,
      popularityFeatures: true,
      implicit: true,
    }),
    engine: bayes,
  },
  {
    name: 'bpmf-genre-pop-d20',
    what: 'as bpmf-genre-pop with 20 factors/sample, 20 burn-in + 200 samples',
    config: bpmf(220, 32, { sampleFactors: 20, burnIn: 20, movieFeatures: true, popularityFeatures: true }),
    engine: bayes,
  },
];

const only = args.only?.split(',');
const folds = Number(args.folds);
const seed = Number(args.seed);
const clip = !args['no-clip'];
const fmt = (m: number, s: number) => `${m.toFixed(4)} ± ${s.toFixed(4)}`;
if (!args.json)
  console.log(
    `# ${dataset.name}: ${dataset.ratings.length} ratings, ${dataset.users.size} users, ${dataset.items.size} movies; ` +
      `${folds}-fold random CV, seed ${seed}, predictions ${clip ? 'clipped to [0.5, 5]' : 'unclipped'}; crossValidate() from @movierec/trainer`,
  );
const out: Record<string, unknown>[] = [];
for (const run of runs) {
  if (only && !only.includes(run.name)) continue;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const cv = await crossValidate(dataset, {
    folds,
    seed,
    clip,
    skipRanking: true,
    ...(run.preset ? { preset: run.preset } : {}),
    ...(run.config ? { config: run.config } : {}),
    ...(run.engine ? { engine: run.engine } : {}),
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const row = {
    name: run.name,
    what: run.what,
    rmse: cv.mean.rmse!,
    rmseStd: cv.std.rmse!,
    mae: cv.mean.mae!,
    maeStd: cv.std.mae!,
    biasesRmse: cv.mean['baselines.biases.rmse']!,
    biasesMae: cv.mean['baselines.biases.mae']!,
    secondsPerFold: seconds / folds,
    cpuSecondsPerFold: cpuSeconds / folds,
  };
  out.push(row);
  if (args.json) continue;
  console.log(
    `${run.name.padEnd(22)} RMSE ${fmt(row.rmse, row.rmseStd)}  MAE ${fmt(row.mae, row.maeStd)}  ` +
      `(biases ${row.biasesRmse.toFixed(4)}/${row.biasesMae.toFixed(4)})  ${row.secondsPerFold.toFixed(1)} s/fold (${row.cpuSecondsPerFold.toFixed(1)} s CPU, train+eval)  — ${run.what}`,
  );
}
if (args.json) console.log(JSON.stringify({ folds, seed, clip, runs: out }));
else
  console.log(
    `# load average at end: ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
  );
