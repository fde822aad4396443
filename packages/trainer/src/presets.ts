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
    optimizer: 'sgd',
    factors: 64,
    epochs: 25,
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
