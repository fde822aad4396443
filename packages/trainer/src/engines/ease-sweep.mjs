// The parts of EASE's dense algebra (ease.ts) that split across threads, as plain JavaScript importing only plain
// JavaScript (core's GEMM blocking), so the same code runs on the main thread (one thread) and in the training pool's
// workers (rows-worker.mjs) under node, tsx and vitest. Everything works on one float64 memory (core's Float64Arena, shared between threads):
//   A    mp × mp at byte 0: G = XᵀX + λI (lower triangle), swept in place into −G⁻¹;
//   Rw   kb × mp at rwPtr: the rows of the block K being swept, A_K,: ;
//   Un   kb × mp at unPtr: −D·Rw, D = A_KK⁻¹;
//   Dn   kb × kb at dnPtr: −D.
// Each step is cut into parts fixed by the data (not by the thread count) that threads take from a shared counter;
// no two parts write the same entry, and each entry's sum runs in the same order whichever thread computes it (the
// GEMM adds an entry's products in q order however its rows and columns are split), so the result is bit-identical
// for any thread count. Types: ease-sweep.d.mts.

/** Columns per part of the Un step. */
export const UN_COLUMNS = 128;

// the GEMM's blocking over a raw gemm64 kernel: core's one copy, plain JavaScript as this file
export { blockedGemm64 } from '@movierec/core/gemm-blocking';

/**
 * Rows a0…a1 of G = XᵀX's lower triangle: G[a, b] += 1 for every user holding both kept items a and b (b ≤ a), from
 * each user's kept items as ascending distinct positions (`offsets`, `positions`: a CSR over users). The entries
 * are counts (exact in float64), so any split gives the same G.
 */
export function easeGramRows(A, mp, offsets, positions, a0, a1) {
  const users = offsets.length - 1;
  for (let u = 0; u < users; u++) {
    const from = offsets[u];
    const to = offsets[u + 1];
    // the first x with positions[x] ≥ a0 (binary search: positions ascend within a user)
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (positions[mid] < a0) lo = mid + 1;
      else hi = mid;
    }
    for (let x = lo; x < to; x++) {
      const a = positions[x];
      if (a >= a1) break;
      const row = a * mp;
      for (let y = from; y <= x; y++) A[row + positions[y]] += 1;
    }
  }
}

/** Part `c` of Un = Dn·Rw (Un zeroed): its columns c·128 … (c + 1)·128 (kb × kb times kb × columns). */
export function easeUnPart(gemm, layout, kb, c) {
  const { mp, rwPtr, unPtr, dnPtr } = layout;
  const row = mp * 8;
  const c0 = c * UN_COLUMNS;
  const c1 = Math.min(mp, c0 + UN_COLUMNS);
  gemm(dnPtr, kb * 8, 8, rwPtr + c0 * 8, row, unPtr + c0 * 8, row, kb, kb, c1 - c0);
}

/** Parts of the rank-kb update: row blocks of `nb`, the costliest (last, widest) first. */
export function easeUpdateParts(mp, nb) {
  return Math.ceil(mp / nb);
}

/**
 * Part `i` of the rank-kb update of the block K = k0 … k0 + kb, the i-th row block [r0, r1) of A from the bottom (row
 * block costs grow with r1): A_ij += Σ_q Un[q, i]·Rw[q, j] (= −(A_iK D A_Kj)) on the lower triangle, columns < r1;
 * then the row block's share of the swept rows and columns: A_KR ← D A_KR = −Un (rows of K), A_KK ← −D = Dn, and
 * A_RK ← A_RK D = −Unᵀ (rows below K). Every write lands in rows r0 … r1. `buffer`: the arena's memory.
 */
export function easeUpdatePart(gemm, buffer, layout, k0, kb, nb, i) {
  const { mp, rwPtr, unPtr, dnPtr } = layout;
  const row = mp * 8;
  const r0 = (easeUpdateParts(mp, nb) - 1 - i) * nb;
  const r1 = Math.min(mp, r0 + nb);
  // F = Unᵀ through swapped strides
  gemm(unPtr + r0 * 8, 8, row, rwPtr, row, r0 * row, row, r1 - r0, kb, r1);
  const A = new Float64Array(buffer, 0, mp * mp);
  const Un = new Float64Array(buffer, unPtr, kb * mp);
  const Dn = new Float64Array(buffer, dnPtr, kb * kb);
  for (let k = Math.max(r0, k0); k < Math.min(r1, k0 + kb); k++) {
    const q = k - k0;
    for (let c = 0; c < k0; c++) A[k * mp + c] = -Un[q * mp + c];
    for (let s = 0; s <= q; s++) A[k * mp + k0 + s] = Dn[q * kb + s];
  }
  for (let r = Math.max(r0, k0 + kb); r < r1; r++)
    for (let q = 0; q < kb; q++) A[r * mp + k0 + q] = -Un[q * mp + r];
}

/**
 * Rows i0 … i1 of the weights from the swept A = −P: B_ij = −P_ij / P_jj = −A_ij / A_jj (B_ii = 0, Steck 2019
 * eq. 8), B float32 m × m; row i writes B_ij and B_ji for j < i.
 */
export function easeWeightRows(A, mp, b, m, i0, i1) {
  for (let i = i0; i < i1; i++) {
    const aii = A[i * mp + i];
    for (let j = 0; j < i; j++) {
      const a = A[i * mp + j];
      b[i * m + j] = -a / A[j * mp + j];
      b[j * m + i] = -a / aii;
    }
  }
}
