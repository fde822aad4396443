import type { TemporalParams } from './temporal.ts';

/**
 * Learned parameters of biased matrix factorisation (Koren, Bell & Volinsky 2009):
 *   r̂(u,i) = μ + b_u + b_i + p_u · q_i
 * Factor matrices are row-major float32: p_u = userFactors[u*factors … (u+1)*factors).
 */
export interface MFParams {
  /** Number of latent factors k. */
  readonly factors: number;
  readonly numUsers: number;
  readonly numItems: number;
  /** μ, the global mean rating. */
  globalMean: number;
  /** b_u, length numUsers. */
  readonly userBias: Float32Array;
  /** b_i, length numItems. */
  readonly itemBias: Float32Array;
  /** P, numUsers × factors. */
  readonly userFactors: Float32Array;
  /** Q, numItems × factors. */
  readonly itemFactors: Float32Array;
  /**
   * Optional ranking-only term per item, length numItems: recommend() ranks by r̂(u,i) + itemRankBias_i while
   * predictions (and the scores it returns) stay r̂. Set by the Bayesian default engine to w·ln(1 + n_i), n_i the
   * movie's training ratings, so top-k lists weigh how likely a movie is to be watched, not only how well it would
   * be rated (an MSE model alone ranks rarely-rated movies first). See bench/accuracy-ranking.ts.
   */
  itemRankBias?: Float32Array;
  /**
   * Optional time-aware bias terms (Koren, KDD 2009): r̂(u,i,t) adds b_{i,Bin(t)} + α_u·dev_u(t) + b_{u,day(t)};
   * see temporal.ts. A model without them predicts the same at every time.
   */
  temporal?: TemporalParams;
}

/** A user's parameters outside the trained matrices, e.g. from fold-in. */
export interface UserVector {
  bias: number;
  factors: Float32Array;
}

export function allocParams(numUsers: number, numItems: number, factors: number, globalMean = 0): MFParams {
  return {
    factors,
    numUsers,
    numItems,
    globalMean,
    userBias: new Float32Array(numUsers),
    itemBias: new Float32Array(numItems),
    userFactors: new Float32Array(numUsers * factors),
    itemFactors: new Float32Array(numItems * factors),
  };
}

/** A compact copy of the parameters (out of a kernel arena, or a snapshot of the best epoch); time terms shared. */
export function copyParams(p: MFParams): MFParams {
  const out = allocParams(p.numUsers, p.numItems, p.factors, p.globalMean);
  out.userBias.set(p.userBias);
  out.itemBias.set(p.itemBias);
  out.userFactors.set(p.userFactors);
  out.itemFactors.set(p.itemFactors);
  if (p.itemRankBias) out.itemRankBias = p.itemRankBias.slice();
  if (p.temporal) out.temporal = p.temporal;
  return out;
}
