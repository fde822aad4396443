/**
 * WebAssembly as the project's kernels use it (core's score.ts dot products and dense.ts/lowrank.ts GEMM, the
 * trainer's engine kernels): the global typed by hand — the project's lib (ES2023, no DOM) does not type it — and
 * each kernel module compiled once per process.
 */
export interface WasmModule {
  readonly __brand?: 'WebAssembly.Module';
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
  Memory: {
    new (descriptor: { initial: number; maximum?: number }): { readonly buffer: ArrayBuffer };
    /** Shared memory (threads): one SharedArrayBuffer that worker threads instantiate the same kernels on. */
    new (descriptor: {
      initial: number;
      maximum: number;
      shared: true;
    }): { readonly buffer: SharedArrayBuffer };
  };
}
declare const WebAssembly: WasmApi;

/** The WebAssembly global (Memory, Instance, Module). */
export const wasm: WasmApi = WebAssembly;

/**
 * The operands of C[p, c] += Σ_q F[p, q] · V[q, c]: F, V and C at byte offsets into the kernel's memory, F[p, q] at
 * F + p·fp + q·fq, V and C row-major with row strides ldv, ldc (bytes), for p < P, q < Q, c < L (see dense.ts).
 */
export type GemmOperands = [
  F: number,
  fp: number,
  fq: number,
  V: number,
  ldv: number,
  C: number,
  ldc: number,
  P: number,
  Q: number,
  L: number,
];

/** wasm/gemm.wat's `gemm` and `gemm64` exports (dense.ts, lowrank.ts): GemmOperands, then a scratch row. */
export type Gemm = (...operands: [...GemmOperands, scratch: number]) => void;

const compiled = new Map<string, WasmModule | null>();

/**
 * The kernel module of a base64 string (score-wasm.ts, gemm-wasm.ts; the trainer's kernels-wasm.ts,
 * sgd-blocks-wasm.ts), compiled on first use and kept; null where WebAssembly SIMD (or, for shared memory, threads)
 * is unavailable: the callers then run their scalar loops.
 */
export function compileWasm(base64: string): WasmModule | null {
  let module = compiled.get(base64);
  if (module === undefined) {
    try {
      module = new wasm.Module(Buffer.from(base64, 'base64'));
    } catch {
      module = null;
    }
    compiled.set(base64, module);
  }
  return module;
}
