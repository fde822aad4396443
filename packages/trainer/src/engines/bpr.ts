import { FactorModel } from '@movierec/core';
import { Rng } from '@movierec/data';
import { checkField, type InteractionData, rawHistory, userRows } from '../ranking/interactions.ts';
import { TrainingInputError } from './common.ts';
import type { RankingFitOptions } from './ease.ts';

/**
 * BPR-MF (Rendle, Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian personalized ranking from implicit
 * feedback", UAI 2009): x̂_ui = p_u·q_i + b_i, maximise Σ ln σ(x̂_ui − x̂_uj) − λ‖Θ‖² over triples (u, i, j) with i
 * in u's history and j not, by LearnBPR — stochastic gradient ascent on triples drawn with replacement
 * (u, i) uniform over the interactions, j uniform over the catalogue until it is outside u's history:
 *   e = σ(−(x̂_ui − x̂_uj));  p_u += η(e(q_i − q_j) − λp_u);  q_i += η(e·p_u − λq_i);  q_j += η(−e·p_u − λq_j);
 *   b_i += η(e − λb_i);  b_j += η(−e − λb_j).
 * One epoch = as many triples as interactions. `positiveThreshold`: with ratings, only ratings ≥ it are positives
 * (0 = every interaction). Fold-in of a new user (FactorModel.foldIn) is the implicit least-squares solve against
 * the fixed item factors with c = 1 + α·r, not further BPR steps: closed form, deterministic, < 1 ms.
 */
export interface BprConfig {
  factors: number;
  epochs: number;
  learningRate: number;
  l2: number;
  initStd: number;
  positiveThreshold: number;
  /** λ and α of the least-squares fold-in of new users. */
  foldInL2: number;
  foldInAlpha: number;
  seed: number;
}

export const BPR_DEFAULTS: BprConfig = {
  factors: 64,
  epochs: 60,
  learningRate: 0.05,
  l2: 0.002,
  initStd: 0.1,
  positiveThreshold: 0,
  foldInL2: 10,
  foldInAlpha: 2,
  seed: 42,
};

export function fitBpr(
  data: InteractionData,
  config: Partial<BprConfig> = {},
  options: RankingFitOptions = {},
): FactorModel {
  const c: BprConfig = { ...BPR_DEFAULTS, ...config };
  checkField('bpr', 'factors', c.factors, 1, 1024, true);
  checkField('bpr', 'epochs', c.epochs, 1, 100_000, true);
  checkField('bpr', 'learningRate', c.learningRate, Number.MIN_VALUE);
  checkField('bpr', 'l2', c.l2, 0);
  checkField('bpr', 'initStd', c.initStd, 0);
  checkField('bpr', 'positiveThreshold', c.positiveThreshold, Number.NEGATIVE_INFINITY);
  checkField('bpr', 'foldInL2', c.foldInL2, Number.MIN_VALUE);
  checkField('bpr', 'foldInAlpha', c.foldInAlpha, 0);
  checkField('bpr', 'seed', c.seed, 0, 2 ** 32, true);
  const started = performance.now();
  const ur = userRows(data, 'bpr');
  const { numUsers, numItems } = ur;
  const history = rawHistory(data, ur);
  // positives: (u, i) pairs with value ≥ positiveThreshold
  const posUsers: number[] = [];
  const posItems: number[] = [];
  for (let u = 0; u < numUsers; u++)
    for (let e = history.offsets[u]!; e < history.offsets[u + 1]!; e++)
      if (history.values[e]! >= c.positiveThreshold) {
        posUsers.push(u);
        posItems.push(history.items[e]!);
      }
  const n = posUsers.length;
  if (n === 0)
    throw new TrainingInputError(`bpr: no interaction reaches positiveThreshold ${c.positiveThreshold}`);
  const k = c.factors;
  const rng = new Rng(c.seed);
  const P = Float32Array.from({ length: numUsers * k }, () => c.initStd * rng.normal());
  const Q = Float32Array.from({ length: numItems * k }, () => c.initStd * rng.normal());
  const b = new Float32Array(numItems);
  const { learningRate: eta, l2 } = c;
  const inHistory = (u: number, j: number) => {
    let lo = history.offsets[u]!;
    let hi = history.offsets[u + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = history.items[mid]!;
      if (t === j) return true;
      if (t < j) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  };
  for (let epoch = 0; epoch < c.epochs; epoch++) {
    for (let s = 0; s < n; s++) {
      const t = rng.int(n);
      const u = posUsers[t]!;
      const i = posItems[t]!;
      let j = rng.int(numItems);
      for (let tries = 0; inHistory(u, j) && tries < 100; tries++) j = rng.int(numItems);
      if (inHistory(u, j)) continue;
      const pu = u * k;
      const qi = i * k;
      const qj = j * k;
      let x = b[i]! - b[j]!;
      for (let f = 0; f < k; f++) x += P[pu + f]! * (Q[qi + f]! - Q[qj + f]!);
      // e = σ(−x̂_uij) = 1 / (1 + e^{x̂_uij})
      const e = 1 / (1 + Math.exp(x));
      for (let f = 0; f < k; f++) {
        const puf = P[pu + f]!;
        const qif = Q[qi + f]!;
        const qjf = Q[qj + f]!;
        P[pu + f] = puf + eta * (e * (qif - qjf) - l2 * puf);
        Q[qi + f] = qif + eta * (e * puf - l2 * qif);
        Q[qj + f] = qjf + eta * (-e * puf - l2 * qjf);
      }
      b[i] = b[i]! + eta * (e - l2 * b[i]!);
      b[j] = b[j]! + eta * (-e - l2 * b[j]!);
    }
    options.onProgress?.({ done: epoch + 1, total: c.epochs });
    options.signal?.throwIfAborted();
  }
  return new FactorModel({
    family: 'bpr',
    users: data.users,
    items: data.items,
    factors: k,
    userFactors: P,
    itemFactors: Q,
    itemBias: b,
    foldIn: { l2: c.foldInL2, confidence: { scheme: 'linear', alpha: c.foldInAlpha, epsilon: 1 } },
    history,
    popularity: ur.popularity,
    config: { ...c },
    log: {
      engine: 'bpr',
      epochs: [],
      seconds: (performance.now() - started) / 1000,
      numInteractions: data.ratings.length,
    },
  });
}
