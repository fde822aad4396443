// Types of rows.mjs (plain JavaScript shared by the main thread and the pool's workers).
import type { WasmModule } from '@movierec/core';

export interface CsrArrays {
  readonly start: Int32Array;
  readonly cols: Int32Array;
  readonly values: Float32Array;
}

/** One side of a sweep: the rows drawn (X) given the other side (Y). */
export interface RowSide extends CsrArrays {
  readonly X: Float64Array;
  readonly Y: Float64Array;
  readonly selfExtra?: Float64Array | undefined;
  readonly otherExtra?: Float64Array | undefined;
  readonly priorShift?: Float64Array | undefined;
}

/** The parameters of one side's draw. */
export interface RowStep {
  readonly d: number;
  readonly k: number;
  readonly mean: number;
  readonly alpha: number;
  readonly lambda: Float64Array;
  readonly lmu: Float64Array;
  readonly seed: number;
  readonly sweep: number;
  readonly sideIndex: number;
}

export class RowRng {
  reset(seed: number, sweep: number, side: number, row: number): void;
  uint32(): number;
  normal(): number;
}

/** The SIMD path's per-thread state: the kernel instance's exports and views of its scratch. */
export interface RowSimd {
  readonly dq: number;
  readonly syrk: (F: number, n: number, dq: number, G: number) => void;
  readonly gatherSyrk: (
    Y: number,
    cols: number,
    vals: number,
    n: number,
    d: number,
    dq: number,
    mean: number,
    F: number,
    G: number,
  ) => number;
  readonly system: (
    G: number,
    dq: number,
    lambda: number,
    lmu: number,
    alpha: number,
    shift: number,
    P: number,
    B: number,
    d: number,
  ) => void;
  /** 1, or 0 when P is not positive definite. */
  readonly draw: (P: number, B: number, Z: number, out: number, d: number) => number;
  /** acc + the squared errors of n ratings of the user whose row is at `u` (sseRows' order of operations). */
  readonly sseRow: (
    u: number,
    V: number,
    d: number,
    cols: number,
    vals: number,
    n: number,
    mean: number,
    acc: number,
  ) => number;
  /** The kernel memory's buffer: a Y on it is gathered by the kernel, an X on it written in place. */
  readonly buffer: SharedArrayBuffer;
  readonly G: Float64Array;
  readonly F: Float64Array;
  readonly C: Int32Array;
  readonly values: Float32Array;
  readonly lambda: Float64Array;
  readonly lmu: Float64Array;
  readonly P: Float64Array;
  readonly B: Float64Array;
  readonly Z: Float64Array;
  readonly S: Float64Array;
  readonly out: Float64Array;
  readonly gAt: number;
  readonly fAt: number;
  readonly cAt: number;
  readonly vAt: number;
  readonly lamAt: number;
  readonly lmuAt: number;
  readonly pAt: number;
  readonly bAt: number;
  readonly zAt: number;
  readonly sAt: number;
  readonly outAt: number;
  /** Where the gather's prefetching pass leaves its (meaningless) sum. */
  touched: number;
}

/** The row kernel for rowScratch: the compiled module, and optionally where in a shared memory the scratch goes. */
export interface RowKernelPlace {
  readonly module: WasmModule;
  readonly memory?: { readonly buffer: SharedArrayBuffer } | undefined;
  /** Byte offset of this thread's rowScratchBytes(d) bytes in `memory` (16-aligned). */
  readonly at?: number | undefined;
}

export interface RowScratch {
  readonly tri: Float64Array;
  readonly prec: Float64Array;
  readonly rhs: Float64Array;
  readonly z: Float64Array;
  readonly f: Float64Array;
  readonly rng: RowRng;
  /** Set when rowScratch was given the kernel: sampleRows then runs its sums there. */
  readonly simd: RowSimd | undefined;
}

export function balancedChunks(start: Int32Array, rows: number, count: number, perRow: number): Int32Array;
export function rowScratch(d: number, kernel?: RowKernelPlace | undefined): RowScratch;
export function rowScratchBytes(d: number): number;
export function sampleRows(side: RowSide, step: RowStep, r0: number, r1: number, scratch: RowScratch): void;
/**
 * x ~ N(Λ⁻¹ b, Λ⁻¹) into out[at … at + d) by the scalar Cholesky factor and solves (Λ's lower triangle in `l`,
 * factored in place; b in `rhs`, solved in place; z scratch): the reference of the kernel's `draw`.
 */
export function drawGaussian(
  l: Float64Array,
  rhs: Float64Array,
  d: number,
  rng: RowRng,
  z: Float64Array,
  out: Float64Array,
  at: number,
): void;
/** Row r's Λ* (lower triangle of scratch.prec) and right-hand side (scratch.rhs), before the draw. */
export function rowSums(side: RowSide, step: RowStep, r: number, scratch: RowScratch): void;
export function sseRows(
  byUser: CsrArrays,
  U: Float64Array,
  V: Float64Array,
  extra: Float64Array | undefined,
  d: number,
  k: number,
  mean: number,
  r0: number,
  r1: number,
  pu: Float64Array,
  simd?: RowSimd | undefined,
): number;

/** Ratings grouped by row (user or item): the other side's index and the rating, rows given by offsets (als.ts). */
export interface RatingRowArrays {
  readonly offsets: Int32Array;
  readonly others: Int32Array;
  readonly ratings: Float32Array;
}

export interface AlsScratch {
  readonly gram: Float64Array;
  readonly rhs: Float64Array;
  readonly row: Float64Array;
}

/** What an ALS half-step solves: the rows' factors and biases against the fixed other side's, with μ, λ and λ_b. */
export type AlsOperands = [
  factors: Float32Array,
  bias: Float32Array,
  otherFactors: Float32Array,
  otherBias: Float32Array,
  k: number,
  mu: number,
  lambda: number,
  lambdaBias: number,
];

export function alsScratch(k: number): AlsScratch;
export function alsRows(
  rows: RatingRowArrays,
  ...rest: [...AlsOperands, r0: number, r1: number, scratch: AlsScratch]
): void;
