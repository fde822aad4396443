import {
  choleskyBackSolveInPlace,
  choleskyInPlace,
  choleskyInverse,
  choleskySolveInPlace,
} from '@movierec/core';
import type { Rng } from '@movierec/data';
import type { Workspace } from './workspace.ts';

/** Hyper-parameters of one side's Gaussian prior: mean μ and precision Λ (d × d, row-major). */
export interface Hyper {
  mu: Float64Array;
  lambda: Float64Array;
}

/**
 * Draws (μ, Λ) from the Gaussian–Wishart posterior given the latent rows X (n × d):
 *   β* = β0 + n, ν* = ν0 + n, μ* = n x̄ / β*, (W*)⁻¹ = I + n S̄ + (β0 n / β*) x̄ x̄ᵀ,
 *   Λ ~ Wishart(W*, ν*), μ ~ N(μ*, (β* Λ)⁻¹)    (Salakhutdinov & Mnih 2008, eq. 14).
 */
export function sampleHyper(
  X: Float64Array,
  n: number,
  d: number,
  beta0: number,
  rng: Rng,
  ws: Workspace,
): Hyper {
  const xbar = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let a = 0; a < d; a++) xbar[a]! += X[r * d + a]!;
  for (let a = 0; a < d; a++) xbar[a]! /= n;
  const winv = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let a = 0; a < d; a++) {
      const xa = X[o + a]! - xbar[a]!;
      for (let b = 0; b <= a; b++) winv[a * d + b]! += xa * (X[o + b]! - xbar[b]!);
    }
  }
  const betaStar = beta0 + n;
  const nu = d + n;
  const c = (beta0 * n) / betaStar;
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const v = winv[a * d + b]! + c * xbar[a]! * xbar[b]! + (a === b ? 1 : 0);
      winv[a * d + b] = v;
      winv[b * d + a] = v;
    }
  }
  // W* = (W*⁻¹)⁻¹, then its Cholesky factor for the Bartlett decomposition.
  if (!choleskyInPlace(winv, d))
    throw new Error('BPMF: hyper-posterior scale matrix is not positive definite');
  const w = new Float64Array(d * d);
  choleskyInverse(winv, d, w);
  if (!choleskyInPlace(w, d)) throw new Error('BPMF: hyper-posterior scale matrix is not positive definite');
  // Bartlett: Λ = (L A)(L A)ᵀ, A lower-triangular, A_aa = √χ²(ν − a), A_ab ~ N(0, 1) below the diagonal.
  const A = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    A[a * d + a] = Math.sqrt(2 * rng.gamma((nu - a) / 2));
    for (let b = 0; b < a; b++) A[a * d + b] = rng.normal();
  }
  const LA = new Float64Array(d * d);
  for (let a = 0; a < d; a++)
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let m = b; m <= a; m++) s += w[a * d + m]! * A[m * d + b]!;
      LA[a * d + b] = s;
    }
  const lambda = new Float64Array(d * d);
  for (let a = 0; a < d; a++)
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let m = 0; m <= b; m++) s += LA[a * d + m]! * LA[b * d + m]!;
      lambda[a * d + b] = s;
      lambda[b * d + a] = s;
    }
  // μ ~ N(μ*, (β* Λ)⁻¹): μ* + L⁻ᵀ z with L = chol(β* Λ).
  const bl = ws.cov;
  for (let i = 0; i < d * d; i++) bl[i] = betaStar * lambda[i]!;
  if (!choleskyInPlace(bl, d)) throw new Error('BPMF: sampled precision is not positive definite');
  const z = new Float64Array(d);
  for (let a = 0; a < d; a++) z[a] = rng.normal();
  choleskyBackSolveInPlace(bl, d, z);
  const mu = new Float64Array(d);
  for (let a = 0; a < d; a++) mu[a] = (n * xbar[a]!) / betaStar + z[a]!;
  return { mu, lambda };
}

/**
 * x ~ N(Λ⁻¹ b, Λ⁻¹) given the precision Λ (lower triangle of `prec`, factored in place) and b (`rhs`, which ends
 * up holding the mean Λ⁻¹b): with Λ = L Lᵀ, x = L⁻ᵀ L⁻¹ b + L⁻ᵀ z, z ~ N(0, I) (Rue 2001, alg. 2.5).
 * The draw is written into out[at … at+d). `what` names the matrix in the error when Λ is not positive definite.
 */
export function drawGaussian(
  prec: Float64Array,
  rhs: Float64Array,
  d: number,
  rng: Rng,
  z: Float64Array,
  out: Float64Array,
  at: number,
  what: string,
): void {
  if (!choleskyInPlace(prec, d)) throw new Error(`${what} is not positive definite`);
  choleskySolveInPlace(prec, d, rhs);
  for (let a = 0; a < d; a++) z[a] = rng.normal();
  choleskyBackSolveInPlace(prec, d, z);
  for (let a = 0; a < d; a++) out[at + a] = rhs[a]! + z[a]!;
}
