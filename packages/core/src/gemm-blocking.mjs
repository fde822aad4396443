// The GEMM's cache blocking as plain JavaScript with no imports, so that core's Float64Arena (dense.ts) and the
// trainer's worker threads (engines/ease-sweep.mjs) run the one copy of it. Types: gemm-blocking.d.mts.

/**
 * C[p, c] += Σ_q F[p, q]·V[q, c] (byte offsets and strides, L a multiple of 8) by a raw `gemm64` kernel (wasm/gemm.wat's
 * export, or the scalar loop of the same summation order): column chunks of ≤ 128 and q-panels of ≤ 16 KiB of V, so
 * the panel a chunk reads stays in L1 for every row of C. `scratch`: a row of L doubles for an odd P's spare row.
 */
export function blockedGemm64(kernel, scratch) {
  return (F, fp, fq, V, ldv, C, ldc, P, Q, L) => {
    const chunk = Math.min(L, 128);
    const block = Math.max(8, Math.floor(16384 / (chunk * 8)));
    for (let c0 = 0; c0 < L; c0 += chunk)
      for (let q0 = 0; q0 < Q; q0 += block)
        kernel(
          F + q0 * fq,
          fp,
          fq,
          V + q0 * ldv + c0 * 8,
          ldv,
          C + c0 * 8,
          ldc,
          P,
          Math.min(block, Q - q0),
          Math.min(chunk, L - c0),
          scratch,
        );
  };
}
