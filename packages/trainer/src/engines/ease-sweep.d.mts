// Types of ease-sweep.mjs (plain JavaScript shared by the main thread and the pool's workers).

import type { GemmOperands } from '@movierec/core';

export { blockedGemm64 } from '@movierec/core/gemm-blocking';

/** C[p, c] += Σ_q F[p, q]·V[q, c] over byte offsets and strides (core's Float64Arena.gemm64). */
export type Gemm64 = (...operands: GemmOperands) => void;

/** Where the sweep's matrices live in the arena (byte offsets; A at 0, mp × mp). */
export interface EaseLayout {
  readonly mp: number;
  readonly rwPtr: number;
  readonly unPtr: number;
  readonly dnPtr: number;
}

export const UN_COLUMNS: number;
export function easeGramRows(
  A: Float64Array,
  mp: number,
  offsets: Int32Array,
  positions: Int32Array,
  a0: number,
  a1: number,
): void;
export function easeUnPart(gemm: Gemm64, layout: EaseLayout, kb: number, c: number): void;
export function easeUpdateParts(mp: number, nb: number): number;
export function easeUpdatePart(
  gemm: Gemm64,
  buffer: ArrayBuffer | SharedArrayBuffer,
  layout: EaseLayout,
  k0: number,
  kb: number,
  nb: number,
  i: number,
): void;
export function easeWeightRows(
  A: Float64Array,
  mp: number,
  b: Float32Array,
  m: number,
  i0: number,
  i1: number,
): void;
