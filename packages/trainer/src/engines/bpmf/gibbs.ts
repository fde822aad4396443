import type { MFParams } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import { Rng } from '@movierec/data';
import { TrainingInputError } from '../common.ts';
import { type Csr, toCsr } from './csr.ts';
import { FeaturePrior, itemFeatureMatrix } from './feature-prior.ts';
import { Implicit } from './svdpp.ts';
import { RATINGS_PER_THREAD, RowSweeps, rowFactors } from './sweeps.ts';
import { TemporalBlock, type TemporalSample, type TemporalSettings } from './temporal.ts';
import { type Hyper, sampleHyper } from './wishart.ts';
import { Workspace } from './workspace.ts';

/**
 * Bayesian probabilistic matrix factorisation by Gibbs sampling (Salakhutdinov & Mnih, ICML 2008), with biases
 * sampled as one more latent dimension: the user vector is w_u = (p_u, b_u), the item vector x_i = (q_i, b_i), and
 *   r_ui ~ N(μ + b_u + b_i + p_u·q_i, α⁻¹),  w_u ~ N(μ_U, Λ_U⁻¹),  x_i ~ N(μ_V, Λ_V⁻¹),
 *   (μ_U, Λ_U), (μ_V, Λ_V) ~ Gaussian–Wishart(μ0 = 0, β0, W0 = I, ν0 = d).
 * Each sample is itself an MF model; their average prediction is one MF model again (see `blend.ts`).
 */
export interface BpmfConfig {
  factors: number;
  /** Gibbs sweeps discarded before collecting samples. */
  burnIn: number;
  /** Samples to draw after burn-in (one per `thin` sweeps). */
  samples: number;
  thin?: number;
  /** Observation precision α; 'sample' draws it from its Gamma posterior each sweep. */
  alpha: number | 'sample';
  /** β0 of the Gaussian–Wishart hyper-prior. */
  beta0?: number;
  seed: number;
  /** Std-dev of the initial factors. */
  initStd?: number;
  /**
   * Bayesian SVD++ (implicit feedback, Koren 2008; sampled as in Rendle et al. 2019): the user's factors become
   * p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j with N(u) the user's rated movies and y_j ~ N(μ_Y, Λ_Y⁻¹) sampled too.
   */
  implicit?: boolean;
  /**
   * Side features of the movies (numItems × count, row-major), e.g. genres and decade: the movie prior becomes
   * x_i ~ N(μ_V + Bᵀ g_i, Λ_V⁻¹) with the link matrix B sampled too (Macau-style, Simm et al. 2017), so movies with
   * few ratings start from what their genre says.
   */
  itemFeatures?: { count: number; values: Float32Array };
  /** Add one-hot log₂ bins of each movie's training-rating count to the item features. */
  popularityFeatures?: boolean;
  /** Precision λ_B of the link-matrix prior B ~ MN(0, λ_B⁻¹ I, Λ_V⁻¹). */
  linkPrecision?: number;
  /**
   * Called with every kept sample; with `keepSamples: false` the samples are handed over only here and not
   * stored in the result (bounded memory on large data).
   */
  onSample?: (sample: BpmfSample, result: BpmfResult) => void;
  keepSamples?: boolean;
  /**
   * Time-aware bias terms (Koren 2009 §4: movie bias per time bin, user bias drift, day-specific user bias),
   * sampled with the rest; see temporal.ts.
   */
  temporal?: TemporalSettings;
  /**
   * Worker threads for the row draws and the SSE (default 1; fewer are used below 25,000 ratings per thread).
   * The result is the same for every thread count: each row draws from its own stream (sweeps.ts).
   */
  threads?: number;
  /** Cancels sampling between and during sweeps (the workers stop). */
  signal?: AbortSignal;
  /** The worker script (tests substitute one that fails). */
  workerUrl?: URL;
  /**
   * The row draws' sums on the WebAssembly SIMD kernel where it compiles (default true); false forces the scalar
   * loops of rows.mjs, the reference (sweeps.ts).
   */
  simd?: boolean;
}

export interface BpmfSample {
  userBias: Float32Array;
  itemBias: Float32Array;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  /** The time-aware terms of this draw, when config.temporal is set. */
  temporal?: TemporalSample;
}

export interface BpmfResult {
  globalMean: number;
  factors: number;
  numUsers: number;
  numItems: number;
  samples: BpmfSample[];
  /** α per sweep (fixed or sampled). */
  alphas: number[];
  /** The latest draw, kept during burn-in only when a progress callback is given. */
  current?: BpmfSample;
  /** The time-aware terms' layout (bins, t_u, days) when they were fitted. */
  temporal?: TemporalBlock['layout'];
  /** One line per decision about the input (e.g. no timestamps: temporal terms off). */
  notes: string[];
}

/** Progress after one Gibbs sweep. */
export interface SweepState {
  /** 1-based sweep number. */
  sweep: number;
  total: number;
  /** Mean squared training error of the current sample. */
  trainMse: number;
  /** Samples drawn so far (0 during burn-in). */
  kept: number;
  /** Observation precision α in this sweep. */
  alpha: number;
}

/**
 * Runs the Gibbs sampler. `onSweep` is awaited after every sweep (progress, cancellation by throwing) and may
 * return 'stop' to end sampling early with the samples kept so far.
 */
export async function fitBpmf(
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: BpmfConfig,
  onSweep?: (state: SweepState, partial: BpmfResult) => unknown,
): Promise<BpmfResult> {
  const { numUsers, numItems } = shape;
  const k = config.factors;
  const d = k + 1;
  const rng = new Rng(config.seed);
  const beta0 = config.beta0 ?? 2;
  const thin = config.thin ?? 1;
  const n = train.length;
  let mean = 0;
  for (let r = 0; r < n; r++) mean += train.ratings[r]!;
  mean /= n;

  const requested = config.threads ?? 1;
  if (!(Number.isInteger(requested) && requested >= 1))
    throw new TrainingInputError(`bpmf: threads must be a positive integer, got ${requested}`);
  const threads = Math.max(1, Math.min(requested, Math.floor(n / RATINGS_PER_THREAD)));
  // Everything the workers read or write lives on SharedArrayBuffers.
  const byUser = toCsr(train, numUsers, true, true);
  const byItem = toCsr(train, numItems, false, true);
  // Latent rows of d = k+1 entries: factors then bias.
  // in the row kernel's shared memory when it runs (sweeps.ts), else on SharedArrayBuffers
  const { U, V, kernel } = rowFactors(numUsers, numItems, d, threads, config.simd !== false);
  const initStd = config.initStd ?? 0.1;
  for (let i = 0; i < U.length; i++) U[i] = i % d === k ? 0 : initStd * rng.normal();
  for (let i = 0; i < V.length; i++) V[i] = i % d === k ? 0 : initStd * rng.normal();

  let alpha = config.alpha === 'sample' ? 2 : config.alpha;
  const alphas: number[] = [];
  const samples: BpmfSample[] = [];
  const notes: string[] = [];
  const temporal = config.temporal ? TemporalBlock.create(train, shape, config.temporal, notes) : undefined;
  const result: BpmfResult = { globalMean: mean, factors: k, numUsers, numItems, samples, alphas, notes };
  if (temporal) result.temporal = temporal.layout;
  const rowAt = temporal ? csrRows(train, byUser, byItem) : undefined;
  const z = temporal ? new Float64Array(n) : undefined;
  const total = config.burnIn + config.samples * thin;
  let drawn = 0;
  const ws = new Workspace(d);
  const imp = config.implicit ? new Implicit(byUser, byItem, k, initStd, rng) : undefined;
  const features = itemFeatureMatrix(config, byItem);
  const link = features
    ? new FeaturePrior(features.values, numItems, features.count, d, config.linkPrecision ?? 1)
    : undefined;
  const rows = new RowSweeps({
    byUser,
    byItem,
    U,
    V,
    extra: imp?.extra,
    priorShift: link?.shift,
    d,
    k,
    seed: config.seed,
    threads,
    signal: config.signal,
    workerUrl: config.workerUrl,
    kernel,
  });
  try {
    for (let sweep = 0; sweep < total; sweep++) {
      config.signal?.throwIfAborted();
      const hu = sampleHyper(U, numUsers, d, beta0, rng, ws);
      await rows.side(0, sweep, hu, alpha, mean);
      if (imp) imp.sweep(U, V, d, mean, alpha, beta0, rng);
      let hv: Hyper;
      if (link) {
        hv = sampleHyper(link.residual(V), numItems, d, beta0, rng, ws);
        link.sampleLink(V, hv, rng);
        link.priorShift();
      } else hv = sampleHyper(V, numItems, d, beta0, rng, ws);
      await rows.side(1, sweep, hv, alpha, mean);
      if (temporal && rowAt && z) {
        // z_r = r − (μ + b_u + b_i + p'_u·q_i); the temporal terms are drawn against it, then both CSRs' targets
        // become r − (temporal part) so the next sweep's factor and bias draws see the time-corrected ratings.
        residuals(byUser, rowAt.user, train.ratings, U, V, d, k, mean, imp?.extra, z);
        temporal.sample(z, alpha, rng);
        const off = temporal.offset;
        for (let e = 0; e < n; e++) {
          byUser.values[e] = train.ratings[rowAt.user[e]!]! - off[rowAt.user[e]!]!;
          byItem.values[e] = train.ratings[rowAt.item[e]!]! - off[rowAt.item[e]!]!;
        }
      }
      const sse = await rows.sse(mean);
      if (config.alpha === 'sample') {
        // α | rest ~ Gamma(a0 + N/2, rate b0 + SSE/2), a0 = b0 = 1 (conjugate Gamma prior on the noise precision).
        alpha = rng.gamma(1 + n / 2) / (1 + sse / 2);
      }
      alphas.push(alpha);
      if (sweep >= config.burnIn && (sweep - config.burnIn) % thin === thin - 1) {
        const sample = toSample(U, V, d, k, numUsers, numItems, imp?.extra);
        if (temporal) sample.temporal = temporal.snapshot();
        drawn++;
        if (config.keepSamples !== false) samples.push(sample);
        config.onSample?.(sample, result);
      }
      if (onSweep) {
        if (drawn === 0) result.current = toSample(U, V, d, k, numUsers, numItems, imp?.extra);
        else delete result.current;
        const state = { sweep: sweep + 1, total, trainMse: sse / n, kept: drawn, alpha };
        if ((await onSweep(state, result)) === 'stop') break;
      }
    }
  } finally {
    await rows.close();
  }
  return result;
}

/** The training row behind each CSR position, by user and by item (same fill order as toCsr). */
function csrRows(train: RatingColumns, byUser: Csr, byItem: Csr): { user: Int32Array; item: Int32Array } {
  const fillOrder = (keys: Int32Array, csr: Csr) => {
    const at = csr.start.slice(0, csr.rows);
    const rows = new Int32Array(train.length);
    for (let r = 0; r < train.length; r++) rows[at[keys[r]!]!++] = r;
    return rows;
  };
  return { user: fillOrder(train.users, byUser), item: fillOrder(train.items, byItem) };
}

/** z_r = r − (μ + b_u + b_i + p'_u·q_i) per training row (p'_u with the implicit part when given). */
function residuals(
  byUser: Csr,
  rowAtUser: Int32Array,
  ratings: Float32Array,
  U: Float64Array,
  V: Float64Array,
  d: number,
  k: number,
  mean: number,
  extra: Float64Array | undefined,
  z: Float64Array,
): void {
  const { start, cols, rows } = byUser;
  const pu = new Float64Array(k);
  for (let u = 0; u < rows; u++) {
    const ou = u * d;
    for (let a = 0; a < k; a++) pu[a] = U[ou + a]! + (extra ? extra[u * k + a]! : 0);
    const bu = U[ou + k]!;
    for (let e = start[u]!; e < start[u + 1]!; e++) {
      const ov = cols[e]! * d;
      let p = mean + bu + V[ov + k]!;
      for (let a = 0; a < k; a++) p += pu[a]! * V[ov + a]!;
      const r = rowAtUser[e]!;
      z[r] = ratings[r]! - p;
    }
  }
}

function toSample(
  U: Float64Array,
  V: Float64Array,
  d: number,
  k: number,
  nu: number,
  ni: number,
  extra: Float64Array | undefined,
): BpmfSample {
  const s: BpmfSample = {
    userBias: new Float32Array(nu),
    itemBias: new Float32Array(ni),
    userFactors: new Float32Array(nu * k),
    itemFactors: new Float32Array(ni * k),
  };
  for (let u = 0; u < nu; u++) {
    s.userBias[u] = U[u * d + k]!;
    // Effective user vector p'_u = p_u + |N(u)|^-½ Σ y_j: the implicit part folds into plain MF.
    for (let a = 0; a < k; a++) s.userFactors[u * k + a] = U[u * d + a]! + (extra ? extra[u * k + a]! : 0);
  }
  for (let i = 0; i < ni; i++) {
    s.itemBias[i] = V[i * d + k]!;
    for (let a = 0; a < k; a++) s.itemFactors[i * k + a] = V[i * d + a]!;
  }
  return s;
}

/** Average of the samples' predictions as one MF model: biases averaged, factors concatenated and scaled by 1/√S. */
export function bpmfToParams(result: BpmfResult): MFParams {
  const S = result.samples.length;
  const k = result.factors;
  const K = S * k;
  const { numUsers, numItems } = result;
  const p: MFParams = {
    factors: K,
    numUsers,
    numItems,
    globalMean: result.globalMean,
    userBias: new Float32Array(numUsers),
    itemBias: new Float32Array(numItems),
    userFactors: new Float32Array(numUsers * K),
    itemFactors: new Float32Array(numItems * K),
  };
  const w = 1 / Math.sqrt(S);
  result.samples.forEach((s, m) => {
    for (let u = 0; u < numUsers; u++) {
      p.userBias[u]! += s.userBias[u]! / S;
      for (let a = 0; a < k; a++) p.userFactors[u * K + m * k + a] = w * s.userFactors[u * k + a]!;
    }
    for (let i = 0; i < numItems; i++) {
      p.itemBias[i]! += s.itemBias[i]! / S;
      for (let a = 0; a < k; a++) p.itemFactors[i * K + m * k + a] = w * s.itemFactors[i * k + a]!;
    }
  });
  return p;
}
