import { GEMM_WASM_BASE64 } from './gemm-wasm.ts';
import {
  choleskyBackSolveInPlace,
  choleskyInPlace,
  lowRankProduct,
  orthonormaliseColumns,
} from './linalg.ts';
import { compileWasm, type Gemm, wasm } from './wasm.ts';

const align16 = (n: number) => (n + 15) & ~15;
const up8 = (n: number) => (n + 7) & ~7;

/**
 * The products of a randomized SVD of M = P Qᵀ (Halko, Martinsson & Tropp 2011) for fixed float32 factor matrices
 * P (n × K) and Q (m × K), row-major: `pqx(X) = P (Qᵀ X)` (n × l from m × l) and `qpx(Y) = Q (Pᵀ Y)` (m × l from n × l),
 * each without forming the n × m matrix M; plus the small dense steps around them (gram, multiply, orthonormalise).
 * With WebAssembly SIMD (wasm/gemm.wat) P and Q live in the kernel's memory — fill the `P` and `Q` views after
 * construction, or use `LowRankProducts.of` to copy them in — and each product is blocked GEMMs on f64x2 lanes;
 * otherwise, or with `simd: false`, scalar loops (linalg.ts's lowRankProduct, the reference the tests compare against).
 * Both compute in float64.
 */
export class LowRankProducts {
  /** P (n × K), to be filled by the caller before the first product. */
  readonly P: Float32Array;
  /** Q (m × K), likewise. */
  readonly Q: Float32Array;
  readonly #n: number;
  readonly #m: number;
  readonly #K: number;
  readonly #gemm: Gemm | undefined;
  readonly #gemm64: Gemm | undefined;
  readonly #buffer: ArrayBuffer | undefined;
  readonly #pPtr: number = 0;
  readonly #qPtr: number = 0;
  readonly #xPtr: number = 0;
  readonly #tPtr: number = 0;
  readonly #outPtr: number = 0;
  readonly #scratchPtr: number = 0;
  readonly #maxL: number;
  #backup = new Float64Array(0);

  /** Copies P (n × K) and Q (m × K) into a new instance. */
  static of(
    P: Float32Array,
    Q: Float32Array,
    n: number,
    m: number,
    K: number,
    maxL: number,
    options: { simd?: boolean } = {},
  ): LowRankProducts {
    if (P.length < n * K || Q.length < m * K)
      throw new RangeError(`LowRankProducts: P holds ${P.length} < ${n}×${K} or Q ${Q.length} < ${m}×${K}`);
    const M = new LowRankProducts(n, m, K, maxL, options);
    M.P.set(P.subarray(0, n * K));
    M.Q.set(Q.subarray(0, m * K));
    return M;
  }

  /** Room for P (n × K), Q (m × K) and products of up to maxL columns; P and Q start at zero. */
  constructor(n: number, m: number, K: number, maxL: number, options: { simd?: boolean } = {}) {
    for (const [name, v] of [
      ['n', n],
      ['m', m],
      ['K', K],
      ['maxL', maxL],
    ] as const)
      if (!(Number.isInteger(v) && v >= (name === 'maxL' ? 1 : 0)))
        throw new RangeError(`LowRankProducts: ${name} must be a non-negative integer, got ${v}`);
    this.#n = n;
    this.#m = m;
    this.#K = K;
    this.#maxL = maxL;
    const module = options.simd === false ? null : compileWasm(GEMM_WASM_BASE64);
    const lp = up8(maxL);
    const rows = Math.max(n, m);
    const pPtr = 16;
    const qPtr = align16(pPtr + n * K * 4);
    const xPtr = align16(qPtr + m * K * 4);
    const tPtr = align16(xPtr + rows * lp * 8);
    const outPtr = align16(tPtr + Math.max(K, maxL) * lp * 8);
    const scratchPtr = align16(outPtr + rows * lp * 8);
    const pages = Math.ceil((scratchPtr + lp * 8 + 16) / 65536);
    // over wasm32's 4 GiB: the scalar path
    if (!module || pages > 65536) {
      this.P = new Float32Array(n * K);
      this.Q = new Float32Array(m * K);
      return;
    }
    const memory = new wasm.Memory({ initial: pages, maximum: pages });
    const instance = new wasm.Instance(module, { env: { memory } });
    ({ gemm: this.#gemm, gemm64: this.#gemm64 } = instance.exports as { gemm: Gemm; gemm64: Gemm });
    this.#buffer = memory.buffer;
    this.#pPtr = pPtr;
    this.#qPtr = qPtr;
    this.#xPtr = xPtr;
    this.#tPtr = tPtr;
    this.#outPtr = outPtr;
    this.#scratchPtr = scratchPtr;
    this.P = new Float32Array(this.#buffer, pPtr, n * K);
    this.Q = new Float32Array(this.#buffer, qPtr, m * K);
  }

  /** True when the SIMD kernel is in use. */
  get simd(): boolean {
    return this.#gemm !== undefined;
  }

  /** P (Qᵀ X): X is m × l (row-major float64), the result n × l (into `out` if given; X may be `out`). */
  pqx(X: Float64Array, l: number, out?: Float64Array): Float64Array {
    return this.#product(true, X, l, out);
  }

  /** Q (Pᵀ Y): Y is n × l, the result m × l (into `out` if given; Y may be `out`). */
  qpx(Y: Float64Array, l: number, out?: Float64Array): Float64Array {
    return this.#product(false, Y, l, out);
  }

  #product(pSide: boolean, X: Float64Array, l: number, into?: Float64Array): Float64Array {
    const K = this.#K;
    const [nA, nB] = pSide ? [this.#n, this.#m] : [this.#m, this.#n];
    if (!(l >= 1 && l <= this.#maxL))
      throw new RangeError(`LowRankProducts: l = ${l} outside 1…${this.#maxL}`);
    if (X.length < nB * l) throw new RangeError(`LowRankProducts: X holds ${X.length} < ${nB}×${l}`);
    const gemm = this.#gemm;
    const buffer = this.#buffer;
    if (!gemm || !buffer) {
      const r = pSide
        ? lowRankProduct(this.P, this.Q, X, nA, nB, K, l)
        : lowRankProduct(this.Q, this.P, X, nA, nB, K, l);
      if (!into) return r;
      into.set(r);
      return into;
    }
    const [aPtr, bPtr] = pSide ? [this.#pPtr, this.#qPtr] : [this.#qPtr, this.#pPtr];
    const lp = up8(l);
    this.#load(X, nB, l, lp, this.#xPtr);
    // T = Bᵀ X (K × lp): T[a, c] = Σ_j B[j, a] X[j, c]; F = Bᵀ through swapped strides (row a = column a of B)
    new Float64Array(buffer, this.#tPtr, K * lp).fill(0);
    this.#run(gemm, bPtr, 4, K * 4, this.#xPtr, this.#tPtr, K, nB, lp);
    // out = A T (nA × lp): out[i, c] = Σ_a A[i, a] T[a, c]
    const out = new Float64Array(buffer, this.#outPtr, nA * lp);
    out.fill(0);
    this.#run(gemm, aPtr, K * 4, 4, this.#tPtr, this.#outPtr, nA, K, lp);
    return unpad(out, nA, lp, l, into);
  }

  /**
   * C += F V over the Q dimension in panels of V (block × L float64) of at most 16 KiB, so each panel stays in L1
   * while every row of C streams past. F at byte strides fp (rows) and fq (columns); V and C row-major, L columns.
   */
  #run(
    gemm: Gemm,
    F: number,
    fp: number,
    fq: number,
    V: number,
    C: number,
    P: number,
    Q: number,
    L: number,
  ): void {
    const ld = L * 8;
    const block = Math.max(8, Math.floor(16384 / ld));
    for (let q0 = 0; q0 < Q; q0 += block)
      gemm(F + q0 * fq, fp, fq, V + q0 * ld, ld, C, ld, P, Math.min(block, Q - q0), L, this.#scratchPtr);
  }

  /** X (rows × l, row-major float64) into the kernel at `ptr`, rows padded with zeros to lp columns. */
  #load(X: Float64Array, rows: number, l: number, lp: number, ptr: number): void {
    const x = new Float64Array(this.#buffer!, ptr, rows * lp);
    if (lp === l) x.set(X.subarray(0, rows * l));
    else
      for (let j = 0; j < rows; j++) {
        for (let c = 0; c < l; c++) x[j * lp + c] = X[j * l + c]!;
        x.fill(0, j * lp + l, (j + 1) * lp);
      }
  }

  #checkRows(rows: number, l: number): void {
    if (!(rows >= 0 && rows <= Math.max(this.#n, this.#m)))
      throw new RangeError(
        `LowRankProducts: ${rows} rows, at most max(n, m) = ${Math.max(this.#n, this.#m)}`,
      );
    if (!(l >= 1 && l <= this.#maxL))
      throw new RangeError(`LowRankProducts: l = ${l} outside 1…${this.#maxL}`);
  }

  /** The Gram matrix G = Xᵀ X (l × l) of X (rows × l, rows ≤ max(n, m), l ≤ maxL). */
  gram(X: Float64Array, rows: number, l: number): Float64Array {
    this.#checkRows(rows, l);
    const gemm = this.#gemm64;
    if (!gemm || !this.#buffer) {
      const G = new Float64Array(l * l);
      // lower triangle of Σ_i x_i x_iᵀ, then mirrored
      for (let i = 0; i < rows; i++)
        for (let a = 0; a < l; a++) {
          const x = X[i * l + a]!;
          if (x === 0) continue;
          for (let b = 0; b <= a; b++) G[a * l + b]! += x * X[i * l + b]!;
        }
      for (let a = 0; a < l; a++) for (let b = 0; b < a; b++) G[b * l + a] = G[a * l + b]!;
      return G;
    }
    const lp = up8(l);
    this.#load(X, rows, l, lp, this.#xPtr);
    const G = new Float64Array(this.#buffer, this.#tPtr, l * lp);
    G.fill(0);
    // G[a, c] = Σ_i X[i, a] X[i, c]: F = Xᵀ through swapped strides
    this.#run(gemm, this.#xPtr, 8, lp * 8, this.#xPtr, this.#tPtr, l, rows, lp);
    return unpad(G, l, lp, l);
  }

  /** X W: X rows × l, W l × r (row-major float64, r ≤ maxL), the result rows × r (into `into` if given; may be X). */
  multiply(
    X: Float64Array,
    rows: number,
    l: number,
    W: Float64Array,
    r: number,
    into?: Float64Array,
  ): Float64Array {
    this.#checkRows(rows, l);
    this.#checkRows(0, r);
    const gemm = this.#gemm64;
    if (!gemm || !this.#buffer) {
      const out = new Float64Array(rows * r);
      for (let i = 0; i < rows; i++)
        for (let a = 0; a < l; a++) {
          const x = X[i * l + a]!;
          if (x === 0) continue;
          for (let c = 0; c < r; c++) out[i * r + c]! += x * W[a * r + c]!;
        }
      if (!into) return out;
      into.set(out);
      return into;
    }
    const rp = up8(r);
    this.#load(X, rows, l, l, this.#xPtr);
    this.#load(W, l, r, rp, this.#tPtr);
    const out = new Float64Array(this.#buffer, this.#outPtr, rows * rp);
    out.fill(0);
    this.#run(gemm, this.#xPtr, l * 8, 8, this.#tPtr, this.#outPtr, rows, l, rp);
    return unpad(out, rows, rp, r, into);
  }

  /**
   * Orthonormalises the columns of X (rows × l) in place: X = Q R, X ← Q. With the SIMD kernel by shifted
   * Cholesky QR3 (Fukaya, Kannan, Nakatsukasa, Yamamoto & Yanagisawa, SIAM J. Sci. Comput. 2020): R from
   * chol(XᵀX + sI), s = 11(rows·l + l(l+1))·u·‖X‖_F², then two plain Cholesky QR passes (G = XᵀX = RᵀR, X ← X R⁻¹) —
   * Gram matrices and products, all blocked GEMMs. Falls back to linalg's CGS2 (the scalar path) when a Cholesky
   * factor breaks down (X numerically rank-deficient) — both give the Q of the unique QR with R's diagonal > 0.
   */
  orthonormalise(X: Float64Array, rows: number, l: number): void {
    if (!this.#gemm64 || rows < l) {
      orthonormaliseColumns(X, rows, l);
      return;
    }
    // X is worked on in place; the original is kept for the fallback (a scratch reused across calls: fresh memory
    // costs page faults)
    if (this.#backup.length < rows * l)
      this.#backup = new Float64Array(Math.max(this.#n, this.#m) * this.#maxL);
    const original = this.#backup.subarray(0, rows * l);
    original.set(X.subarray(0, rows * l));
    const fallback = () => {
      X.set(original);
      orthonormaliseColumns(X, rows, l);
    };
    const Y = X;
    for (let pass = 0; pass < 3; pass++) {
      const G = this.gram(Y, rows, l);
      if (pass === 0) {
        let trace = 0;
        for (let a = 0; a < l; a++) trace += G[a * l + a]!;
        const shift = 11 * (rows * l + l * (l + 1)) * 2 ** -53 * trace;
        for (let a = 0; a < l; a++) G[a * l + a]! += shift;
      }
      let maxDiag = 0;
      for (let a = 0; a < l; a++) maxDiag = Math.max(maxDiag, G[a * l + a]!);
      // G = L Lᵀ (L = Rᵀ). Past the shifted pass X is well conditioned (κ ≲ 10⁴) unless it is numerically
      // rank-deficient, which shows as a tiny pivot: then CGS2.
      if (!choleskyInPlace(G, l) || !pivotsAbove(G, l, (pass === 0 ? 1e-14 : 1e-10) * maxDiag)) {
        fallback();
        return;
      }
      // W = R⁻¹ = L⁻ᵀ, column c = L⁻ᵀ e_c (back substitution), upper triangular
      const W = new Float64Array(l * l);
      const e = new Float64Array(l);
      for (let c = 0; c < l; c++) {
        e.fill(0);
        e[c] = 1;
        choleskyBackSolveInPlace(G, l, e);
        for (let r = 0; r <= c; r++) W[r * l + c] = e[r]!;
      }
      this.multiply(Y, rows, l, W, l, Y);
    }
    // the result must be orthonormal (‖QᵀQ − I‖_max ≤ 1e-10); otherwise CGS2 from the original X
    const G = this.gram(Y, rows, l);
    for (let a = 0; a < l; a++)
      for (let b = 0; b < l; b++)
        if (!(Math.abs(G[a * l + b]! - (a === b ? 1 : 0)) <= 1e-10)) {
          fallback();
          return;
        }
  }
}

/** True when every diagonal entry of the Cholesky factor L satisfies L_aa² > floor. */
function pivotsAbove(L: Float64Array, l: number, floor: number): boolean {
  for (let a = 0; a < l; a++) if (!(L[a * l + a]! ** 2 > floor)) return false;
  return true;
}

/** The first l of lp columns of a rows × lp kernel matrix, as a rows × l array (`into`, or a new one). */
function unpad(m: Float64Array, rows: number, lp: number, l: number, into?: Float64Array): Float64Array {
  if (into && into.length < rows * l)
    throw new RangeError(`LowRankProducts: out holds ${into.length} < ${rows}×${l}`);
  if (lp === l) {
    if (!into) return m.slice(0, rows * l);
    into.set(m.subarray(0, rows * l));
    return into;
  }
  const out = into ?? new Float64Array(rows * l);
  for (let i = 0; i < rows; i++) for (let c = 0; c < l; c++) out[i * l + c] = m[i * lp + c]!;
  return out;
}
