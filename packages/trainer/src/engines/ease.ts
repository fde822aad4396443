import {
  choleskyInPlace,
  choleskyInverse,
  Float64Arena,
  type HistoryWeighting,
  ItemItemModel,
  NO_WEIGHTING,
} from '@movierec/core';
import { checkField, type InteractionData, userRows, weightedHistory } from '../ranking/interactions.ts';
import { TrainingInputError, yieldToEventLoop } from './common.ts';
import {
  easeGramRows,
  easeUnPart,
  easeUpdatePart,
  easeUpdateParts,
  easeWeightRows,
  UN_COLUMNS,
} from './ease-sweep.mjs';
import { gramChunks } from './ials-rows.mjs';
import { defaultThreads, WorkerPool } from './pool.ts';

/**
 * EASE^R (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): the item-item weight matrix
 *   B = argmin ‖X − XB‖² + λ‖B‖² s.t. diag(B) = 0   ⇒   B = I − P·diagMat(1/diag(P)),  P = (XᵀX + λI)⁻¹
 * (eq. 8 of the paper), X the binary user × item interaction matrix restricted to items with ≥ minCount
 * interactions. Scoring: s_u = x_u·B with x_u the user's weighted history (HistoryWeighting).
 *
 * Size limit: P is a dense m × m float64 matrix and B a float32 one, 12·m² bytes (m = 10,000 → 1.2 GB), and the
 * inversion (a blocked sweep on WebAssembly SIMD, see easeWeights; on worker threads by trainEase) costs ≈ m³/2
 * multiply-adds (m = 1,852 on the bundled data: about a second; m = 10,000 several minutes on this project's 2-core
 * machine). Past `maxItems` (default 10,000) the catalogue is pruned to the `maxItems` most popular items and
 * `onMessage` says so; the others rank last (UNSCORED).
 */
export interface EaseConfig {
  /** λ of the ridge term (Steck uses 200–1,000 on ML-20M). */
  lambda: number;
  /** Items with fewer interactions are left out of B (they still get the fallback score). */
  minCount: number;
  /** The largest dense catalogue (see above). */
  maxItems: number;
  /** How a user's history is weighted before x_u·B. */
  weighting: HistoryWeighting;
}

export const EASE_DEFAULTS: EaseConfig = {
  lambda: 300,
  minCount: 10,
  maxItems: 10_000,
  weighting: NO_WEIGHTING,
};

export interface RankingFitOptions {
  /** Notes worth telling the user (pruning, skipped items). */
  onMessage?: (message: string) => void;
  /** Progress in arbitrary units (done of total). */
  onProgress?: (p: { done: number; total: number }) => void;
  signal?: AbortSignal;
  /** Worker threads (trainRanking's iALS and EASE; default every core). fitRanking fits on the calling thread. */
  threads?: number;
}

export function checkWeighting(who: string, w: HistoryWeighting): void {
  checkField(who, 'weighting.recencyTau', w.recencyTau, 0);
  checkField(who, 'weighting.likeThreshold', w.likeThreshold, Number.NEGATIVE_INFINITY);
  checkField(who, 'weighting.lowWeight', w.lowWeight, 0, 1);
}

function easeConfig(config: Partial<EaseConfig>): EaseConfig {
  const c: EaseConfig = {
    ...EASE_DEFAULTS,
    ...config,
    weighting: { ...EASE_DEFAULTS.weighting, ...config.weighting },
  };
  checkField('ease', 'lambda', c.lambda, Number.MIN_VALUE);
  checkField('ease', 'minCount', c.minCount, 1, Number.POSITIVE_INFINITY, true);
  checkField('ease', 'maxItems', c.maxItems, 1, 65_535, true);
  checkWeighting('ease', c.weighting);
  return c;
}

/** What one fit works on: the kept items, each user's kept items, and the arena G is built and swept in. */
interface EaseProblem {
  started: number;
  ur: ReturnType<typeof userRows>;
  m: number;
  kept: Int32Array;
  /** Each user's kept items as ascending distinct positions 0…m (a CSR over users; ease-sweep.mjs). */
  offsets: Int32Array;
  positions: Int32Array;
  gram: EaseGram;
}

function easeProblem(
  data: InteractionData,
  c: EaseConfig,
  options: RankingFitOptions,
  shared: boolean,
): EaseProblem {
  const started = performance.now();
  const ur = userRows(data, 'ease');
  const cols = data.ratings;
  const { numItems, numUsers, popularity } = ur;
  // items with ≥ minCount distinct users, pruned to the maxItems most popular when there are more
  let candidates: number[] = [];
  for (let i = 0; i < numItems; i++) if (popularity[i]! >= c.minCount) candidates.push(i);
  if (candidates.length > c.maxItems) {
    const total = candidates.length;
    candidates.sort((a, b) => popularity[b]! - popularity[a]! || a - b);
    candidates = candidates.slice(0, c.maxItems);
    candidates.sort((a, b) => a - b);
    options.onMessage?.(
      `ease: ${total} items have ≥ ${c.minCount} interactions, more than the dense limit of ${c.maxItems} ` +
        `(${((12 * c.maxItems ** 2) / 1e9).toFixed(1)} GB); keeping the ${c.maxItems} most popular, the other ` +
        `${total - c.maxItems} rank last (raise --min-count, or maxItems if memory allows)`,
    );
  }
  const m = candidates.length;
  if (m < 2)
    throw new RangeError(`ease: only ${m} item(s) have ≥ ${c.minCount} interactions; lower minCount`);
  const kept = Int32Array.from(candidates);
  const position = new Int32Array(numItems).fill(-1);
  for (let a = 0; a < m; a++) position[kept[a]!] = a;
  // each user's distinct kept items, ascending (X's rows)
  const buffer = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const offsets = new Int32Array(buffer(4 * (numUsers + 1)));
  const all = new Int32Array(cols.length);
  const mark = new Int32Array(numItems).fill(-1);
  let n = 0;
  for (let u = 0; u < numUsers; u++) {
    const from = n;
    for (let e = ur.offsets[u]!; e < ur.offsets[u + 1]!; e++) {
      const i = cols.items[ur.rows[e]!]!;
      const a = position[i]!;
      if (a < 0 || mark[i] === u) continue;
      mark[i] = u;
      all[n++] = a;
    }
    all.subarray(from, n).sort();
    offsets[u + 1] = n;
  }
  const positions = new Int32Array(buffer(4 * n));
  positions.set(all.subarray(0, n));
  return { started, ur, m, kept, offsets, positions, gram: easeGram(m, { shared }) };
}

/** A step of the fit whose parts may run on worker threads (ease-sweep.mjs). */
type EaseStep = { type: 'gram' } | { type: 'un'; kb: number } | { type: 'update'; k0: number; kb: number };

/**
 * The fit as a sequence of steps: G = XᵀX + λI (the 'gram' step, then λ on the diagonal), the sweep (sweepSteps),
 * then the model. The caller runs each yielded step's parts, on this thread (fitEase) or on the pool (trainEase).
 */
function* easeSteps(
  data: InteractionData,
  p: EaseProblem,
  c: EaseConfig,
  options: RankingFitOptions,
): Generator<EaseStep, ItemItemModel> {
  const { A, mp } = p.gram;
  yield { type: 'gram' };
  for (let a = 0; a < p.m; a++) A[a * mp + a]! += c.lambda;
  options.signal?.throwIfAborted();
  const matrix = yield* sweepSteps(p.gram, p.m, options);
  const history = weightedHistory(data, p.ur, c.weighting);
  return new ItemItemModel({
    family: 'ease',
    users: data.users,
    items: data.items,
    weights: { kind: 'dense', kept: p.kept, matrix },
    history,
    popularity: p.ur.popularity,
    weighting: c.weighting,
    config: { ...c },
    log: {
      engine: 'ease',
      epochs: [],
      keptItems: p.m,
      seconds: (performance.now() - p.started) / 1000,
      numInteractions: data.ratings.length,
    },
  });
}

/** The parts of the Gram step: rows of G's lower triangle in chunks of about equal area (fixed by m). */
const GRAM_PARTS = 32;

/** Runs every part of `step` on this thread, in order. */
function runHere(gram: EaseGram, step: EaseStep, p?: Pick<EaseProblem, 'offsets' | 'positions' | 'm'>): void {
  const gemm = gram.gemm;
  if (step.type === 'gram') {
    if (p) easeGramRows(gram.A, gram.mp, p.offsets, p.positions, 0, p.m);
  } else if (step.type === 'un') {
    for (let part = 0; part < Math.ceil(gram.mp / UN_COLUMNS); part++) easeUnPart(gemm, gram, step.kb, part);
  } else
    for (let part = 0; part < easeUpdateParts(gram.mp, EASE_BLOCK); part++)
      easeUpdatePart(gemm, gram.arena.buffer, gram, step.k0, step.kb, EASE_BLOCK, part);
}

/** Drives a step sequence to its end, running each step by `run`. */
function drive<T>(steps: Generator<EaseStep, T>, run: (step: EaseStep) => void): T {
  for (let next = steps.next(); ; next = steps.next()) {
    if (next.done) return next.value;
    run(next.value);
  }
}

/** Fits EASE on this thread (synchronously: fitRanking, tune); trainEase runs the same steps on worker threads. */
export function fitEase(
  data: InteractionData,
  config: Partial<EaseConfig> = {},
  options: RankingFitOptions = {},
): ItemItemModel {
  const c = easeConfig(config);
  const p = easeProblem(data, c, options, false);
  return drive(easeSteps(data, p, c, options), (step) => runHere(p.gram, step, p));
}

/** Fewest kept items per thread worth a thread of its own (a smaller sweep runs on fewer: the same result). */
const ITEMS_PER_THREAD = 128;

/**
 * Fits EASE with its dense algebra on `options.threads` worker threads (default every core; one per 128 kept items
 * at most): G = XᵀX by rows of its lower triangle, and each block of the sweep's −D·A_K,: by column panels and its
 * rank-64 update by row blocks, every thread running core's WebAssembly SIMD GEMM over one shared
 * WebAssembly.Memory (Float64Arena with `shared`). No part writes another's entries and each entry's sum keeps its
 * order, so the model is bit-identical to fitEase's for any thread count. Without WebAssembly SIMD, one thread.
 */
export async function trainEase(
  data: InteractionData,
  config: Partial<EaseConfig> = {},
  options: RankingFitOptions & { workerUrl?: URL } = {},
): Promise<ItemItemModel> {
  const c = easeConfig(config);
  const requested = options.threads ?? defaultThreads();
  if (!(Number.isInteger(requested) && requested >= 1))
    throw new TrainingInputError(`ease: threads must be a positive integer, got ${requested}`);
  await yieldToEventLoop();
  const p = easeProblem(data, c, options, requested > 1);
  const threads = Math.max(1, Math.min(requested, Math.ceil(p.m / ITEMS_PER_THREAD)));
  const shared = p.gram.arena.shared;
  const steps = easeSteps(data, p, c, options);
  if (threads === 1 || !shared) return drive(steps, (step) => runHere(p.gram, step, p));
  const control = new Int32Array(new SharedArrayBuffer(4));
  const { mp, rwPtr, unPtr, dnPtr } = p.gram;
  const pool = new WorkerPool(
    options.workerUrl ?? new URL('./rows-worker.mjs', import.meta.url),
    threads,
    {
      kind: 'ease',
      ...shared,
      layout: { mp, rwPtr, unPtr, dnPtr },
      nb: EASE_BLOCK,
      offsets: p.offsets,
      positions: p.positions,
      gramBounds: gramChunks(p.m, Math.min(p.m, GRAM_PARTS)),
      control,
    },
    'ease',
  );
  try {
    for (let next = steps.next(); ; next = steps.next()) {
      if (next.done) return next.value;
      Atomics.store(control, 0, 0);
      await pool.run(next.value, { signal: options.signal });
    }
  } finally {
    await pool.close();
  }
}

/**
 * From G = XᵀX + λI (lower triangle, m × m float64, read only) to B = I − P·diagMat(1/diag(P)), P = G⁻¹, as float32,
 * by the blocked sweep operator (Goodnight, "A tutorial on the SWEEP operator", Am. Stat. 1979; block Gauss–Jordan
 * without pivoting, stable on a symmetric positive-definite matrix): sweeping every block K of A = G in turn,
 *   D = A_KK⁻¹,  A_RR ← A_RR − A_RK D A_KR,  A_RK ← A_RK D,  A_KR ← D A_KR,  A_KK ← −D,
 * leaves A = −G⁻¹. The rank-|K| update of A_RR is the whole cost (m³/2 multiply-adds on the lower triangle) and runs
 * on core's blocked WebAssembly SIMD GEMM (Float64Arena); D is a |K| × |K| Cholesky inverse. `simd: false` runs the
 * same steps on the GEMM's scalar loop; easeWeightsReference (Cholesky, then L⁻¹, then P = L⁻ᵀL⁻¹) is the reference
 * the tests compare against.
 */
export function easeWeights(
  g: Float64Array,
  m: number,
  options: RankingFitOptions & { simd?: boolean } = {},
): Float32Array {
  const gram = easeGram(m, options.simd === undefined ? {} : { simd: options.simd });
  for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) gram.A[i * gram.mp + j] = g[i * m + j]!;
  return drive(sweepSteps(gram, m, options), (step) => runHere(gram, step));
}

/** Where G is built and swept: the lower triangle of an mp × mp float64 matrix (mp = m rounded up to 8), then Rw,
 * Un (nb × mp each) and Dn (nb × nb), in an arena (ease-sweep.mjs's layout) with its GEMM. */
interface EaseGram {
  arena: Float64Arena;
  gemm: Gemm64;
  A: Float64Array;
  mp: number;
  rwPtr: number;
  unPtr: number;
  dnPtr: number;
}

type Gemm64 = Float64Arena['gemm64'];

const EASE_BLOCK = 64;

function easeGram(m: number, options: { simd?: boolean; shared?: boolean }): EaseGram {
  const mp = (m + 7) & ~7;
  const nb = EASE_BLOCK;
  const arena = new Float64Arena((mp * mp + 2 * nb * mp + nb * nb) * 8, mp, options);
  const row = mp * 8;
  const rwPtr = mp * row;
  const unPtr = rwPtr + nb * row;
  return {
    arena,
    gemm: arena.gemm64.bind(arena),
    A: arena.f64(0, mp * mp),
    mp,
    rwPtr,
    unPtr,
    dnPtr: unPtr + nb * row,
  };
}

/** The sweep (see easeWeights) on G's lower triangle in `gram.A`, overwritten; yields its 'un' and 'update' steps. */
function* sweepSteps(
  gram: EaseGram,
  m: number,
  options: RankingFitOptions,
): Generator<EaseStep, Float32Array> {
  const { arena, A, mp, rwPtr, unPtr, dnPtr } = gram;
  const nb = EASE_BLOCK;
  const Rw = arena.f64(rwPtr, nb * mp);
  const Un = arena.f64(unPtr, nb * mp);
  const Dn = arena.f64(dnPtr, nb * nb);
  // padding rows and columns are the identity: they never couple with the items
  for (let i = m; i < mp; i++) A[i * mp + i] = 1;
  const L = new Float64Array(nb * nb);
  const D = new Float64Array(nb * nb);
  for (let k0 = 0; k0 < mp; k0 += nb) {
    const kb = Math.min(nb, mp - k0);
    // D = A_KK⁻¹ from its Cholesky factor (A_KK is a Schur complement of G: positive definite)
    for (let q = 0; q < kb; q++)
      for (let s = 0; s <= q; s++) {
        const v = A[(k0 + q) * mp + k0 + s]!;
        L[q * kb + s] = v;
        L[s * kb + q] = v;
      }
    if (!choleskyInPlace(L, kb))
      throw new RangeError(
        `ease: XᵀX + λI is not positive definite within items ${k0}…${Math.min(k0 + kb, m) - 1}; raise λ`,
      );
    choleskyInverse(L, kb, D);
    for (let t = 0; t < kb * kb; t++) Dn[t] = -D[t]!;
    // Rw = A_K,: (kb × mp), read from the lower triangle: A[k, c] for c ≤ k, A[c, k] past it (row c of A holds
    // A[c, K] contiguously, so it is read row by row)
    for (let q = 0; q < kb; q++) {
      const k = k0 + q;
      for (let c = 0; c <= k; c++) Rw[q * mp + c] = A[k * mp + c]!;
    }
    for (let c = k0 + 1; c < mp; c++) {
      const qEnd = Math.min(kb, c - k0);
      for (let q = 0; q < qEnd; q++) Rw[q * mp + c] = A[c * mp + k0 + q]!;
    }
    // Un = −D·Rw (kb × mp): −Un[:, c] = D A_K,c are the swept rows (and, transposed, columns)
    // (by column panels: ease-sweep.mjs's easeUnPart)
    Un.fill(0, 0, kb * mp);
    yield { type: 'un', kb };
    // A_ij += Σ_q Un[q, i]·Rw[q, j] = −(A_iK D A_Kj) on the lower triangle, then the swept block's rows and columns
    // A_KR ← D A_KR (= −Un), A_RK ← A_RK D (its transpose), A_KK ← −D, by row blocks (easeUpdatePart)
    yield { type: 'update', k0, kb };
    tick(options, k0, mp);
  }
  // P = −A; B_ij = −P_ij / P_jj = −A_ij / A_jj, B_ii = 0 (easeWeightRows), on this thread: B on a SharedArrayBuffer
  // for the workers would need a plain copy for the model, 4m² bytes more at the peak (m² divisions take far less
  // than the sweep's m³/2 multiply-adds)
  const b = new Float32Array(m * m);
  easeWeightRows(A, mp, b, m, 0, m);
  return b;
}

/**
 * From G = XᵀX + λI (lower triangle, m × m float64, overwritten) to B = I − P·diagMat(1/diag(P)), P = G⁻¹, as
 * float32, in place in G's storage:
 * 1. G = L·Lᵀ (Cholesky, lower triangle; Golub & Van Loan alg. 4.2.1);
 * 2. W = L⁻¹ by forward substitution, stored transposed in the strict upper triangle (diag apart);
 * 3. P = WᵀW, P_ij = Σ_{k ≥ max(i,j)} W_ki·W_kj (rows of Wᵀ, contiguous), B_ij = −P_ij / P_jj, B_ii = 0.
 * Every inner loop is a dot product of two contiguous row segments. The scalar reference of easeWeights (and its
 * algorithm before the blocked sweep).
 */
export function easeWeightsReference(
  g: Float64Array,
  m: number,
  options: RankingFitOptions = {},
): Float32Array {
  const total = 3 * m;
  // 1. Cholesky, row by row: L_ij = (G_ij − Σ_{k<j} L_ik·L_jk) / L_jj
  for (let i = 0; i < m; i++) {
    const ri = i * m;
    for (let j = 0; j <= i; j++) {
      const rj = j * m;
      const s = g[ri + j]! - dot(g, ri, g, rj, j);
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`ease: XᵀX + λI is not positive definite at item ${i}; raise λ`);
        g[ri + i] = Math.sqrt(s);
      } else g[ri + j] = s / g[rj + j]!;
    }
    if ((i & 127) === 0) tick(options, i, total);
  }
  // 2. W = L⁻¹: W_cc = 1/L_cc; W_ic = −(Σ_{k=c}^{i−1} L_ik·W_kc) / L_ii, kept as Wt_ci = W_ic in g[c·m + i] (i > c)
  const wdiag = new Float64Array(m);
  for (let c = 0; c < m; c++) wdiag[c] = 1 / g[c * m + c]!;
  for (let c = 0; c < m; c++) {
    const rc = c * m;
    for (let i = c + 1; i < m; i++) {
      const ri = i * m;
      // Σ_{k=c}^{i−1} L_ik·W_kc = L_ic·W_cc + Σ_{k=c+1}^{i−1} L_ik·Wt_ck
      const s = g[ri + c]! * wdiag[c]! + dot(g, ri + c + 1, g, rc + c + 1, i - c - 1);
      g[rc + i] = -s / g[ri + i]!;
    }
    if ((c & 127) === 0) tick(options, m + c, total);
  }
  // 3. diag(P): P_jj = Σ_{k ≥ j} W_kj² = W_jj² + Σ_{k>j} Wt_jk²
  const pdiag = new Float64Array(m);
  for (let j = 0; j < m; j++) pdiag[j] = wdiag[j]! ** 2 + dot(g, j * m + j + 1, g, j * m + j + 1, m - j - 1);
  const b = new Float32Array(m * m);
  for (let i = 0; i < m; i++) {
    const ri = i * m;
    for (let j = i + 1; j < m; j++) {
      const rj = j * m;
      // P_ij (i < j) = Σ_{k ≥ j} Wt_ik·Wt_jk = Wt_ij·W_jj + Σ_{k>j} Wt_ik·Wt_jk
      const p = g[ri + j]! * wdiag[j]! + dot(g, ri + j + 1, g, rj + j + 1, m - j - 1);
      b[ri + j] = -p / pdiag[j]!;
      b[rj + i] = -p / pdiag[i]!;
    }
    if ((i & 127) === 0) tick(options, 2 * m + i, total);
  }
  return b;
}

function tick(options: RankingFitOptions, done: number, total: number): void {
  options.onProgress?.({ done, total });
  options.signal?.throwIfAborted();
}

/** Σ_{t<n} a[i+t]·b[j+t], four accumulators. */
function dot(a: Float64Array, i: number, b: Float64Array, j: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (; t + 3 < n; t += 4) {
    s0 += a[i + t]! * b[j + t]!;
    s1 += a[i + t + 1]! * b[j + t + 1]!;
    s2 += a[i + t + 2]! * b[j + t + 2]!;
    s3 += a[i + t + 3]! * b[j + t + 3]!;
  }
  for (; t < n; t++) s0 += a[i + t]! * b[j + t]!;
  return s0 + s1 + (s2 + s3);
}
