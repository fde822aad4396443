/**
 * Small dense linear algebra on row-major Float64Array d×d matrices (d ≤ a few hundred), for the
 * per-user / per-item solves of ALS and BPMF.
 */

/** In-place Cholesky A = L Lᵀ (lower triangle of `a` becomes L). Returns false if A is not positive definite. */
export function cholesky(a: Float64Array, d: number): boolean {
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j]!;
    for (let k = 0; k < j; k++) s -= a[j * d + k]! * a[j * d + k]!;
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    a[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j]!;
      for (let k = 0; k < j; k++) t -= a[i * d + k]! * a[j * d + k]!;
      a[i * d + j] = t / ljj;
    }
    for (let k = j + 1; k < d; k++) a[j * d + k] = 0;
  }
  return true;
}

/** Solves L y = b in place (forward substitution), L lower-triangular from `cholesky`. */
export function forwardSolve(l: Float64Array, d: number, b: Float64Array): void {
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * d + k]! * b[k]!;
    b[i] = s / l[i * d + i]!;
  }
}

/** Solves Lᵀ x = y in place (back substitution). */
export function backSolve(l: Float64Array, d: number, y: Float64Array): void {
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < d; k++) s -= l[k * d + i]! * y[k]!;
    y[i] = s / l[i * d + i]!;
  }
}

/** Solves A x = b in place given A's Cholesky factor L: x = L⁻ᵀ L⁻¹ b. */
export function cholSolve(l: Float64Array, d: number, b: Float64Array): void {
  forwardSolve(l, d, b);
  backSolve(l, d, b);
}

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
