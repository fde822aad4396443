import type { BayesSettings, TrainConfig } from './engine.ts';

/** The Bayesian engine's settings when TrainConfig.bayes leaves them out (the default preset's). */
export const DEFAULT_BAYES: BayesSettings = {
  sampleFactors: 10,
  burnIn: 20,
  alpha: 'sample',
  movieFeatures: true,
  popularityFeatures: true,
  implicit: false,
  rankPopularity: 0.5,
};

/**
 * A tuned biased SGD: the Bayesian presets' settings for another optimizer (read only when one is chosen), and the
 * SGD model the web tests serve (apps/api/test/web-fixture.ts).
 */
export const TUNED_SGD = {
  batchSize: 4096,
  learningRate: 0.007,
  l2: 0.05,
  l2Bias: 0.02,
  initStd: 0.1,
  init: 'normal',
} as const;

/**
 * Named configurations.
 * - reference: the notebook's model exactly — Adam, MSE, 5 epochs, batch 4096, lr 0.005, no L2, 32 factors,
 *   factors initialised like Keras' default Embedding initialiser U(−0.05, 0.05) (initStd 0.05/√3, init 'uniform').
 * - default: the configuration we recommend on MovieLens-sized data (set by the accuracy work; see
 *   bench/accuracy*.ts for how it was chosen).
 * - temporal: default plus the time-aware terms that helped on validation (bench/temporal.ts, issue 13).
 */
export const presets = {
  reference: {
    optimizer: 'adam',
    factors: 32,
    epochs: 5,
    batchSize: 4096,
    learningRate: 0.005,
    l2: 0,
    initStd: 0.05 / Math.sqrt(3),
    init: 'uniform',
    seed: 42,
  },
  default: {
    // Bayesian MF (BPMF, Gibbs sampling) with a genre/decade/rating-count prior on movies; 20 burn-in sweeps, then
    // the average of 100 samples of 10 factors compressed to 32 factors; ranking adds 0.5·ln(1 + n_i).
    // 5-fold CV on ml-latest-small: RMSE 0.840, MAE 0.642 (bench/accuracy.ts; ranking: bench/accuracy-ranking.ts).
    optimizer: 'bpmf',
    factors: 32,
    epochs: 120,
    bayes: DEFAULT_BAYES,
    ...TUNED_SGD,
    seed: 42,
  },
  temporal: {
    // The default preset plus Koren's day-specific user bias b_{u,day} (KDD 2009 §4.2) for users who rated on at
    // least two days (for a one-day user it would be b_u itself), sampled with the rest (engines/bpmf/temporal.ts),
    // and the SVD++ implicit block (the movies a user rated, Koren 2008; engines/bpmf/svdpp.ts) — together the
    // Bayesian timeSVD++ of Rendle, Zhang & Koren 2019 without the bins and drift. Chosen on an inner validation
    // split of fold 0's training part (bench/temporal.ts --protocol inner, 120 sweeps: 0.8398 against 0.8428 for the
    // day term alone and 0.8413 for bins + drift + day). Predictions at a time; "now" (no time given) is as of each
    // user's last training rating.
    optimizer: 'bpmf',
    factors: 32,
    epochs: 120,
    bayes: {
      ...DEFAULT_BAYES,
      temporal: { itemBins: 0, userDrift: false, userDay: true, userDayMinDays: 2 },
      implicit: true,
    },
    ...TUNED_SGD,
    seed: 42,
  },
} as const satisfies Record<string, TrainConfig>;

export type PresetName = keyof typeof presets;

/** Every engine by name: the native optimizers of TrainConfig plus 'tfjs' (TensorFlow.js layers, Adam). */
export const ENGINES = ['adam', 'sgd', 'als', 'bpmf', 'tfjs'] as const;
export type EngineName = (typeof ENGINES)[number];

/**
 * What an engine starts from when it is not the preset's own optimizer: a preset's epochs, step size and L2 were
 * tuned for its optimizer (the default preset's 120 epochs are BPMF Gibbs sweeps), so `--engine sgd` inherited 120
 * SGD epochs and overtrained. Flags override these. Each was checked with
 * `movierec evaluate --holdout 0.2 --engine <e> --json` on ml-latest-small (seed 42), RMSE:
 * - adam, tfjs: presets.reference (the notebook's Adam) — 0.903 (with the default preset's values, 1.020);
 * - sgd: 30 epochs of biased SGD, γ 0.007, λ 0.05, λ_b 0.02, N(0, 0.1²) init — 0.882 (120 epochs: 0.904);
 * - als: 10 sweeps, λ 15 (the ridge λ is not scaled by a row's rating count, so it is far larger than SGD's),
 *   λ_b 0.02 — 0.890 (λ 0.05: 1.44);
 * - bpmf: the BPMF settings (sweeps, `bayes`) of the preset whose optimizer is bpmf, if any.
 */
export function engineDefaults(engine: EngineName, preset: PresetName): Partial<TrainConfig> {
  const base: TrainConfig = presets[preset];
  const optimizer = engine === 'tfjs' ? 'adam' : engine;
  if (optimizer === base.optimizer) return {};
  const { seed: _seed, ...reference } = presets.reference as TrainConfig;
  switch (optimizer) {
    case 'adam':
      // λ_b 0 as the reference has none (Adam reads an absent l2Bias as 0, so the preset's own must not leak in)
      return { l2Bias: 0, ...reference };
    case 'sgd':
      return { epochs: 30, learningRate: 0.007, l2: 0.05, l2Bias: 0.02, initStd: 0.1, init: 'normal' };
    case 'als':
      return { epochs: 10, l2: 15, l2Bias: 0.02 };
    case 'bpmf': {
      const bayesian = Object.values(presets as Record<string, TrainConfig>).find(
        (p) => p.optimizer === 'bpmf',
      );
      return bayesian
        ? { epochs: bayesian.epochs, ...(bayesian.bayes ? { bayes: bayesian.bayes } : {}) }
        : {};
    }
  }
}
