import type { TrainConfig } from './engine.ts';

/**
 * Named configurations.
 * - reference: the notebook's model exactly — Adam, MSE, 5 epochs, batch 4096, lr 0.005, no L2, 32 factors,
 *   factors initialised like Keras' default Embedding initialiser U(−0.05, 0.05) (initStd 0.05/√3, init 'uniform').
 * - default: the configuration we recommend on MovieLens-sized data (set by the accuracy work; see
 *   bench/accuracy*.ts for how it was chosen).
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
    bayes: {
      sampleFactors: 10,
      burnIn: 20,
      alpha: 'sample',
      movieFeatures: true,
      popularityFeatures: true,
      implicit: false,
      rankPopularity: 0.5,
    },
    // Read only when another optimizer is chosen (e.g. --engine sgd): a tuned biased-SGD setting.
    batchSize: 4096,
    learningRate: 0.007,
    l2: 0.05,
    l2Bias: 0.02,
    initStd: 0.1,
    init: 'normal',
    seed: 42,
  },
} as const satisfies Record<string, TrainConfig>;

export type PresetName = keyof typeof presets;
