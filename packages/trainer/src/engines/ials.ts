import { type Confidence, type Csr, confidence, FactorModel } from '@movierec/core';
import { Rng } from '@movierec/data';
import { checkField, type InteractionData, rawHistory, userRows } from '../ranking/interactions.ts';
import { balancedChunks } from './bpmf/rows.mjs';
import { RATINGS_PER_THREAD } from './bpmf/sweeps.ts';
import { TrainingInputError, yieldToEventLoop } from './common.ts';
import type { RankingFitOptions } from './ease.ts';
import {
  gramChunks,
  type IalsScratch,
  ialsGramMirror,
  ialsGramRows,
  ialsRows,
  ialsScratch,
} from './ials-rows.mjs';
import { defaultThreads, WorkerPool } from './pool.ts';

/**
 * Implicit ALS (Hu, Koren & Volinsky, "Collaborative filtering for implicit feedback datasets", ICDM 2008):
 *   min Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²),  p_ui = 1 if u interacted with i else 0,
 *   c_ui = 1 + α·r_ui ('linear') or 1 + α·log(1 + r_ui/ε) ('log'), r_ui the rating or the number of views.
 * Each half-sweep solves every row's normal equations (YᵀY + Yᵀ(C_u − I)Y + λI)x_u = YᵀC_u p(u) (eq. 4) by a few
 * conjugate-gradient steps warm-started from the previous sweep (Takács, Pilászy & Tikk, "Applications of the
 * conjugate gradient method for implicit feedback collaborative filtering", RecSys 2011), so a row costs
 * O(k² + k·|history|) per step instead of a k³ solve; YᵀY is computed once per half-sweep.
 */
export interface IalsConfig {
  factors: number;
  /** Alternating sweeps (users then items). */
  sweeps: number;
  l2: number;
  confidence: Confidence;
  /** CG steps per row per sweep. */
  cgSteps: number;
  /** Initial factors ~ N(0, initStd²). */
  initStd: number;
  seed: number;
}

export const IALS_DEFAULTS: IalsConfig = {
  factors: 64,
  sweeps: 15,
  l2: 10,
  confidence: { scheme: 'linear', alpha: 2, epsilon: 1 },
  cgSteps: 3,
  initStd: 0.01,
  seed: 42,
};

/** The configuration over its defaults, checked (fitIals, trainIals). */
function ialsConfig(config: Partial<IalsConfig>): IalsConfig {
  const c: IalsConfig = {
    ...IALS_DEFAULTS,
    ...config,
    confidence: { ...IALS_DEFAULTS.confidence, ...config.confidence },
  };
  checkField('ials', 'factors', c.factors, 1, 1024, true);
  checkField('ials', 'sweeps', c.sweeps, 1, 10_000, true);
  checkField('ials', 'l2', c.l2, 0);
  checkField('ials', 'confidence.alpha', c.confidence.alpha, 0);
  checkField('ials', 'confidence.epsilon', c.confidence.epsilon, Number.MIN_VALUE);
  checkField('ials', 'cgSteps', c.cgSteps, 1, 1024, true);
  checkField('ials', 'initStd', c.initStd, 0);
  checkField('ials', 'seed', c.seed, 0, 2 ** 32, true);
  if (c.confidence.scheme !== 'linear' && c.confidence.scheme !== 'log')
    throw new TrainingInputError(
      `ials: confidence.scheme must be 'linear' or 'log', got ${JSON.stringify(c.confidence.scheme)}`,
    );
  return c;
}

/** What one fit works on: both orientations of the history with their confidences, and the factors. */
interface IalsProblem {
  c: IalsConfig;
  ur: ReturnType<typeof userRows>;
  byUser: Csr;
  byItem: Csr;
  userConf: Float32Array;
  itemConf: Float32Array;
  X: Float32Array;
  Y: Float32Array;
  started: number;
}

function ialsProblem(data: InteractionData, c: IalsConfig): IalsProblem {
  const started = performance.now();
  const ur = userRows(data, 'ials');
  const { numUsers, numItems } = ur;
  const byUser = rawHistory(data, ur);
  const byItem = transpose(byUser, numItems);
  // confidences once: c_ui per entry of each orientation
  const conf = (csr: Csr) => Float32Array.from(csr.values, (r) => confidence(c.confidence, r));
  const k = c.factors;
  const rng = new Rng(c.seed);
  const X = Float32Array.from({ length: numUsers * k }, () => c.initStd * rng.normal());
  const Y = Float32Array.from({ length: numItems * k }, () => c.initStd * rng.normal());
  return { c, ur, byUser, byItem, userConf: conf(byUser), itemConf: conf(byItem), X, Y, started };
}

function ialsModel(data: InteractionData, p: IalsProblem, X: Float32Array, Y: Float32Array): FactorModel {
  const { c } = p;
  return new FactorModel({
    family: 'ials',
    users: data.users,
    items: data.items,
    factors: c.factors,
    userFactors: X,
    itemFactors: Y,
    foldIn: { l2: c.l2, confidence: c.confidence },
    history: p.byUser,
    popularity: p.ur.popularity,
    config: { ...c },
    log: {
      engine: 'ials',
      epochs: [],
      seconds: (performance.now() - p.started) / 1000,
      numInteractions: data.ratings.length,
    },
  });
}

/**
 * One half-sweep on this thread: O = `other`, gram = OᵀO (ialsGramRows over every row of the Gram), then every
 * row of `target` by CG given O (ialsRows).
 */
function halfSweep(
  target: Float32Array,
  other: Float32Array,
  rows: Csr,
  conf: Float32Array,
  c: IalsConfig,
  gram: Float64Array,
  scratch: IalsScratch,
): void {
  const k = c.factors;
  ialsGramRows(other, k, gram, 0, k);
  ialsGramMirror(gram, k);
  ialsRows(target, other, rows, conf, gram, k, c.l2, c.cgSteps, 0, rows.offsets.length - 1, scratch);
}

/** Fits iALS on this thread (synchronously: fitRanking, tune); trainIals runs the same sweeps on worker threads. */
export function fitIals(
  data: InteractionData,
  config: Partial<IalsConfig> = {},
  options: RankingFitOptions = {},
): FactorModel {
  const p = ialsProblem(data, ialsConfig(config));
  const { c, X, Y } = p;
  const gram = new Float64Array(c.factors * c.factors);
  const scratch = ialsScratch(c.factors);
  for (let sweep = 0; sweep < c.sweeps; sweep++) {
    halfSweep(X, Y, p.byUser, p.userConf, c, gram, scratch);
    halfSweep(Y, X, p.byItem, p.itemConf, c, gram, scratch);
    options.onProgress?.({ done: sweep + 1, total: c.sweeps });
    options.signal?.throwIfAborted();
  }
  return ialsModel(data, p, X, Y);
}

/** Chunks of rows per side, fixed by the data (not the thread count). */
const CHUNKS = 64;

/** A copy of `a` on a SharedArrayBuffer (worker threads read or write it). */
function shared<T extends Float32Array | Int32Array>(a: T): T {
  const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

/**
 * Fits iALS on `options.threads` worker threads (default every core; fewer when there are under 25,000
 * interactions per thread): each half-sweep's Gram OᵀO by rows of the Gram, then its rows' CG solves by 64 chunks
 * of rows balanced by history length, on the training pool (pool.ts, rows-worker.mjs) over SharedArrayBuffers.
 * Every row's solve reads only the other side and OᵀO, and every Gram entry sums in the same order, so the model
 * is bit-identical to fitIals's for any thread count. A worker's error fails the fit with its message; `signal`
 * stops every worker.
 */
export async function trainIals(
  data: InteractionData,
  config: Partial<IalsConfig> = {},
  options: RankingFitOptions & { workerUrl?: URL } = {},
): Promise<FactorModel> {
  const c = ialsConfig(config);
  const requested = options.threads ?? defaultThreads();
  if (!(Number.isInteger(requested) && requested >= 1))
    throw new TrainingInputError(`ials: threads must be a positive integer, got ${requested}`);
  const threads = Math.max(1, Math.min(requested, Math.floor(data.ratings.length / RATINGS_PER_THREAD)));
  if (threads === 1) {
    await yieldToEventLoop();
    return fitIals(data, config, options);
  }
  const p = ialsProblem(data, c);
  const k = c.factors;
  const X = shared(p.X);
  const Y = shared(p.Y);
  const rows = (csr: Csr) => ({ offsets: shared(csr.offsets), items: shared(csr.items) });
  const byUser = rows(p.byUser);
  const byItem = rows(p.byItem);
  // a row's k × k product with OᵀO per CG step ≈ k/2 history entries' (2k flops each)
  const perRow = Math.ceil(k / 2);
  const bounds = [
    balancedChunks(byUser.offsets, p.ur.numUsers, Math.min(CHUNKS, Math.max(1, p.ur.numUsers)), perRow),
    balancedChunks(byItem.offsets, p.ur.numItems, Math.min(CHUNKS, Math.max(1, p.ur.numItems)), perRow),
  ];
  const gram = new Float64Array(new SharedArrayBuffer(8 * k * k));
  const control = new Int32Array(new SharedArrayBuffer(4));
  const pool = new WorkerPool(
    options.workerUrl ?? new URL('./rows-worker.mjs', import.meta.url),
    threads,
    {
      kind: 'ials',
      byUser,
      byItem,
      userConf: shared(p.userConf),
      itemConf: shared(p.itemConf),
      X,
      Y,
      gram,
      bounds,
      gramBounds: gramChunks(k, Math.min(k, 4 * threads)),
      control,
      k,
      l2: c.l2,
      cgSteps: c.cgSteps,
    },
    'ials',
  );
  const step = async (message: { type: 'gram' | 'rows'; side: 0 | 1 }) => {
    Atomics.store(control, 0, 0);
    await pool.run(message, { signal: options.signal });
  };
  try {
    for (let sweep = 0; sweep < c.sweeps; sweep++)
      for (const side of [0, 1] as const) {
        options.signal?.throwIfAborted();
        await step({ type: 'gram', side });
        ialsGramMirror(gram, k);
        await step({ type: 'rows', side });
        if (side === 1) options.onProgress?.({ done: sweep + 1, total: c.sweeps });
      }
  } finally {
    await pool.close();
  }
  // plain (unshared) copies for the model
  return ialsModel(data, p, X.slice(), Y.slice());
}

/** CSR (row → cols) to (col → rows), values carried along; rows stay ascending. */
export function transpose(csr: Csr, numCols: number): Csr {
  const offsets = new Int32Array(numCols + 1);
  for (let e = 0; e < csr.items.length; e++) offsets[csr.items[e]! + 1]!++;
  for (let j = 0; j < numCols; j++) offsets[j + 1]! += offsets[j]!;
  const items = new Int32Array(csr.items.length);
  const values = new Float32Array(csr.items.length);
  const at = offsets.slice(0, numCols);
  const rows = csr.offsets.length - 1;
  for (let r = 0; r < rows; r++)
    for (let e = csr.offsets[r]!; e < csr.offsets[r + 1]!; e++) {
      const slot = at[csr.items[e]!]!++;
      items[slot] = r;
      values[slot] = csr.values[e]!;
    }
  return { offsets, items, values };
}
