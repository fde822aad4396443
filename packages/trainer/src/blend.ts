import { LowRankProducts, type MFParams, symmetricEigen } from '@movierec/core';
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
 * Works through products with P and Q only, O((users + items) · K · (r + oversample)) per pass, on the WebAssembly
 * SIMD kernel of core's LowRankProducts (`simd: false`: its scalar reference; both give the same float64 sums).
 */
export function compressParams(
  p: MFParams,
  rank: number,
  options: { oversample?: number; powerIterations?: number; seed?: number; simd?: boolean } = {},
): MFParams {
  const K = p.factors;
  if (!(rank >= 1) || !Number.isInteger(rank))
    throw new Error(`compressParams: rank must be a positive integer, got ${rank}`);
  if (rank >= K) return p;
  const { numUsers: nu, numItems: ni } = p;
  const M = LowRankProducts.of(p.userFactors, p.itemFactors, nu, ni, K, oversampled(K, rank, options), {
    ...(options.simd === undefined ? {} : { simd: options.simd }),
  });
  return compressProducts(M, nu, ni, K, rank, p, options);
}

/** l = min(K, rank + oversample): the width of the randomized range finder. */
function oversampled(K: number, rank: number, options: { oversample?: number }): number {
  return Math.min(K, rank + (options.oversample ?? 16));
}

/** compressParams on factors already in the kernel (M.P = P, M.Q = Q, K columns each); biases from `p`. */
function compressProducts(
  M: LowRankProducts,
  nu: number,
  ni: number,
  K: number,
  rank: number,
  p: Pick<MFParams, 'globalMean' | 'userBias' | 'itemBias'>,
  options: { oversample?: number; powerIterations?: number; seed?: number },
): MFParams {
  const l = oversampled(K, rank, options);
  const rng = new Rng(options.seed ?? 7);
  // Y = P (Qᵀ Ω), Ω ~ N(0,1)^{ni × l}.
  let Z: Float64Array = new Float64Array(ni * l);
  for (let i = 0; i < Z.length; i++) Z[i] = rng.normal();
  let Y: Float64Array = M.pqx(Z, l);
  M.orthonormalise(Y, nu, l);
  // Subspace iteration: Z = orth(Mᵀ Y), Y = orth(M Z) (Halko et al. alg. 4.4).
  for (let it = 0; it < (options.powerIterations ?? 2); it++) {
    Z = M.qpx(Y, l);
    M.orthonormalise(Z, ni, l);
    Y = M.pqx(Z, l);
    M.orthonormalise(Y, nu, l);
  }
  // Bᵀ = Mᵀ Y = Q (Pᵀ Y), ni × l; eigen-decompose B Bᵀ = W Σ² Wᵀ (l × l).
  const Bt = M.qpx(Y, l);
  const G = M.gram(Bt, ni, l);
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
  // U = Y W, P' = U Σ^½;  V = Bᵀ W Σ⁻¹, Q' = V Σ^½ = Bᵀ W Σ^-½ — as two products with the scaled top-rank columns of W.
  const Wu = new Float64Array(l * rank);
  const Wi = new Float64Array(l * rank);
  for (let r = 0; r < rank; r++) {
    const c = order[r]!;
    const sigma = Math.sqrt(Math.max(0, values[c]!));
    if (sigma === 0) continue;
    const su = Math.sqrt(sigma);
    for (let a = 0; a < l; a++) {
      Wu[a * rank + r] = vectors[a * l + c]! * su;
      Wi[a * rank + r] = vectors[a * l + c]! / su;
    }
  }
  out.userFactors.set(M.multiply(Y, nu, l, Wu, rank));
  out.itemFactors.set(M.multiply(Bt, ni, l, Wi, rank));
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
    this.#fillSum(p.userFactors, p.itemFactors, K);
    return p;
  }

  /** The sum's factor matrices (rows × K each, K = compressed + buffered factors) into `user` and `item`. */
  #fillSum(user: Float32Array, item: Float32Array, K: number): void {
    const c = this.#compressed;
    const k = this.#k;
    // Row r of the output is [compressed row r | sample 1 row r | …]: written row by row, each output row once and
    // in order (a pass per sample wrote 40 bytes per 2 KiB row and missed the cache on every row).
    const fill = (out: Float32Array, rows: number, parts: { data: Float32Array; width: number }[]) => {
      if (out.length < rows * K) throw new Error(`PosteriorMean: ${out.length} < ${rows}×${K}`);
      for (let r = 0, dst = 0; r < rows; r++)
        for (const { data, width } of parts)
          for (let a = 0, src = r * width; a < width; a++) out[dst++] = data[src + a]!;
    };
    fill(user, this.#nu, [
      { data: c.user, width: c.factors },
      ...this.#pending.map((s) => ({ data: s.user, width: k })),
    ]);
    fill(item, this.#ni, [
      { data: c.item, width: c.factors },
      ...this.#pending.map((s) => ({ data: s.item, width: k })),
    ]);
  }

  #merge(): void {
    const c = this.#compressed;
    const K = c.factors + this.#pending.length * this.#k;
    const rank = this.#keepRank;
    // The sum's factors go straight into the kernel's memory (no intermediate copy), then the samples are let go
    // (bounded peak memory: the buffer, once, plus the kernel's copy).
    if (rank >= K) {
      const sum = this.#sumParams();
      this.#pending = [];
      this.#compressed = { factors: K, user: sum.userFactors, item: sum.itemFactors };
      return;
    }
    const M = new LowRankProducts(this.#nu, this.#ni, K, oversampled(K, rank, {}));
    this.#fillSum(M.P, M.Q, K);
    this.#pending = [];
    const merged = compressProducts(
      M,
      this.#nu,
      this.#ni,
      K,
      rank,
      { globalMean: 0, userBias: new Float32Array(this.#nu), itemBias: new Float32Array(this.#ni) },
      // One subspace iteration is enough here: the spectrum of a sum of posterior samples decays fast.
      { seed: this.#seed + this.#count, powerIterations: 1 },
    );
    this.#compressed = { factors: merged.factors, user: merged.userFactors, item: merged.itemFactors };
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
