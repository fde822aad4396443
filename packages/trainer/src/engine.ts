import type { MFParams } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import type { TemporalSettings } from './engines/bpmf/temporal.ts';

/** Hyper-parameters shared by every engine; each engine documents which it reads. */
export interface TrainConfig {
  /** 'bpmf': Bayesian MF by Gibbs sampling (engines/bayes.ts; epochs = sweeps, reads `bayes`). */
  optimizer: 'adam' | 'sgd' | 'als' | 'bpmf';
  factors: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /**
   * L2 weight on factors; 0 for none. Its meaning follows each engine's loss:
   * - adam / tfjs: Keras' `embeddings_regularizer: l2(λ)` — λ·Σ W² over the WHOLE user and item factor matrices is
   *   added to every batch's loss (so its gradient 2λW reaches every row at every step, as in tfjs).
   * - sgd: λ in Funk/Koren's per-rating update p_u += γ(e·q_i − λ·p_u).
   * - als: λ in each row's ridge system (AᵀA + λI)x = Aᵀy.
   */
  l2: number;
  /** L2 weight on biases, in the same sense as l2: adam/tfjs default 0 (as the tfjs model); sgd/als default l2. */
  l2Bias?: number;
  /** Std-dev of the initial factors (biases always start at 0). */
  initStd: number;
  /**
   * Distribution of the initial factors: 'uniform' = U(−√3·initStd, √3·initStd) (same std-dev; with
   * initStd = 0.05/√3 this is Keras' default Embedding initialiser U(−0.05, 0.05)), 'normal' = N(0, initStd²).
   * Default 'normal'.
   */
  init?: 'uniform' | 'normal';
  seed: number;
  /** Settings of the 'bpmf' engine (sample factors, burn-in, movie features, ranking term); others ignore it. */
  bayes?: Partial<BayesSettings>;
}

/** Per-epoch progress reported by every engine. */
export interface EpochStats {
  /** 1-based. */
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
  /**
   * Row order per epoch (a permutation of 0…length-1), called with the 0-based epoch index; batches are consecutive
   * slices of it. Default: a seeded shuffle per epoch.
   */
  batchOrder?: (epoch: number) => Int32Array;
  /** Called after each epoch; return 'stop' to end training early. */
  onEpoch?: (stats: EpochStats, params: MFParams) => undefined | 'stop' | Promise<undefined | 'stop'>;
  /**
   * Progress inside long epochs (native engines call it every 64 batches and at each epoch's end): `done` of `total`
   * rating visits over the whole run (epochs × ratings).
   */
  onProgress?: (progress: { done: number; total: number }) => void;
  signal?: AbortSignal;
  /** One line per decision the engine made about the input (e.g. "the ratings have no timestamps; … off"). */
  onNote?: (line: string) => void;
  /**
   * Worker threads for the engines that split their work (sgd, bpmf; default: every core, os.availableParallelism()).
   * Results are deterministic for a seed at a fixed thread count; see each engine for how they vary across counts.
   */
  threads?: number;
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

/** Settings of the Bayesian engine (TrainConfig.bayes); `epochs` is the number of Gibbs sweeps in total. */
export interface BayesSettings {
  /** Factors per Gibbs sample; the served model has TrainConfig.factors (the posterior mean compressed to that rank). */
  sampleFactors: number;
  /** Sweeps discarded before averaging (must be < epochs). */
  burnIn: number;
  /** Noise precision α, or 'sample' to draw it from its posterior. */
  alpha?: number | 'sample';
  /** Genre/decade prior on the movies (needs the dataset's movie table; ignored without one). */
  movieFeatures?: boolean;
  /** Rating-count bins in the movie prior. */
  popularityFeatures?: boolean;
  /** Bayesian SVD++ implicit block (slower: about 2× per sweep). */
  implicit?: boolean;
  /**
   * w in the ranking-only item term itemRankBias_i = w·ln(1 + n_i) (n_i: the movie's training ratings), so top-k
   * lists favour movies people actually watch; 0 leaves ranking by r̂ alone. Chosen on an inner holdout
   * (bench/accuracy-ranking.ts).
   */
  rankPopularity?: number;
  /**
   * Time-aware bias terms (Koren, KDD 2009 §4), sampled with the rest (engines/bpmf/temporal.ts): movie bias per
   * time bin, user-bias drift α_u·dev_u(t), day-specific user bias. Off when absent or when the ratings carry no
   * timestamps.
   */
  temporal?: TemporalSettings;
}
