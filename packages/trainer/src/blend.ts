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
  work?: { y: Float64Array; z: Float64Array },
): MFParams {
  const l = oversampled(K, rank, options);
  const rng = new Rng(options.seed ?? 7);
  // the range finder's two bases, reused in place (work arrays of ≥ nu·l and ≥ ni·l if given)
  const Y = work ? work.y.subarray(0, nu * l) : new Float64Array(nu * l);
  const Z = work ? work.z.subarray(0, ni * l) : new Float64Array(ni * l);
  // Y = P (Qᵀ Ω), Ω ~ N(0,1)^{ni × l}.
  for (let i = 0; i < Z.length; i++) Z[i] = rng.normal();
  M.pqx(Z, l, Y);
  M.orthonormalise(Y, nu, l);
  // Subspace iteration: Z = orth(Mᵀ Y), Y = orth(M Z) (Halko et al. alg. 4.4).
  for (let it = 0; it < (options.powerIterations ?? 2); it++) {
    M.qpx(Y, l, Z);
    M.orthonormalise(Z, ni, l);
    M.pqx(Z, l, Y);
    M.orthonormalise(Y, nu, l);
  }
  // Bᵀ = Mᵀ Y = Q (Pᵀ Y), ni × l; eigen-decompose B Bᵀ = W Σ² Wᵀ (l × l).
  const Bt = M.qpx(Y, l, Z);
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
 * factorisation plus a buffer of up to `buffer` raw samples; a full buffer is merged by a truncated SVD of
 * [P_c | P_new…][Q_c | Q_new…]ᵀ (compressParams' randomized SVD). The mean is that sum / S with biases averaged:
 *   r̂ = μ + (1/S) Σ_m (b_u^m + b_i^m + p_u^m·q_i^m).
 * Both factor matrices [P_c | P_1 … P_buffer] and [Q_c | …] live in the memory of one LowRankProducts kernel for the
 * whole run: each sample is written into its column block as it arrives and a merge writes the compressed factors
 * back into the first `keepRank` columns — no per-sample or per-merge allocation (fresh memory costs page faults).
 * Before the first merge the compressed block is zero, which adds exact zeros to every product.
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
  /** keepRank + buffer·k: the width of the kernel's P and Q. */
  readonly #width: number;
  #products: LowRankProducts | undefined;
  #work: { y: Float64Array; z: Float64Array } | undefined;
  /** Whether the first keepRank columns hold a compressed sum (false until the first merge). */
  #merged = false;
  #pending = 0;
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
    this.#width = this.#keepRank + this.#buffer * this.#k;
  }

  get count(): number {
    return this.#count;
  }

  #kernel(): LowRankProducts {
    this.#products ??= new LowRankProducts(
      this.#nu,
      this.#ni,
      this.#width,
      oversampled(this.#width, this.#keepRank, {}),
    );
    return this.#products;
  }

  add(sample: {
    userBias: Float32Array;
    itemBias: Float32Array;
    userFactors: Float32Array;
    itemFactors: Float32Array;
  }): void {
    for (let u = 0; u < this.#nu; u++) this.#userBiasSum[u]! += sample.userBias[u]!;
    for (let i = 0; i < this.#ni; i++) this.#itemBiasSum[i]! += sample.itemBias[i]!;
    const M = this.#kernel();
    const at = this.#keepRank + this.#pending * this.#k;
    writeColumns(M.P, this.#width, at, sample.userFactors, this.#nu, this.#k);
    writeColumns(M.Q, this.#width, at, sample.itemFactors, this.#ni, this.#k);
    this.#pending++;
    this.#count++;
    if (this.#pending >= this.#buffer) this.#merge();
  }

  /** The running SUM as MF params (unit weights, zero biases): compressed part, then the buffered samples. */
  #sumParams(): MFParams {
    const k = this.#k;
    const kc = this.#merged ? this.#keepRank : 0;
    const K = kc + this.#pending * k;
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
    const M = this.#products;
    if (!M) return p;
    // columns [keepRank − kc, keepRank + pending·k) of the kernel's matrices, row by row
    const from = this.#keepRank - kc;
    const copy = (out: Float32Array, src: Float32Array, rows: number) => {
      for (let r = 0, dst = 0; r < rows; r++)
        for (let a = 0, at = r * this.#width + from; a < K; a++) out[dst++] = src[at + a]!;
    };
    copy(p.userFactors, M.P, this.#nu);
    copy(p.itemFactors, M.Q, this.#ni);
    return p;
  }

  #merge(): void {
    const M = this.#kernel();
    const rank = this.#keepRank;
    const K = this.#width;
    this.#work ??= {
      y: new Float64Array(this.#nu * oversampled(K, rank, {})),
      z: new Float64Array(this.#ni * oversampled(K, rank, {})),
    };
    const merged = compressProducts(
      M,
      this.#nu,
      this.#ni,
      K,
      rank,
      { globalMean: 0, userBias: new Float32Array(0), itemBias: new Float32Array(0) },
      // One subspace iteration is enough here: the spectrum of a sum of posterior samples decays fast.
      { seed: this.#seed + this.#count, powerIterations: 1 },
      this.#work,
    );
    writeColumns(M.P, K, 0, merged.userFactors, this.#nu, rank);
    writeColumns(M.Q, K, 0, merged.itemFactors, this.#ni, rank);
    this.#merged = true;
    this.#pending = 0;
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

/** Columns [at, at + width) of the row-major rows × stride matrix `out` ← `part` (rows × width). */
function writeColumns(
  out: Float32Array,
  stride: number,
  at: number,
  part: Float32Array,
  rows: number,
  width: number,
): void {
  for (let r = 0, src = 0, dst = at; r < rows; r++, dst += stride)
    for (let a = 0; a < width; a++) out[dst + a] = part[src++]!;
}
