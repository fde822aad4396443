// Types of ials-rows.mjs (plain JavaScript shared by the main thread and the pool's workers).

export interface IalsScratch {
  readonly x: Float64Array;
  readonly r: Float64Array;
  readonly p: Float64Array;
  readonly ap: Float64Array;
}

/** A history in compressed sparse rows: row u's items at offsets[u] … offsets[u + 1]. */
export interface HistoryRows {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
}

export function ialsGramRows(
  other: Float32Array,
  k: number,
  gram: Float64Array,
  a0: number,
  a1: number,
): void;
export function ialsGramMirror(gram: Float64Array, k: number): void;
export function gramChunks(k: number, count: number): Int32Array;
export function ialsScratch(k: number): IalsScratch;
export function ialsRows(
  target: Float32Array,
  other: Float32Array,
  rows: HistoryRows,
  conf: Float32Array,
  gram: Float64Array,
  k: number,
  l2: number,
  cgSteps: number,
  u0: number,
  u1: number,
  scratch: IalsScratch,
): void;
