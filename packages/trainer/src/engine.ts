import type { MFParams } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';

/** Hyper-parameters shared by every engine; each engine documents which it reads. */
export interface TrainConfig {
  optimizer: 'adam' | 'sgd' | 'als';
  factors: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 weight on factors (λ in the loss ½‖r − r̂‖² + λ(‖p_u‖² + ‖q_i‖²)); 0 for none. */
  l2: number;
  /** L2 weight on biases; defaults to l2 where an engine supports it. */
  l2Bias?: number;
  /** Std-dev of the initial factors. */
  initStd: number;
  seed: number;
}

/** Per-epoch progress reported by every engine. */
export interface EpochStats {
  epoch: number;
  /** Mean training loss over the epoch (MSE of the batches, plus the L2 term where used). */
  loss: number;
  /** Ratings processed per second in this epoch. */
  ratingsPerSecond: number;
  seconds: number;
}

export interface FitOptions {
  /** Start from these parameters instead of a seeded random init (used by the engine-agreement test). */
  init?: MFParams;
  /** Row order per epoch (a permutation of 0…length-1); default: seeded shuffle per epoch. */
  batchOrder?: (epoch: number) => Int32Array;
  /** Called after each epoch; return 'stop' to end training early. */
  onEpoch?: (stats: EpochStats, params: MFParams) => undefined | 'stop' | Promise<undefined | 'stop'>;
  signal?: AbortSignal;
}

/** A training engine: fits MF parameters to rating columns. */
export interface Engine {
  readonly name: string;
  fit(
    train: RatingColumns,
    shape: { numUsers: number; numItems: number },
    config: TrainConfig,
    options?: FitOptions,
  ): Promise<MFParams>;
}
