import { SCORE_WASM_BASE64 } from './score-wasm.ts';
import { compileWasm, wasm } from './wasm.ts';

/**
 * All dot products p·m_i against the rows of a fixed row-major float32 matrix (the serving hot loop). With
 * WebAssembly SIMD and k % 4 = 0 the matrix is copied once into the kernel's memory (wasm/score.wat); otherwise a
 * typed-array loop with four accumulators. The matrix must not change afterwards (models treat params as frozen).
 */
export class DotScorer {
  readonly #k: number;
  readonly #rows: number;
  readonly #matrix: Float32Array;
  readonly #out: Float32Array;
  readonly #p: Float32Array | undefined;
  readonly #dots: ((Q: number, p: number, k: number, rows: number, out: number) => void) | undefined;
  readonly #qPtr: number = 0;

  constructor(matrix: Float32Array, k: number, rows: number) {
    this.#k = k;
    this.#rows = rows;
    this.#matrix = matrix;
    const module = k % 4 === 0 && k > 0 ? compileWasm(SCORE_WASM_BASE64) : null;
    if (module) {
      const bytes = 16 + matrix.byteLength + 16 + k * 4 + 16 + rows * 4;
      const pages = Math.ceil(bytes / 65536) + 1;
      const memory = new wasm.Memory({ initial: pages, maximum: pages });
      const instance = new wasm.Instance(module, { env: { memory } });
      type Dots = (Q: number, p: number, k: number, rows: number, out: number) => void;
      this.#dots = (instance.exports as { dots: Dots }).dots;
      const align = (n: number) => (n + 15) & ~15;
      this.#qPtr = 16;
      const pPtr = align(this.#qPtr + matrix.byteLength);
      const outPtr = align(pPtr + k * 4);
      new Float32Array(memory.buffer, this.#qPtr, matrix.length).set(matrix);
      this.#p = new Float32Array(memory.buffer, pPtr, k);
      this.#out = new Float32Array(memory.buffer, outPtr, rows);
    } else {
      this.#out = new Float32Array(rows);
    }
  }

  /** True when the SIMD kernel is in use. */
  get simd(): boolean {
    return this.#dots !== undefined;
  }

  /** out[i] = p·m_i for every row; the returned array is reused by the next call. */
  dots(p: Float32Array): Float32Array {
    const k = this.#k;
    if (this.#dots && this.#p) {
      this.#p.set(p.subarray(0, k));
      this.#dots(this.#qPtr, this.#p.byteOffset, k, this.#rows, this.#out.byteOffset);
      return this.#out;
    }
    const q = this.#matrix;
    const out = this.#out;
    const k4 = k - (k % 4);
    for (let i = 0, base = 0; i < this.#rows; i++, base += k) {
      // four accumulators for instruction-level parallelism
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let f = 0;
      for (; f < k4; f += 4) {
        s0 += p[f]! * q[base + f]!;
        s1 += p[f + 1]! * q[base + f + 1]!;
        s2 += p[f + 2]! * q[base + f + 2]!;
        s3 += p[f + 3]! * q[base + f + 3]!;
      }
      for (; f < k; f++) s0 += p[f]! * q[base + f]!;
      out[i] = s0 + s1 + (s2 + s3);
    }
    return out;
  }
}
