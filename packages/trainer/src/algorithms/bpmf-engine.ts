import type { MFParams } from '@movierec/core';
import type { MovieTable, RatingColumns } from '@movierec/data';
import type { Engine, EpochStats, FitOptions, TrainConfig } from '../engine.ts';
import { compressParams } from './blend.ts';
import { type BpmfConfig, type BpmfResult, bpmfToParams, fitBpmf } from './bpmf.ts';
import { movieFeatures } from './features.ts';

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
}

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
 * The accuracy default as an Engine: BPMF by Gibbs sampling with a feature prior on movies (see bpmf.ts), the
 * samples' average prediction compressed to `config.factors` by randomized SVD (blend.ts). Reads config.factors,
 * config.epochs (total sweeps), config.seed, config.initStd and config.bayes; ignores learning rate, batch size, L2
 * (the priors are learnt). Construct with the dataset's movie table to use genre/decade features.
 */
export function createBayesEngine(options: { movies?: MovieTable | undefined } = {}): Engine {
  return {
    name: 'bpmf',
    fit: (train, shape, config, fitOptions) => fitBayes(train, shape, config, options.movies, fitOptions),
  };
}

/** Bayesian engine without movie metadata (popularity features only). */
export const bayesEngine: Engine = createBayesEngine();

type BayesTrainConfig = TrainConfig & { bayes?: Partial<BayesSettings> };

async function fitBayes(
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: BayesTrainConfig,
  movies: MovieTable | undefined,
  options: FitOptions = {},
): Promise<MFParams> {
  const bayes = { ...DEFAULT_BAYES, ...config.bayes };
  if (train.length === 0)
    throw new RangeError('bpmf: there are no ratings to train on (the training set is empty)');
  if (!(Number.isInteger(config.epochs) && config.epochs > bayes.burnIn))
    throw new RangeError(
      `bpmf: config.epochs (${config.epochs}) must be an integer > bayes.burnIn (${bayes.burnIn})`,
    );
  if (!(Number.isInteger(config.factors) && config.factors >= 1))
    throw new RangeError(`bpmf: config.factors must be a positive integer, got ${config.factors}`);
  const bpmf: BpmfConfig = {
    factors: bayes.sampleFactors,
    burnIn: bayes.burnIn,
    samples: config.epochs - bayes.burnIn,
    alpha: bayes.alpha ?? 'sample',
    seed: config.seed,
    initStd: config.initStd,
    implicit: bayes.implicit ?? false,
    popularityFeatures: bayes.popularityFeatures ?? true,
    ...(bayes.movieFeatures && movies ? { itemFeatures: movieFeatures(movies, shape.numItems) } : {}),
  };
  let last = performance.now();
  const running = new RunningMean(
    shape.numUsers,
    shape.numItems,
    bayes.sampleFactors,
    config.epochs - bayes.burnIn,
  );
  const result: BpmfResult = await fitBpmf(train, shape, bpmf, async (state, partial) => {
    options.signal?.throwIfAborted();
    if (!options.onEpoch) return undefined;
    const now = performance.now();
    const seconds = (now - last) / 1000;
    const stats: EpochStats = {
      epoch: state.sweep,
      loss: state.trainMse,
      ratingsPerSecond: train.length / Math.max(seconds, 1e-9),
      seconds,
    };
    // The model so far: the posterior mean of the kept samples (the current draw during burn-in).
    const view =
      state.kept > 0 ? running.update(partial) : bpmfToParams({ ...partial, samples: [partial.current!] });
    const verdict = await options.onEpoch(stats, view);
    last = performance.now();
    return verdict;
  });
  if (result.samples.length === 0)
    throw new RangeError(
      `bpmf: sampling stopped during burn-in (before sweep ${bayes.burnIn + 1}); no samples kept`,
    );
  const params = compressParams(bpmfToParams(result), config.factors, { seed: config.seed });
  const w = bayes.rankPopularity ?? 0;
  if (w !== 0) params.itemRankBias = popularityRankBias(train, shape.numItems, w);
  return params;
}

/** itemRankBias_i = w·ln(1 + n_i), n_i = number of training ratings of movie i. */
export function popularityRankBias(train: RatingColumns, numItems: number, w: number): Float32Array {
  const counts = new Float64Array(numItems);
  for (let r = 0; r < train.length; r++) counts[train.items[r]!]!++;
  const out = new Float32Array(numItems);
  for (let i = 0; i < numItems; i++) out[i] = w * Math.log1p(counts[i]!);
  return out;
}

/**
 * The posterior mean of the samples kept so far as one MF model, updated in O(new sample + users × K) per sweep:
 * item factors of sample m sit unscaled in slot m, user factors are rescaled by 1/S (S = samples so far), so
 * p_u·q_i = (1/S) Σ_m p_u^m·q_i^m; empty slots are zero. Biases are running means.
 */
export class RunningMean {
  readonly params: MFParams;
  readonly #userRaw: Float32Array;
  #count = 0;
  constructor(
    numUsers: number,
    numItems: number,
    readonly k: number,
    readonly capacity: number,
  ) {
    const K = k * capacity;
    this.params = {
      factors: K,
      numUsers,
      numItems,
      globalMean: 0,
      userBias: new Float32Array(numUsers),
      itemBias: new Float32Array(numItems),
      userFactors: new Float32Array(numUsers * K),
      itemFactors: new Float32Array(numItems * K),
    };
    this.#userRaw = new Float32Array(numUsers * K);
  }

  update(result: BpmfResult): MFParams {
    const { k, params: p } = this;
    const K = p.factors;
    while (this.#count < result.samples.length && this.#count < this.capacity) {
      const s = result.samples[this.#count]!;
      const m = this.#count++;
      const w = 1 / this.#count;
      for (let u = 0; u < p.numUsers; u++) {
        p.userBias[u]! += (s.userBias[u]! - p.userBias[u]!) * w;
        for (let a = 0; a < k; a++) this.#userRaw[u * K + m * k + a] = s.userFactors[u * k + a]!;
      }
      for (let i = 0; i < p.numItems; i++) {
        p.itemBias[i]! += (s.itemBias[i]! - p.itemBias[i]!) * w;
        for (let a = 0; a < k; a++) p.itemFactors[i * K + m * k + a] = s.itemFactors[i * k + a]!;
      }
    }
    p.globalMean = result.globalMean;
    const scale = 1 / Math.max(1, this.#count);
    const used = this.#count * k;
    for (let u = 0; u < p.numUsers; u++)
      for (let a = 0; a < used; a++) p.userFactors[u * K + a] = this.#userRaw[u * K + a]! * scale;
    return p;
  }
}
