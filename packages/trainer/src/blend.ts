import { lowRankProduct, type MFParams, orthonormaliseColumns, symmetricEigen } from '@movierec/core';
import { Rng } from '@movierec/data';

/**
 * A weighted average of MF models is one MF model:
 *   Σ_m w_m (μ^m + b_u^m + b_i^m + p_u^m·q_i^m) = Σ w_m μ^m + Σ w_m b_u^m + Σ w_m b_i^m + [√w_m p_u^m]·[√w_m q_i^m]
 * (biases blend linearly, factor vectors concatenate scaled by √w_m). Weights must be ≥ 0.
 */
export function blendParams(models: readonly MFParams[], weights?: readonly number[]): MFParams {
  const first = models[0];
  if (!first) throw new Error('blendParams: models is empty');
  const w = weights ?? models.map(() => 1 / models.length);
  if (w.length !== models.length)
    throw new Error(`blendParams: ${w.length} weights for ${models.length} models`);
  const { numUsers, numItems } = first;
  let K = 0;
  models.forEach((m, j) => {
    if (m.numUsers !== numUsers || m.numItems !== numItems)
      throw new Error(
        `blendParams: model ${j} is ${m.numUsers}×${m.numItems}, model 0 is ${numUsers}×${numItems}`,
      );
    if (!(w[j]! >= 0)) throw new Error(`blendParams: weight ${j} is ${w[j]}, must be ≥ 0`);
    K += m.factors;
  });
  const out: MFParams = {
    factors: K,
    numUsers,
    numItems,
    globalMean: 0,
    userBias: new Float32Array(numUsers),
    itemBias: new Float32Array(numItems),
    userFactors: new Float32Array(numUsers * K),
    itemFactors: new Float32Array(numItems * K),
  };
  let off = 0;
  models.forEach((m, j) => {
    const wj = w[j]!;
    const s = Math.sqrt(wj);
    const k = m.factors;
    out.globalMean += wj * m.globalMean;
    for (let u = 0; u < numUsers; u++) {
      out.userBias[u]! += wj * m.userBias[u]!;
      for (let a = 0; a < k; a++) out.userFactors[u * K + off + a] = s * m.userFactors[u * k + a]!;
    }
    for (let i = 0; i < numItems; i++) {
      out.itemBias[i]! += wj * m.itemBias[i]!;
      for (let a = 0; a < k; a++) out.itemFactors[i * K + off + a] = s * m.itemFactors[i * k + a]!;
    }
    off += k;
  });
  return out;
}

/**
 * Best rank-r approximation of the interaction part P Qᵀ of an MF model (biases untouched), by randomized SVD
 * (Halko, Martinsson & Tropp 2011, alg. 4.4 with `powerIterations` subspace iterations):
 *   P Qᵀ ≈ U_r Σ_r V_rᵀ  →  P' = U_r Σ_r^½, Q' = V_r Σ_r^½.
 * Works through products with P and Q only, O((users + items) · K · (r + oversample)) per pass.
 */
export function compressParams(
  p: MFParams,
  rank: number,
  options: { oversample?: number; powerIterations?: number; seed?: number } = {},
): MFParams {
  const K = p.factors;
  if (!(rank >= 1) || !Number.isInteger(rank))
    throw new Error(`compressParams: rank must be a positive integer, got ${rank}`);
  if (rank >= K) return p;
  const { numUsers: nu, numItems: ni } = p;
  const l = Math.min(K, rank + (options.oversample ?? 16));
  const rng = new Rng(options.seed ?? 7);
  const P = p.userFactors;
  const Q = p.itemFactors;
  // Y = P (Qᵀ Ω), Ω ~ N(0,1)^{ni × l}.
  let Z: Float64Array = new Float64Array(ni * l);
  for (let i = 0; i < Z.length; i++) Z[i] = rng.normal();
  let Y: Float64Array = lowRankProduct(P, Q, Z, nu, ni, K, l);
  orthonormaliseColumns(Y, nu, l);
  for (let it = 0; it < (options.powerIterations ?? 2); it++) {
    Z = lowRankProduct(Q, P, Y, ni, nu, K, l);
    orthonormaliseColumns(Z, ni, l);
    Y = lowRankProduct(P, Q, Z, nu, ni, K, l);
    orthonormaliseColumns(Y, nu, l);
  }
  // Bᵀ = Mᵀ Y = Q (Pᵀ Y), ni × l; eigen-decompose B Bᵀ = W Σ² Wᵀ (l × l).
  const Bt = lowRankProduct(Q, P, Y, ni, nu, K, l);
  const G = new Float64Array(l * l);
  for (let i = 0; i < ni; i++)
    for (let a = 0; a < l; a++) {
      const x = Bt[i * l + a]!;
      if (x === 0) continue;
      for (let b = 0; b <= a; b++) G[a * l + b]! += x * Bt[i * l + b]!;
    }
  for (let a = 0; a < l; a++) for (let b = 0; b < a; b++) G[b * l + a] = G[a * l + b]!;
  const { values, vectors } = symmetricEigen(G, l);
  const order = Array.from(values.keys()).sort((a, b) => values[b]! - values[a]!);
  const out: MFParams = {
    factors: rank,
    numUsers: nu,
    numItems: ni,
    globalMean: p.globalMean,
    userBias: p.userBias.slice(),
    itemBias: p.itemBias.slice(),
    userFactors: new Float32Array(nu * rank),
    itemFactors: new Float32Array(ni * rank),
  };
  for (let r = 0; r < rank; r++) {
    const c = order[r]!;
    const sigma = Math.sqrt(Math.max(0, values[c]!));
    if (sigma === 0) continue;
    const su = Math.sqrt(sigma);
    // U = Y W, P' = U Σ^½;  V = Bᵀ W Σ⁻¹, Q' = V Σ^½ = Bᵀ W Σ^-½.
    for (let u = 0; u < nu; u++) {
      let s = 0;
      for (let a = 0; a < l; a++) s += Y[u * l + a]! * vectors[a * l + c]!;
      out.userFactors[u * rank + r] = s * su;
    }
    for (let i = 0; i < ni; i++) {
      let s = 0;
      for (let a = 0; a < l; a++) s += Bt[i * l + a]! * vectors[a * l + c]!;
      out.itemFactors[i * rank + r] = s / su;
    }
  }
  return out;
}

/**
 * Streaming posterior mean of MF samples with bounded memory: the running sum Σ_m P_m Q_mᵀ is held as a rank-`keepRank`
 * factorisation plus a buffer of up to `buffer` raw samples; a full buffer is merged by compressParams (truncated
 * SVD of [P_c | P_new…][Q_c | Q_new…]ᵀ). The mean is that sum / S with biases averaged:
 *   r̂ = μ + (1/S) Σ_m (b_u^m + b_i^m + p_u^m·q_i^m).
 */
export class PosteriorMean {
  readonly #nu: number;
  readonly #ni: number;
  readonly #k: number;
  readonly #keepRank: number;
  readonly #buffer: number;
  readonly #seed: number;
  readonly #userBiasSum: Float64Array;
  readonly #itemBiasSum: Float64Array;
  #compressed: { factors: number; user: Float32Array; item: Float32Array } = {
    factors: 0,
    user: new Float32Array(0),
    item: new Float32Array(0),
  };
  #pending: { user: Float32Array; item: Float32Array }[] = [];
  #count = 0;

  constructor(
    numUsers: number,
    numItems: number,
    factorsPerSample: number,
    options: { keepRank?: number; buffer?: number; seed?: number } = {},
  ) {
    this.#nu = numUsers;
    this.#ni = numItems;
    this.#k = factorsPerSample;
    this.#keepRank = options.keepRank ?? 64;
    this.#buffer = options.buffer ?? 25;
    this.#seed = options.seed ?? 7;
    this.#userBiasSum = new Float64Array(numUsers);
    this.#itemBiasSum = new Float64Array(numItems);
  }

  get count(): number {
    return this.#count;
  }

  add(sample: {
    userBias: Float32Array;
    itemBias: Float32Array;
    userFactors: Float32Array;
    itemFactors: Float32Array;
  }): void {
    for (let u = 0; u < this.#nu; u++) this.#userBiasSum[u]! += sample.userBias[u]!;
    for (let i = 0; i < this.#ni; i++) this.#itemBiasSum[i]! += sample.itemBias[i]!;
    this.#pending.push({ user: sample.userFactors.slice(), item: sample.itemFactors.slice() });
    this.#count++;
    if (this.#pending.length >= this.#buffer) this.#merge();
  }

  /** The running SUM as MF params (unit weights, zero biases): compressed part, then the buffered samples. */
  #sumParams(): MFParams {
    const c = this.#compressed;
    const k = this.#k;
    const K = c.factors + this.#pending.length * k;
    const p: MFParams = {
      factors: K,
      numUsers: this.#nu,
      numItems: this.#ni,
      globalMean: 0,
      userBias: new Float32Array(this.#nu),
      itemBias: new Float32Array(this.#ni),
      userFactors: new Float32Array(this.#nu * K),
      itemFactors: new Float32Array(this.#ni * K),
    };
    // Column block [at, at + width) of the row-major rows × K output ← part (rows × width): a plain strided copy
    // (a subarray per row allocated a view object per row and dominated the cost).
    const fill = (out: Float32Array, rows: number, part: Float32Array, width: number, at: number) => {
      for (let r = 0, src = 0, dst = at; r < rows; r++, dst += K)
        for (let a = 0; a < width; a++) out[dst + a] = part[src++]!;
    };
    fill(p.userFactors, this.#nu, c.user, c.factors, 0);
    fill(p.itemFactors, this.#ni, c.item, c.factors, 0);
    this.#pending.forEach((s, m) => {
      fill(p.userFactors, this.#nu, s.user, k, c.factors + m * k);
      fill(p.itemFactors, this.#ni, s.item, k, c.factors + m * k);
    });
    return p;
  }

  #merge(): void {
    // One subspace iteration is enough here: the spectrum of a sum of posterior samples decays fast.
    const merged = compressParams(this.#sumParams(), this.#keepRank, {
      seed: this.#seed + this.#count,
      powerIterations: 1,
    });
    this.#compressed = { factors: merged.factors, user: merged.userFactors, item: merged.itemFactors };
    this.#pending = [];
  }

  /** The mean so far as one MF model (uncompressed buffer included; factors ≤ keepRank + buffer·k). */
  mean(globalMean: number): MFParams {
    if (this.#count === 0) throw new Error('PosteriorMean: no samples added');
    const p = this.#sumParams();
    p.globalMean = globalMean;
    const w = 1 / this.#count;
    for (let u = 0; u < this.#nu; u++) p.userBias[u] = this.#userBiasSum[u]! * w;
    for (let i = 0; i < this.#ni; i++) p.itemBias[i] = this.#itemBiasSum[i]! * w;
    // (1/S) Σ p·q: scale the user side only.
    for (let j = 0; j < p.userFactors.length; j++) p.userFactors[j]! *= w;
    return p;
  }
}
