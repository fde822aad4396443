import { wasm } from '@movierec/core';
import { WorkerPool } from '../pool.ts';
import { compileWasm, type WasmModule } from '../wasm.ts';
import type { Csr } from './csr.ts';
import { balancedChunks, rowScratch, rowScratchBytes, sampleRows, sseRows } from './rows.mjs';
import { BPMF_ROWS_WASM_BASE64 } from './rows-wasm.ts';
import type { Hyper } from './wishart.ts';

/**
 * Chunks per side: fixed by the data, not by the thread count, so sums over chunks (the SSE) add up in the same
 * order whatever the thread count; 64 keeps up to 8 threads busy when the machine is shared.
 */
const CHUNKS = 64;

/** Fewest ratings per thread worth a thread of its own (smaller runs use fewer threads: the same result). */
export const RATINGS_PER_THREAD = 25_000;

export interface RowSweepSetup {
  byUser: Csr;
  byItem: Csr;
  U: Float64Array;
  V: Float64Array;
  /** The implicit (SVD++) part of each user's factors, numUsers × k, when sampled. */
  extra: Float64Array | undefined;
  /** The item prior's mean shift Bᵀ g_i, numItems × d, when item features are used. */
  priorShift: Float64Array | undefined;
  d: number;
  k: number;
  seed: number;
  /** Worker threads (1: everything on this thread). */
  threads: number;
  signal?: AbortSignal | undefined;
  /** The worker script (default ../rows-worker.mjs); tests substitute one that fails. */
  workerUrl?: URL | undefined;
  /** The row kernel (rowFactors'), or undefined for the scalar loops of rows.mjs (the reference). */
  kernel?: RowKernel | undefined;
}

/**
 * The WebAssembly SIMD row kernel (wasm/bpmf-rows.wat): its module and, when U and V live in its shared memory,
 * that memory and each thread's scratch (`slotBytes` bytes from `slotsAt`, thread t at slotsAt + t·slotBytes).
 */
export interface RowKernel {
  module: WasmModule;
  memory?: { readonly buffer: SharedArrayBuffer } | undefined;
  slotsAt?: number;
  slotBytes?: number;
}

const align16 = (bytes: number) => (bytes + 15) & ~15;

/**
 * U (numUsers × d) and V (numItems × d) on shared memory, and the row kernel. With `simd` and WebAssembly SIMD
 * available they are laid out in one shared WebAssembly.Memory with a kernel scratch per thread after them, so the
 * kernel gathers a row's other-side vectors itself; they are the factors' only copy (the ratings stay outside,
 * copied 256 at a time). Otherwise (or past 4 GiB) SharedArrayBuffers, and the kernel, if any, gets rows gathered
 * by JavaScript.
 */
export function rowFactors(
  numUsers: number,
  numItems: number,
  d: number,
  threads: number,
  simd: boolean,
): { U: Float64Array; V: Float64Array; kernel: RowKernel | undefined } {
  // null where WebAssembly SIMD (or shared memory) is unavailable: every thread then runs the scalar loops
  const module = simd ? compileWasm(BPMF_ROWS_WASM_BASE64) : null;
  if (module) {
    const uBytes = align16(8 * numUsers * d);
    const slotsAt = uBytes + align16(8 * numItems * d);
    const slotBytes = rowScratchBytes(d);
    const pages = Math.ceil((slotsAt + threads * slotBytes) / 65536);
    if (pages <= 65536) {
      const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
      return {
        U: new Float64Array(memory.buffer, 0, numUsers * d),
        V: new Float64Array(memory.buffer, uBytes, numItems * d),
        kernel: { module, memory, slotsAt, slotBytes },
      };
    }
  }
  const shared = (n: number) => new Float64Array(new SharedArrayBuffer(8 * n));
  return { U: shared(numUsers * d), V: shared(numItems * d), kernel: module ? { module } : undefined };
}

/** Thread `slot`'s place for rowScratch. */
export function kernelPlace(kernel: RowKernel, slot: number) {
  const { module, memory, slotsAt = 0, slotBytes = 0 } = kernel;
  return memory ? { module, memory, at: slotsAt + slot * slotBytes } : { module };
}

/**
 * The row-parallel steps of a BPMF sweep: drawing every row of one side given the other (rows.mjs's sampleRows),
 * and the training SSE, on this thread or on a pool of workers sharing U, V and the CSRs (SharedArrayBuffers). Each
 * row's random stream is keyed by (seed, sweep, side, row), so the draws do not depend on the thread count.
 * Every array handed over must live on a SharedArrayBuffer when threads > 1.
 */
export class RowSweeps {
  readonly #s: RowSweepSetup;
  readonly #bounds: [Int32Array, Int32Array];
  readonly #step: Float64Array;
  readonly #control = new Int32Array(new SharedArrayBuffer(4));
  readonly #sse = new Float64Array(new SharedArrayBuffer(8 * CHUNKS));
  readonly #pool: WorkerPool | undefined;
  readonly #scratch;
  readonly #pu: Float64Array;

  constructor(setup: RowSweepSetup) {
    this.#s = setup;
    const { byUser, byItem, d, k } = setup;
    // a row's Cholesky (d³/3 flops) ≈ 2d/3 ratings' rank-one updates (d²/2 flops each)
    const perRow = Math.ceil((2 * d) / 3);
    this.#bounds = [
      balancedChunks(byUser.start, byUser.rows, Math.min(CHUNKS, Math.max(1, byUser.rows)), perRow),
      balancedChunks(byItem.start, byItem.rows, Math.min(CHUNKS, Math.max(1, byItem.rows)), perRow),
    ];
    this.#step = new Float64Array(new SharedArrayBuffer(8 * (d * d + d)));
    const { kernel } = setup;
    // with one thread the calling thread draws the rows, in thread slot 0
    this.#scratch = rowScratch(d, kernel && setup.threads === 1 ? kernelPlace(kernel, 0) : undefined);
    this.#pu = new Float64Array(k);
    if (setup.threads > 1) {
      for (const [what, a] of [
        ['byUser.cols', byUser.cols],
        ['byItem.values', byItem.values],
        ['U', setup.U],
        ['V', setup.V],
        ['extra', setup.extra],
        ['priorShift', setup.priorShift],
      ] as const)
        if (a && !(a.buffer instanceof SharedArrayBuffer))
          throw new Error(`BPMF: ${what} must live on a SharedArrayBuffer for worker threads`);
      const csr = (c: Csr) => ({ start: c.start, cols: c.cols, values: c.values });
      this.#pool = new WorkerPool(
        setup.workerUrl ?? new URL('../rows-worker.mjs', import.meta.url),
        setup.threads,
        {
          kind: 'bpmf',
          byUser: csr(byUser),
          byItem: csr(byItem),
          U: setup.U,
          V: setup.V,
          extra: setup.extra,
          priorShift: setup.priorShift,
          step: this.#step,
          bounds: this.#bounds,
          control: this.#control,
          sse: this.#sse,
          d,
          k,
          seed: setup.seed,
          kernel,
          // each worker takes its kernel scratch slot from this counter
          slots: new Int32Array(new SharedArrayBuffer(4)),
        },
        'bpmf',
      );
    }
  }

  /**
   * Draws every row of side 0 (users, given V) or 1 (items, given U) from its conditional given the prior h:
   * Λ* = Λ + α Σ f fᵀ, m* = Λ*⁻¹(α Σ f t + Λμ) (Salakhutdinov & Mnih 2008, eq. 12–13; rows.mjs).
   */
  async side(side: 0 | 1, sweep: number, h: Hyper, alpha: number, mean: number): Promise<void> {
    const { d, k, seed } = this.#s;
    const step = this.#step;
    step.set(h.lambda, 0);
    // Λμ, the prior's contribution to every row's right-hand side.
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += h.lambda[a * d + b]! * h.mu[b]!;
      step[d * d + a] = s;
    }
    const bounds = this.#bounds[side];
    if (this.#pool) {
      Atomics.store(this.#control, 0, 0);
      await this.#pool.run({ type: 'rows', side, sweep, alpha, mean }, { signal: this.#s.signal });
      return;
    }
    const s = this.#s;
    const rows =
      side === 0
        ? { ...s.byUser, X: s.U, Y: s.V, selfExtra: s.extra }
        : { ...s.byItem, X: s.V, Y: s.U, otherExtra: s.extra, priorShift: s.priorShift };
    const params = {
      d,
      k,
      mean,
      alpha,
      lambda: step.subarray(0, d * d),
      lmu: step.subarray(d * d),
      seed,
      sweep,
      sideIndex: side,
    };
    sampleRows(rows, params, 0, bounds[bounds.length - 1]!, this.#scratch);
  }

  /** SSE = Σ (r_ui − μ − b_u − b_i − p'_u·q_i)² over the training ratings, summed chunk by chunk in order. */
  async sse(mean: number): Promise<number> {
    const { byUser, U, V, extra, d, k } = this.#s;
    const bounds = this.#bounds[0];
    const chunks = bounds.length - 1;
    if (this.#pool) {
      Atomics.store(this.#control, 0, 0);
      await this.#pool.run({ type: 'sse', mean }, { signal: this.#s.signal });
    } else
      for (let c = 0; c < chunks; c++)
        this.#sse[c] = sseRows(
          byUser,
          U,
          V,
          extra,
          d,
          k,
          mean,
          bounds[c]!,
          bounds[c + 1]!,
          this.#pu,
          this.#scratch.simd,
        );
    let total = 0;
    for (let c = 0; c < chunks; c++) total += this.#sse[c]!;
    return total;
  }

  async close(): Promise<void> {
    await this.#pool?.close();
  }
}
