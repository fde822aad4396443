import type { MFParams } from '@movierec/core';
import type { MovieTable, RatingColumns } from '@movierec/data';
import { compressParams, PosteriorMean } from '../blend.ts';
import type { Engine, EpochStats, FitOptions, TrainConfig } from '../engine.ts';
import { DEFAULT_BAYES } from '../presets.ts';
import { movieFeatures } from './bpmf/feature-prior.ts';
import { type BpmfConfig, type BpmfResult, bpmfToParams, fitBpmf } from './bpmf/gibbs.ts';
import { BPMF_ROWS_WASM_BASE64 } from './bpmf/rows-wasm.ts';
import { TemporalMean } from './bpmf/temporal.ts';
import { defaultThreads } from './pool.ts';
import { compileWasm } from './wasm.ts';

/**
 * The accuracy default as an Engine: BPMF by Gibbs sampling with a feature prior on movies (see bpmf/gibbs.ts), the
 * samples' average prediction compressed to `config.factors` by randomized SVD (../blend.ts). Reads config.factors,
 * config.epochs (total sweeps), config.seed, config.initStd and config.bayes; ignores learning rate, batch size, L2
 * (the priors are learnt). Construct with the dataset's movie table to use genre/decade features.
 */
export function createBayesEngine(
  options: {
    movies?: MovieTable | undefined;
    /** The worker script of the row draws (tests substitute one that fails). */
    workerUrl?: URL;
    /**
     * The row draws' sums: 'auto' (default) on the WebAssembly SIMD kernel (wasm/bpmf-rows.wat) where it compiles,
     * else the scalar loops; 'js' the scalar loops of bpmf/rows.mjs (the reference); 'wasm' the kernel or an error.
     */
    kernels?: 'auto' | 'wasm' | 'js';
  } = {},
): Engine {
  const kernels = options.kernels ?? 'auto';
  if (kernels === 'wasm' && compileWasm(BPMF_ROWS_WASM_BASE64) === null)
    throw new RangeError('bpmf: kernels "wasm" needs WebAssembly SIMD, unavailable in this runtime');
  return {
    name: 'bpmf',
    fit: (train, shape, config, fitOptions) =>
      fitBayes(train, shape, config, options.movies, fitOptions, options.workerUrl, kernels !== 'js'),
  };
}

/** Bayesian engine without movie metadata (popularity features only). */
export const bayesEngine: Engine = createBayesEngine();

async function fitBayes(
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: TrainConfig,
  movies: MovieTable | undefined,
  options: FitOptions = {},
  workerUrl: URL | undefined = undefined,
  simd = true,
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
  const posterior = new PosteriorMean(shape.numUsers, shape.numItems, bayes.sampleFactors, {
    // Merge cost ∝ samples × factors × (keepRank + oversampling); buffer ≤ 50 samples and ≤ ~200 MB of raw factors.
    keepRank: Math.max(48, Math.ceil(1.5 * config.factors)),
    buffer: Math.max(
      5,
      Math.min(50, Math.floor(2e8 / ((shape.numUsers + shape.numItems) * bayes.sampleFactors * 4))),
    ),
    seed: config.seed,
  });
  let temporalMean: TemporalMean | undefined;
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
    // Samples stream into a bounded-memory posterior mean instead of being stored.
    keepSamples: false,
    onSample: (sample, partial) => {
      posterior.add(sample);
      if (sample.temporal && partial.temporal) {
        temporalMean ??= new TemporalMean(partial.temporal);
        temporalMean.add(sample.temporal);
      }
    },
    ...(bayes.temporal ? { temporal: bayes.temporal } : {}),
    // Row draws on every core by default (FitOptions.threads); the same samples for any thread count.
    threads: options.threads ?? defaultThreads(),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(workerUrl ? { workerUrl } : {}),
    simd,
  };

  let last = performance.now();
  let notesShown = 0;
  const result: BpmfResult = await fitBpmf(train, shape, bpmf, async (state, partial) => {
    for (; notesShown < partial.notes.length; notesShown++) options.onNote?.(partial.notes[notesShown]!);
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
    // Built only if the listener reads it (a validation split does; `--validation 0` does not): the mean costs a
    // copy of every kept factor.
    const view = lazyParams(() =>
      state.kept > 0
        ? posterior.mean(partial.globalMean)
        : bpmfToParams({ ...partial, samples: [partial.current!] }),
    );
    const verdict = await options.onEpoch(stats, view);
    last = performance.now();
    return verdict;
  });
  if (posterior.count === 0)
    throw new RangeError(
      `bpmf: sampling stopped during burn-in (before sweep ${bayes.burnIn + 1}); no samples kept`,
    );
  const params = compressParams(posterior.mean(result.globalMean), config.factors, { seed: config.seed });
  if (temporalMean) params.temporal = temporalMean.mean();
  const w = bayes.rankPopularity ?? 0;
  if (w !== 0) params.itemRankBias = popularityRankBias(train, shape.numItems, w);
  return params;
}

/** MFParams whose fields are computed by `make` on the first read (then kept); globalMean stays writable. */
function lazyParams(make: () => MFParams): MFParams {
  let p: MFParams | undefined;
  const get = (): MFParams => {
    p ??= make();
    return p;
  };
  const view = {
    get factors() {
      return get().factors;
    },
    get numUsers() {
      return get().numUsers;
    },
    get numItems() {
      return get().numItems;
    },
    get globalMean() {
      return get().globalMean;
    },
    set globalMean(v: number) {
      get().globalMean = v;
    },
    get userBias() {
      return get().userBias;
    },
    get itemBias() {
      return get().itemBias;
    },
    get userFactors() {
      return get().userFactors;
    },
    get itemFactors() {
      return get().itemFactors;
    },
    get itemRankBias() {
      return get().itemRankBias;
    },
    get temporal() {
      return get().temporal;
    },
  };
  return view as MFParams;
}

/** itemRankBias_i = w·ln(1 + n_i), n_i = number of training ratings of movie i. */
export function popularityRankBias(train: RatingColumns, numItems: number, w: number): Float32Array {
  const counts = new Float64Array(numItems);
  for (let r = 0; r < train.length; r++) counts[train.items[r]!]!++;
  const out = new Float32Array(numItems);
  for (let i = 0; i < numItems; i++) out[i] = w * Math.log1p(counts[i]!);
  return out;
}
