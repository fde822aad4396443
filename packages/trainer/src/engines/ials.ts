import { type Confidence, type Csr, confidence, FactorModel } from '@movierec/core';
import { Rng } from '@movierec/data';
import { checkField, type InteractionData, rawHistory, userRows } from '../ranking/interactions.ts';
import { TrainingInputError } from './common.ts';
import type { RankingFitOptions } from './ease.ts';

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

export function fitIals(
  data: InteractionData,
  config: Partial<IalsConfig> = {},
  options: RankingFitOptions = {},
): FactorModel {
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
  const started = performance.now();
  const ur = userRows(data, 'ials');
  const { numUsers, numItems } = ur;
  const byUser = rawHistory(data, ur);
  const byItem = transpose(byUser, numItems);
  // confidences once: c_ui per entry of each orientation
  const conf = (csr: Csr) => Float32Array.from(csr.values, (r) => confidence(c.confidence, r));
  const userConf = conf(byUser);
  const itemConf = conf(byItem);
  const k = c.factors;
  const rng = new Rng(c.seed);
  const X = Float32Array.from({ length: numUsers * k }, () => c.initStd * rng.normal());
  const Y = Float32Array.from({ length: numItems * k }, () => c.initStd * rng.normal());
  const scratch = cgScratch(k);
  for (let sweep = 0; sweep < c.sweeps; sweep++) {
    halfSweep(X, Y, byUser, userConf, numUsers, k, c, scratch);
    halfSweep(Y, X, byItem, itemConf, numItems, k, c, scratch);
    options.onProgress?.({ done: sweep + 1, total: c.sweeps });
    options.signal?.throwIfAborted();
  }
  return new FactorModel({
    family: 'ials',
    users: data.users,
    items: data.items,
    factors: k,
    userFactors: X,
    itemFactors: Y,
    foldIn: { l2: c.l2, confidence: c.confidence },
    history: byUser,
    popularity: ur.popularity,
    config: { ...c },
    log: {
      engine: 'ials',
      epochs: [],
      seconds: (performance.now() - started) / 1000,
      numInteractions: data.ratings.length,
    },
  });
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

function cgScratch(k: number) {
  return {
    gram: new Float64Array(k * k),
    x: new Float64Array(k),
    r: new Float64Array(k),
    p: new Float64Array(k),
    ap: new Float64Array(k),
  };
}

/**
 * Solves every row x_u of `target` against fixed `other`: A = OᵀO + Σ_{j∈h(u)} (c_uj − 1) o_j o_jᵀ + λI,
 * b = Σ_j c_uj o_j, by `cgSteps` CG steps from the current x_u (Takács et al. 2011, alg. 2).
 */
function halfSweep(
  target: Float32Array,
  other: Float32Array,
  rows: Csr,
  conf: Float32Array,
  numRows: number,
  k: number,
  c: IalsConfig,
  s: ReturnType<typeof cgScratch>,
): void {
  const { gram, x, r, p, ap } = s;
  gram.fill(0);
  const numOther = other.length / k;
  for (let j = 0; j < numOther; j++) {
    const base = j * k;
    for (let a = 0; a < k; a++) {
      const oa = other[base + a]!;
      if (oa === 0) continue;
      for (let b = 0; b <= a; b++) gram[a * k + b]! += oa * other[base + b]!;
    }
  }
  for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) gram[a * k + b] = gram[b * k + a]!;
  // A·v for the row's system, into out
  const apply = (from: number, to: number, v: Float64Array, out: Float64Array) => {
    for (let a = 0; a < k; a++) {
      let t = c.l2 * v[a]!;
      const ga = a * k;
      for (let b = 0; b < k; b++) t += gram[ga + b]! * v[b]!;
      out[a] = t;
    }
    for (let e = from; e < to; e++) {
      const base = rows.items[e]! * k;
      let d = 0;
      for (let a = 0; a < k; a++) d += other[base + a]! * v[a]!;
      d *= conf[e]! - 1;
      for (let a = 0; a < k; a++) out[a]! += d * other[base + a]!;
    }
  };
  for (let u = 0; u < numRows; u++) {
    const from = rows.offsets[u]!;
    const to = rows.offsets[u + 1]!;
    const tb = u * k;
    if (from === to) {
      // no interactions: the minimiser of Σ_i (0 − xᵀy_i)² + λ‖x‖² is x = 0
      target.fill(0, tb, tb + k);
      continue;
    }
    for (let a = 0; a < k; a++) x[a] = target[tb + a]!;
    // r = b − A·x
    apply(from, to, x, ap);
    for (let a = 0; a < k; a++) r[a] = -ap[a]!;
    for (let e = from; e < to; e++) {
      const base = rows.items[e]! * k;
      const ce = conf[e]!;
      for (let a = 0; a < k; a++) r[a]! += ce * other[base + a]!;
    }
    for (let a = 0; a < k; a++) p[a] = r[a]!;
    let rr = 0;
    for (let a = 0; a < k; a++) rr += r[a]! * r[a]!;
    for (let step = 0; step < c.cgSteps && rr > 1e-20; step++) {
      apply(from, to, p, ap);
      let pap = 0;
      for (let a = 0; a < k; a++) pap += p[a]! * ap[a]!;
      const alpha = rr / pap;
      let rrNew = 0;
      for (let a = 0; a < k; a++) {
        x[a]! += alpha * p[a]!;
        r[a]! -= alpha * ap[a]!;
        rrNew += r[a]! * r[a]!;
      }
      const beta = rrNew / rr;
      for (let a = 0; a < k; a++) p[a] = r[a]! + beta * p[a]!;
      rr = rrNew;
    }
    for (let a = 0; a < k; a++) target[tb + a] = x[a]!;
  }
}
