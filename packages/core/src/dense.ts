import { blockedGemm64 } from './gemm-blocking.mjs';
import { GEMM_SHARED_WASM_BASE64 } from './gemm-shared-wasm.ts';
import { GEMM_WASM_BASE64 } from './gemm-wasm.ts';
import { compileWasm, type Gemm, type GemmOperands, type WasmModule, wasm } from './wasm.ts';

/**
 * A block of float64 memory with the blocked GEMM of wasm/gemm.wat over it (dense linear algebra such as EASE's
 * inversion): allocate once, lay matrices out at byte offsets, and call `gemm64`. Without WebAssembly SIMD, or with
 * `simd: false`, `gemm64` is a scalar loop with the same summation order (the reference the tests compare against).
 * With `shared: true` the memory is a shared WebAssembly.Memory (a SharedArrayBuffer) and `shared` gives it and the
 * compiled module, which worker threads instantiate over the same memory to run gemm64 on parts of one product.
 */
export class Float64Arena {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly #gemm: Gemm | undefined;
  readonly #scratch: number;
  /** gemm64's blocking (gemm-blocking.mjs, shared with the trainer's worker threads) over the kernel. */
  #blocked: ((...operands: GemmOperands) => void) | undefined;
  readonly #shared: { memory: object; module: WasmModule; scratch: number } | undefined;

  /** `bytes` usable from offset 0 (a scratch row of `maxColumns` doubles is added past them). */
  constructor(bytes: number, maxColumns: number, options: { simd?: boolean; shared?: boolean } = {}) {
    const scratch = (bytes + 15) & ~15;
    const total = scratch + maxColumns * 8 + 16;
    this.#scratch = scratch;
    const shared = options.shared === true;
    const module =
      options.simd === false ? null : compileWasm(shared ? GEMM_SHARED_WASM_BASE64 : GEMM_WASM_BASE64);
    const pages = Math.ceil(total / 65536);
    if (module && pages <= 65536) {
      const memory = shared
        ? new wasm.Memory({ initial: pages, maximum: pages, shared: true })
        : new wasm.Memory({ initial: pages, maximum: pages });
      const instance = new wasm.Instance(module, { env: { memory } });
      this.#gemm = (instance.exports as { gemm64: Gemm }).gemm64;
      this.buffer = memory.buffer;
      if (shared) this.#shared = { memory, module, scratch };
    } else this.buffer = shared ? new SharedArrayBuffer(total) : new ArrayBuffer(total);
  }

  get simd(): boolean {
    return this.#gemm !== undefined;
  }

  /**
   * The shared WebAssembly.Memory and the compiled gemm module (instantiate it with `{ env: { memory } }`; its
   * `gemm64` is this arena's kernel), and the byte offset of the scratch row; undefined unless the arena was made
   * with `shared: true` and WebAssembly SIMD with threads is available.
   */
  get shared(): { memory: object; module: WasmModule; scratch: number } | undefined {
    return this.#shared;
  }

  /** A float64 view of `length` values at byte offset `ptr` (a multiple of 8). */
  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.buffer, ptr, length);
  }

  /**
   * C[p, c] += Σ_q F[p, q] · V[q, c] for p < P, q < Q, c < L (L a multiple of 8), all float64 at byte offsets
   * (GemmOperands). Blocked over q so that each Q-panel of V is at most 16 KiB (L1) while the rows of C stream past.
   */
  gemm64(...operands: GemmOperands): void {
    const L = operands[9];
    if (L % 8 !== 0) throw new RangeError(`Float64Arena.gemm64: L = ${L} is not a multiple of 8`);
    this.#blocked ??= blockedGemm64(this.#gemm ?? this.#scalar, this.#scratch);
    this.#blocked(...operands);
  }

  /** The kernel's arithmetic in scalar JS: for each C[p, c], the same products added in the same q order. */
  readonly #scalar: Gemm = (F, fp, fq, V, ldv, C, ldc, P, Q, L) => {
    const a = new Float64Array(this.buffer);
    for (let p = 0; p < P; p++) {
      const f = (F + p * fp) / 8;
      const c0 = (C + p * ldc) / 8;
      for (let c = 0; c < L; c++) {
        let s = a[c0 + c]!;
        for (let q = 0; q < Q; q++) s += a[f + (q * fq) / 8]! * a[(V + q * ldv) / 8 + c]!;
        a[c0 + c] = s;
      }
    }
  };
}
