import { compileWasm, type WasmModule, wasm } from '@movierec/core';
import { KERNELS_WASM_BASE64 } from './kernels-wasm.ts';

// the one WebAssembly plumbing (the typed global, modules compiled once) is core's; the engines import it from here
export { compileWasm, type WasmModule };

/**
 * What every form of the SGD update takes after its data (sgdStep of sgd.ts, the block pass of sgd-blocks.ts, the
 * kernels): k the row stride of P and Q, μ, γ, decay = 1 − γλ and decayBias = 1 − γλ_b.
 */
export type SgdHyper = [k: number, mu: number, gamma: number, decay: number, decayBias: number];

/** The SIMD kernels of wasm/kernels.wat (pointers are byte offsets into the arena's memory). */
export interface WasmKernels {
  adam_grad(
    P: number,
    Q: number,
    bu: number,
    bi: number,
    gP: number,
    gQ: number,
    gbu: number,
    gbi: number,
    rows: number,
    order: number,
    start: number,
    end: number,
    k: number,
    mu: number,
    scale: number,
    /** Software-prefetch distance in ratings (0 = off). */
    ahead: number,
  ): number;
  adam_dense(
    theta: number,
    grad: number,
    m: number,
    v: number,
    count: number,
    c: number,
    epsHat: number,
    twoLambda: number,
  ): number;
  /** sgdStep over rows order[start…end) of the packed rows; `ahead` is the software-prefetch distance (0 = off). */
  sgd_pass(
    P: number,
    Q: number,
    bu: number,
    bi: number,
    rows: number,
    order: number,
    start: number,
    end: number,
    ...hyper: [...SgdHyper, ahead: number]
  ): number;
}

interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

export function wasmAvailable(): boolean {
  return compileWasm(KERNELS_WASM_BASE64) !== null;
}

const PAGE = 65536;

/**
 * One WebAssembly memory sized once for a training run, handing out 16-byte-aligned typed-array views from byte 16
 * on; it never grows, so views stay valid. Use `ptr(view)` for a kernel argument. `shared`: a SharedArrayBuffer
 * that worker threads can run kernels on (sgd-parallel.ts).
 */
export class WasmArena {
  readonly memory: WasmMemory;
  #kernels: WasmKernels | undefined;
  #next = 16;

  /** `bytes`: the total the caller will allocate (each allocation rounds up to 16 bytes). */
  constructor(bytes: number, options: { shared?: boolean } = {}) {
    if (!options.shared && !wasmAvailable())
      throw new Error('WebAssembly SIMD is not available in this runtime');
    const pages = Math.ceil((bytes + 64) / PAGE);
    if (pages > 65536)
      throw new RangeError(`training needs ${bytes} bytes of kernel memory, more than 4 GiB`);
    this.memory = options.shared
      ? new wasm.Memory({ initial: pages, maximum: pages, shared: true })
      : new wasm.Memory({ initial: pages, maximum: pages });
  }

  /** The kernels of wasm/kernels.wat on this memory. */
  get kernels(): WasmKernels {
    this.#kernels ??= this.instantiate<WasmKernels>(compileWasm(KERNELS_WASM_BASE64)!);
    return this.#kernels;
  }

  /** An instance of `module` that imports this memory as env.memory. */
  instantiate<T>(module: WasmModule): T {
    return new wasm.Instance(module, { env: { memory: this.memory } }).exports as T;
  }

  /** Bytes an allocation of `count` 4-byte values takes. */
  static size(count: number): number {
    return (count * 4 + 15) & ~15;
  }

  f32(count: number): Float32Array {
    const view = new Float32Array(this.memory.buffer, this.#next, count);
    this.#next += WasmArena.size(count);
    return view;
  }

  i32(count: number): Int32Array {
    const view = new Int32Array(this.memory.buffer, this.#next, count);
    this.#next += WasmArena.size(count);
    return view;
  }
}

/** How many ratings ahead the kernels touch the rows they will need (measured in bench/train-speed.ts). */
export const PREFETCH_AHEAD = 16;

export const ptr = (view: Float32Array | Int32Array): number => view.byteOffset;

/** Bytes for packed rows of `n` ratings. */
export const packedRowsSize = (n: number) => WasmArena.size(3 * n);

/** Bytes for what ratingsInArena allocates: the packed rows and the epoch's row order. */
export const ratingsArenaSize = (n: number) => packedRowsSize(n) + WasmArena.size(n);

/**
 * The ratings as the kernels read them: the packed rows, and room for the epoch's row order (shuffled in place, or
 * a copy of batchOrder's), both in the arena.
 */
export function ratingsInArena(
  arena: WasmArena,
  train: { length: number; users: Int32Array; items: Int32Array; ratings: Float32Array },
): { packed: Int32Array; scratch: Int32Array } {
  const packed = packRows(arena, train);
  return { packed, scratch: arena.i32(train.length) };
}

/** The ratings as packed 12-byte rows (user i32, item i32, rating f32) in the arena, the kernels' input format. */
export function packRows(
  arena: WasmArena,
  train: { length: number; users: Int32Array; items: Int32Array; ratings: Float32Array },
): Int32Array {
  const n = train.length;
  const packed = arena.i32(3 * n);
  const asFloat = new Float32Array(packed.buffer, packed.byteOffset, 3 * n);
  const { users, items, ratings } = train;
  for (let r = 0, o = 0; r < n; r++, o += 3) {
    packed[o] = users[r]!;
    packed[o + 1] = items[r]!;
    asFloat[o + 2] = ratings[r]!;
  }
  return packed;
}

export interface NativeEngineOptions {
  /**
   * 'wasm': the SIMD kernels of wasm/kernels.wat (float32 arithmetic, like tfjs; needs factors % 4 = 0);
   * 'js': the typed-array loops in this file (float64 arithmetic, float32 storage); 'auto' (default): wasm when
   * available and factors % 4 = 0, else js.
   */
  kernels?: 'auto' | 'wasm' | 'js';
}

/** Decides between the wasm and JS kernels. */
export function useWasmKernels(options: NativeEngineOptions, factors: number, engine: string): boolean {
  const kernels = options.kernels ?? 'auto';
  if (kernels === 'js') return false;
  const ok = factors % 4 === 0 && wasmAvailable();
  if (kernels === 'wasm' && !ok)
    throw new RangeError(
      `${engine}: the wasm kernels need factors divisible by 4 (got ${factors}) and WebAssembly SIMD (${wasmAvailable() ? 'available' : 'unavailable'})`,
    );
  return ok;
}
