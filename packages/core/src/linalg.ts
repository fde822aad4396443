/** Dense linear algebra on row-major Float64Array matrices — the one module for the model (fold-in), the trainer (ALS, BPMF, SVD compression) and the tests. */
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

/** Solves Lᵀ·x = y in place in `y` (back substitution), L lower-triangular from choleskyInPlace (upper triangle unread). */
export function choleskyBackSolveInPlace(l: Float64Array, n: number, y: Float64Array): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
}

/** A⁻¹ of a symmetric positive-definite matrix from its Cholesky factor L, column by column: A⁻¹e_c = L⁻ᵀL⁻¹e_c. */
export function choleskyInverse(l: Float64Array, n: number, out: Float64Array): void {
  const e = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    e.fill(0);
    e[c] = 1;
    choleskySolveInPlace(l, n, e);
    for (let r = 0; r < n; r++) out[r * n + c] = e[r]!;
  }
}

/** Cyclic Jacobi eigen-decomposition of a symmetric l × l matrix (Golub & Van Loan §8.5); vectors in columns. */
export function symmetricEigen(S: Float64Array, l: number): { values: Float64Array; vectors: Float64Array } {
  const A = S.slice();
  const V = new Float64Array(l * l);
  for (let a = 0; a < l; a++) V[a * l + a] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < l; p++) for (let q = p + 1; q < l; q++) off += A[p * l + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < l; p++)
      for (let q = p + 1; q < l; q++) {
        const apq = A[p * l + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        // Rotation angle: θ = (a_qq − a_pp) / (2 a_pq), t = sign(θ) / (|θ| + √(θ² + 1)).
        const theta = (A[q * l + q]! - A[p * l + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < l; k++) {
          const akp = A[k * l + p]!;
          const akq = A[k * l + q]!;
          A[k * l + p] = c * akp - s * akq;
          A[k * l + q] = s * akp + c * akq;
        }
        for (let k = 0; k < l; k++) {
          const apk = A[p * l + k]!;
          const aqk = A[q * l + k]!;
          A[p * l + k] = c * apk - s * aqk;
          A[q * l + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < l; k++) {
          const vkp = V[k * l + p]!;
          const vkq = V[k * l + q]!;
          V[k * l + p] = c * vkp - s * vkq;
          V[k * l + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(l);
  for (let a = 0; a < l; a++) values[a] = A[a * l + a]!;
  return { values, vectors: V };
}

/**
 * Orthonormalises the l columns of the row-major n × l matrix X by classical Gram–Schmidt with reorthogonalisation
 * (CGS2, Giraud, Langou, Rozložník & van den Eshof 2005; Golub & Van Loan §5.2.7):
 *   x_c ← x_c − X_{<c} (X_{<c}ᵀ x_c), repeated while it removes more than half of x_c's norm (Kahan–Parlett's
 *   criterion; "twice is enough" except for a column numerically in the span of the earlier ones), then x_c ← x_c / ‖x_c‖.
 * Each step is a pass over contiguous rows (the dots of x_c with every earlier column at once), which a row-major
 * matrix serves from cache; column-at-a-time modified Gram–Schmidt strode through memory. A column with no norm
 * left becomes 0.
 */
export function orthonormaliseColumns(X: Float64Array, n: number, l: number): void {
  const dots = new Float64Array(l);
  const norm = (c: number) => {
    let s = 0;
    for (let i = 0, at = c; i < n; i++, at += l) s += X[at]! ** 2;
    return Math.sqrt(s);
  };
  for (let c = 0; c < l; c++) {
    let before = norm(c);
    for (let pass = 0; pass < 5 && c > 0; pass++) {
      dots.fill(0, 0, c);
      // dots_b = Σ_i X[i,b] X[i,c]
      for (let i = 0, row = 0; i < n; i++, row += l) {
        const x = X[row + c]!;
        if (x === 0) continue;
        for (let b = 0; b < c; b++) dots[b]! += X[row + b]! * x;
      }
      // X[i,c] -= Σ_b dots_b X[i,b]
      for (let i = 0, row = 0; i < n; i++, row += l) {
        let s = 0;
        for (let b = 0; b < c; b++) s += dots[b]! * X[row + b]!;
        X[row + c]! -= s;
      }
      const after = norm(c);
      if (pass >= 1 && after > 0.5 * before) break;
      before = after;
    }
    const r = norm(c);
    const inv = r > 1e-300 ? 1 / r : 0;
    for (let i = 0, at = c; i < n; i++, at += l) X[at]! *= inv;
  }
}

/** A (n × K) · (Bᵀ (m × K) · X (m × l)) = A Bᵀ X, an n × l product without forming the n × m matrix A Bᵀ. */
export function lowRankProduct(
  A: Float32Array,
  B: Float32Array,
  X: Float64Array,
  n: number,
  m: number,
  K: number,
  l: number,
): Float64Array {
  const T = new Float64Array(K * l);
  for (let j = 0; j < m; j++)
    for (let a = 0; a < K; a++) {
      const b = B[j * K + a]!;
      if (b === 0) continue;
      const o = a * l;
      for (let c = 0; c < l; c++) T[o + c]! += b * X[j * l + c]!;
    }
  const out = new Float64Array(n * l);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < K; a++) {
      const x = A[i * K + a]!;
      if (x === 0) continue;
      const o = a * l;
      for (let c = 0; c < l; c++) out[i * l + c]! += x * T[o + c]!;
    }
  return out;
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
