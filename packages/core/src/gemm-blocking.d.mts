// Types of gemm-blocking.mjs.
import type { Gemm, GemmOperands } from './wasm.ts';

/** A GEMM over GemmOperands that runs `kernel` block by block (see gemm-blocking.mjs). */
export function blockedGemm64(kernel: Gemm, scratch: number): (...operands: GemmOperands) => void;
