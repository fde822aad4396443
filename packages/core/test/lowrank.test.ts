import { Rng } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import { Float64Arena } from '../src/dense.ts';
import { lowRankProduct, orthonormaliseColumns } from '../src/linalg.ts';
import { LowRankProducts } from '../src/lowrank.ts';

const normals = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
};
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

describe('LowRankProducts (wasm/gemm.wat)', () => {
  it('runs the committed module compiled from wasm/gemm.wat', async () => {
    const { compileWat } = await import('../wasm/build.ts');
    const { GEMM_WASM_BASE64 } = await import('../src/gemm-wasm.ts');
    expect(Buffer.from(await compileWat('gemm.wat')).toString('base64')).toBe(GEMM_WASM_BASE64);
    const { GEMM_SHARED_WASM_BASE64 } = await import('../src/gemm-shared-wasm.ts');
    expect(Buffer.from(await compileWat('gemm.wat', { shared: true })).toString('base64')).toBe(
      GEMM_SHARED_WASM_BASE64,
    );
  });

  // odd sizes on purpose: odd row counts (the kernel's paired rows), l not a multiple of 8 (padding), K odd
  const n = 37;
  const m = 53;
  const K = 13;
  const P = Float32Array.from(normals(n * K, 1));
  const Q = Float32Array.from(normals(m * K, 2));
  const simd = LowRankProducts.of(P, Q, n, m, K, 11);
  const scalar = LowRankProducts.of(P, Q, n, m, K, 11, { simd: false });

  it('computes P(QᵀX) and Q(PᵀY) exactly as the scalar reference (same float64 sums in the same order)', () => {
    expect(simd.simd).toBe(true);
    expect(scalar.simd).toBe(false);
    for (const l of [1, 8, 11]) {
      const X = normals(m * l, 3 + l);
      const Y = normals(n * l, 4 + l);
      const ref = lowRankProduct(P, Q, X, n, m, K, l);
      expect(simd.pqx(X, l)).toEqual(ref);
      expect(scalar.pqx(X, l)).toEqual(ref);
      expect(maxAbsDiff(simd.qpx(Y, l), lowRankProduct(Q, P, Y, m, n, K, l))).toBe(0);
    }
    expect(() => simd.pqx(new Float64Array(m * 12), 12)).toThrow(/l = 12 outside 1…11/);
  });

  it('computes Gram matrices and products like the scalar loops', () => {
    const l = 11;
    const X = normals(m * l, 5);
    const W = normals(l * 7, 6);
    expect(maxAbsDiff(simd.gram(X, m, l), scalar.gram(X, m, l))).toBeLessThan(1e-12);
    expect(maxAbsDiff(simd.multiply(X, m, l, W, 7), scalar.multiply(X, m, l, W, 7))).toBeLessThan(1e-12);
  });

  it('orthonormalises by shifted Cholesky QR to the Q of CGS2 / modified Gram–Schmidt', () => {
    const l = 11;
    // ill-conditioned columns: scaled over ten orders of magnitude
    const X = normals(m * l, 7);
    for (let i = 0; i < m; i++) for (let c = 0; c < l; c++) X[i * l + c]! *= 10 ** -c;
    const a = X.slice();
    const b = X.slice();
    simd.orthonormalise(a, m, l);
    orthonormaliseColumns(b, m, l);
    const G = scalar.gram(a, m, l);
    for (let r = 0; r < l; r++)
      for (let c = 0; c < l; c++) expect(G[r * l + c]).toBeCloseTo(r === c ? 1 : 0, 10);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
    // rank-deficient input (two equal columns) falls back to CGS2 and stays orthonormal where it can
    const d = normals(m * 3, 8);
    for (let i = 0; i < m; i++) d[i * 3 + 2] = d[i * 3]!;
    simd.orthonormalise(d, m, 3);
    const Gd = scalar.gram(d, m, 3);
    expect(Gd[0]).toBeCloseTo(1, 10);
    expect(Gd[4]).toBeCloseTo(1, 10);
    expect(Gd[1]).toBeCloseTo(0, 10);
    // rank 2 in 11 columns: the columns that carry a direction are those of CGS2
    const r = normals(m * l, 9);
    for (let i = 0; i < m; i++) for (let c = 2; c < l; c++) r[i * l + c] = r[i * l + (c % 2)]! * c;
    const ra = r.slice();
    const rb = r.slice();
    simd.orthonormalise(ra, m, l);
    orthonormaliseColumns(rb, m, l);
    for (let i = 0; i < m; i++)
      for (let c = 0; c < 2; c++) expect(ra[i * l + c]).toBeCloseTo(rb[i * l + c]!, 8);
    // and every column is orthonormal, those spanned by earlier ones too (CGS2 reorthogonalises them until clean)
    for (const q of [ra, rb]) {
      const Gq = scalar.gram(q, m, l);
      for (let x = 0; x < l; x++)
        for (let y = 0; y < l; y++) expect(Math.abs(Gq[x * l + y]! - (x === y ? 1 : 0))).toBeLessThan(1e-12);
    }
  });
});

describe('Float64Arena (wasm/gemm.wat gemm64)', () => {
  it('adds F·V into C exactly as its scalar loop, F read through strides (Fᵀ too), odd P, L past one column chunk', () => {
    const P = 7;
    const Q = 45;
    const L = 136;
    const run = (simd: boolean, transposed: boolean, shared = false) => {
      const arena = new Float64Arena((P * Q + Q * L + P * L) * 8, L, { simd, shared });
      expect(arena.buffer instanceof SharedArrayBuffer).toBe(shared);
      expect(arena.shared !== undefined).toBe(shared && simd);
      expect(arena.simd).toBe(simd);
      arena.f64(0, P * Q).set(normals(P * Q, 11));
      arena.f64(P * Q * 8, Q * L).set(normals(Q * L, 12));
      arena.f64((P * Q + Q * L) * 8, P * L).set(normals(P * L, 13));
      const [fp, fq] = transposed ? [8, P * 8] : [Q * 8, 8];
      arena.gemm64(0, fp, fq, P * Q * 8, L * 8, (P * Q + Q * L) * 8, L * 8, P, Q, L);
      return arena.f64((P * Q + Q * L) * 8, P * L).slice();
    };
    for (const transposed of [false, true]) {
      const reference = run(false, transposed);
      expect(run(true, transposed)).toEqual(reference);
      // over a shared memory (worker threads): the same kernel, the same sums
      expect(run(true, transposed, true)).toEqual(reference);
      expect(run(false, transposed, true)).toEqual(reference);
    }
    const a = new Float64Arena(64, 8);
    expect(() => a.gemm64(0, 8, 8, 0, 8, 0, 8, 1, 1, 5)).toThrow(/L = 5 is not a multiple of 8/);
  });
});
