/**
 * Small dense linear algebra on row-major Float64Array d×d matrices (d ≤ a few hundred), for the
 * per-user / per-item solves of ALS and BPMF.
 */
import { choleskyInPlace, choleskySolveInPlace } from '@movierec/core';

/**
 * In-place Cholesky A = L Lᵀ (core's choleskyInPlace; the upper triangle is then zeroed so `a` holds exactly L).
 * Returns false if A is not positive definite.
 */
export function cholesky(a: Float64Array, d: number): boolean {
  if (!choleskyInPlace(a, d)) return false;
  for (let j = 0; j < d; j++) for (let k = j + 1; k < d; k++) a[j * d + k] = 0;
  return true;
}

/** Solves Lᵀ x = y in place (back substitution), L lower-triangular from `cholesky`. */
export function backSolve(l: Float64Array, d: number, y: Float64Array): void {
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < d; k++) s -= l[k * d + i]! * y[k]!;
    y[i] = s / l[i * d + i]!;
  }
}

/** Solves A x = b in place given A's Cholesky factor L: x = L⁻ᵀ L⁻¹ b (core's choleskySolveInPlace). */
export const cholSolve = choleskySolveInPlace;

/** Inverse of a symmetric positive-definite matrix from its Cholesky factor, written into `out`. */
export function cholInverse(l: Float64Array, d: number, out: Float64Array): void {
  const e = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    e.fill(0);
    e[c] = 1;
    cholSolve(l, d, e);
    for (let r = 0; r < d; r++) out[r * d + c] = e[r]!;
  }
}
