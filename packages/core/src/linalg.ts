/**
 * In-place Cholesky factorisation of a symmetric positive-definite n×n matrix (row-major, lower triangle used):
 * A = L·Lᵀ (Golub & Van Loan, Matrix Computations, alg. 4.2.1). Returns false if A is not positive definite.
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= a[j * n + k]! * a[j * n + k]!;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / ljj;
    }
  }
  return true;
}

/** Solves L·Lᵀ·x = b in place in `b`, given the factor from choleskyInPlace (forward then back substitution). */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
}

/**
 * Ridge regression with an unpenalised-or-penalised intercept column, the step shared by fold-in and ALS:
 * solves (AᵀA + λI)·x = Aᵀy for x ∈ ℝ^(k+1) with A's rows = [f_j, 1] (f_j = factors[rows[j]·k …]), i.e. x = [p, b].
 * `gram` and `rhs` are scratch of size (k+1)² and k+1; the result is left in `rhs`.
 * Returns false if the system is singular (only possible with λ = 0).
 */
export function solveBiasedRidge(
  factors: Float32Array,
  k: number,
  rows: ArrayLike<number>,
  targets: ArrayLike<number>,
  count: number,
  lambda: number,
  lambdaBias: number,
  gram: Float64Array,
  rhs: Float64Array,
): boolean {
  const n = k + 1;
  gram.fill(0);
  rhs.fill(0);
  // the row [f_j, 1] as float64 in a reused scratch, so the k²/2 inner loop reads no float32 array
  const row = scratchRow(n);
  row[k] = 1;
  for (let j = 0; j < count; j++) {
    const base = rows[j]! * k;
    const y = targets[j]!;
    for (let a = 0; a < k; a++) row[a] = factors[base + a]!;
    // lower triangle of Σ a·aᵀ and Σ a·y
    for (let a = 0; a < n; a++) {
      const fa = row[a]!;
      rhs[a]! += fa * y;
      const rowA = a * n;
      for (let b = 0; b <= a; b++) gram[rowA + b]! += fa * row[b]!;
    }
  }
  for (let a = 0; a < k; a++) gram[a * n + a]! += lambda;
  gram[k * n + k]! += lambdaBias;
  // mirror the lower triangle so callers may inspect a full symmetric matrix
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) gram[a * n + b] = gram[b * n + a]!;
  if (!choleskyInPlace(gram, n)) return false;
  choleskySolveInPlace(gram, n, rhs);
  return true;
}

let scratch = new Float64Array(0);
function scratchRow(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  return scratch;
}
