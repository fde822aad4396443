import { choleskyBackSolveInPlace, choleskyInPlace, choleskySolveInPlace } from '@movierec/core';
import type { MovieTable, Rng } from '@movierec/data';
import type { Csr } from './csr.ts';
import type { Hyper } from './wishart.ts';

/**
 * Movie side features for the Bayesian model's item prior: one-hot genres (as listed in the data) and one-hot
 * release decade (<1950, 1950s, …, 2010s+; none when the year is unknown). Row-major numItems × count.
 */
export function movieFeatures(movies: MovieTable, numItems: number): { count: number; values: Float32Array } {
  const genreIndex = new Map<string, number>();
  for (let i = 0; i < numItems; i++)
    for (const g of movies.genres[i] ?? []) if (!genreIndex.has(g)) genreIndex.set(g, genreIndex.size);
  const decades = 8;
  const count = genreIndex.size + decades;
  const values = new Float32Array(numItems * count);
  for (let i = 0; i < numItems; i++) {
    for (const g of movies.genres[i] ?? []) values[i * count + genreIndex.get(g)!] = 1;
    const year = movies.years[i] ?? 0;
    if (year > 0) {
      // decade bin: <1950 → 0, 1950s → 1, …, 2010s and later → 7
      const d = Math.max(0, Math.min(decades - 1, Math.floor((year - 1940) / 10)));
      values[i * count + genreIndex.size + d] = 1;
    }
  }
  return { count, values };
}

/** The feature settings of BpmfConfig (gibbs.ts) that itemFeatureMatrix reads. */
export interface ItemFeatureSettings {
  itemFeatures?: { count: number; values: Float32Array };
  popularityFeatures?: boolean;
}

/** Item features: the given side features, plus one-hot log₂ bins of the training count when asked. */
export function itemFeatureMatrix(
  config: ItemFeatureSettings,
  byItem: Csr,
): { count: number; values: Float64Array } | undefined {
  const given = config.itemFeatures;
  const bins = config.popularityFeatures ? 9 : 0;
  const f0 = given?.count ?? 0;
  const F = f0 + bins;
  if (F === 0) return undefined;
  const n = byItem.rows;
  if (given && given.values.length !== n * f0)
    throw new Error(
      `BPMF: itemFeatures.values has ${given.values.length} entries, expected numItems × count = ${n * f0}`,
    );
  const values = new Float64Array(n * F);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < f0; f++) values[i * F + f] = given!.values[i * f0 + f]!;
    if (bins > 0) {
      const c = byItem.start[i + 1]! - byItem.start[i]!;
      // bin 0: no ratings, bin b: 2^(b−1) ≤ count < 2^b, last bin open-ended.
      const b = Math.min(bins - 1, c === 0 ? 0 : 1 + Math.floor(Math.log2(c)));
      values[i * F + f0 + b] = 1;
    }
  }
  return { count: F, values };
}

/**
 * Hierarchical regression prior x_i ~ N(μ + Bᵀ g_i, Λ⁻¹) on one side's latent rows, with
 * B | X, μ, Λ ~ MN(M, (GᵀG + λ_B I)⁻¹, Λ⁻¹), M = (GᵀG + λ_B I)⁻¹ Gᵀ (X − 1μᵀ)   (Simm et al. 2017, Macau).
 */
export class FeaturePrior {
  readonly #G: Float64Array;
  readonly #L: Float64Array;
  readonly #B: Float64Array;
  /** G B as last computed by priorShift(), on a SharedArrayBuffer (the pool's workers read it). */
  readonly shift: Float64Array;
  readonly #res: Float64Array;
  constructor(
    G: Float64Array,
    readonly n: number,
    readonly F: number,
    readonly d: number,
    lambdaB: number,
  ) {
    this.#G = G;
    const gtg = new Float64Array(F * F);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < F; a++) {
        const ga = G[i * F + a]!;
        if (ga === 0) continue;
        for (let b = 0; b < F; b++) gtg[a * F + b]! += ga * G[i * F + b]!;
      }
    for (let a = 0; a < F; a++) gtg[a * F + a]! += lambdaB;
    if (!choleskyInPlace(gtg, F)) throw new Error('BPMF: item feature Gram matrix is not positive definite');
    this.#L = gtg;
    this.#B = new Float64Array(F * d);
    this.shift = new Float64Array(new SharedArrayBuffer(8 * n * d));
    this.#res = new Float64Array(n * d);
  }

  /** X − G B: the rows with the feature part of their prior mean removed. */
  residual(X: Float64Array): Float64Array {
    const r = this.#res;
    const s = this.priorShift();
    for (let i = 0; i < r.length; i++) r[i] = X[i]! - s[i]!;
    return r;
  }

  /** G B, row-major n × d. */
  priorShift(): Float64Array {
    const { n, F, d } = this;
    const G = this.#G;
    const B = this.#B;
    const s = this.shift;
    s.fill(0);
    for (let i = 0; i < n; i++)
      for (let f = 0; f < F; f++) {
        const g = G[i * F + f]!;
        if (g === 0) continue;
        for (let a = 0; a < d; a++) s[i * d + a]! += g * B[f * d + a]!;
      }
    return s;
  }

  sampleLink(X: Float64Array, h: Hyper, rng: Rng): void {
    const { n, F, d } = this;
    const G = this.#G;
    const B = this.#B;
    // Gᵀ (X − 1μᵀ), F × d.
    const gx = new Float64Array(F * d);
    for (let i = 0; i < n; i++)
      for (let f = 0; f < F; f++) {
        const g = G[i * F + f]!;
        if (g === 0) continue;
        for (let a = 0; a < d; a++) gx[f * d + a]! += g * (X[i * d + a]! - h.mu[a]!);
      }
    // Noise Z L_Λ⁻¹ (rows with covariance Λ⁻¹), then M + L_G⁻ᵀ(...) column by column.
    const lam = new Float64Array(h.lambda);
    if (!choleskyInPlace(lam, d)) throw new Error('BPMF: sampled precision is not positive definite');
    const noise = new Float64Array(F * d);
    const row = new Float64Array(d);
    for (let f = 0; f < F; f++) {
      for (let a = 0; a < d; a++) row[a] = rng.normal();
      choleskyBackSolveInPlace(lam, d, row);
      noise.set(row, f * d);
    }
    const col = new Float64Array(F);
    const ncol = new Float64Array(F);
    for (let a = 0; a < d; a++) {
      for (let f = 0; f < F; f++) {
        col[f] = gx[f * d + a]!;
        ncol[f] = noise[f * d + a]!;
      }
      choleskySolveInPlace(this.#L, F, col);
      choleskyBackSolveInPlace(this.#L, F, ncol);
      for (let f = 0; f < F; f++) B[f * d + a] = col[f]! + ncol[f]!;
    }
  }
}
