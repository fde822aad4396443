/**
 * Neural Collaborative Filtering served natively (He, Liao, Zhang, Nie, Hu & Chua, "Neural Collaborative
 * Filtering", WWW 2017): GMF, MLP and NeuMF with a typed-array forward pass — no TensorFlow.js here; the trainer
 * (packages/trainer, engines/ncf.ts) fits the same network in TF.js layers and hands over its weights.
 *
 *   GMF:    φ_GMF = p_u ⊙ q_i                                   (eq. 9)
 *   MLP:    z_1 = [p_u^M, q_i^M];  z_l = ReLU(W_lᵀ z_{l−1} + b_l)  (eq. 10)
 *   NeuMF:  ŷ_ui = σ(hᵀ [φ_GMF, φ_MLP] + b)                       (eq. 11; GMF/MLP alone: hᵀ of their own φ)
 *
 * Serving tricks (exact, only the order of additions differs from TF.js): the GMF term hᵀ(p_u ⊙ q_i) is the dot
 * product q_i · (h ⊙ p_u), computed for all items by core's DotScorer; the MLP's first layer splits as
 * W_1ᵀ[p, q] = W_{1,user}ᵀ p + W_{1,item}ᵀ q, whose item half is precomputed once per model, so a user costs one
 * small matrix-vector product plus, per item, the hidden layers above the first.
 */
import { Rng } from '@movierec/data';
import { decodeFamily, encodeFamily, type FamilyFormat } from '../container.ts';
import { CosineIndex } from '../cosine.ts';
import { checkUserIndex } from '../errors.ts';
import { ParamsModel, type ParamsModelInit } from '../params-model.ts';
import type { Recommender, RecommendQuery, TopItems, UserHistory, UserState } from '../recommender.ts';
import { registerModelClass } from '../registry.ts';
import { DotScorer } from '../score.ts';
import { topK } from '../top-k.ts';

export type NcfKind = 'gmf' | 'mlp' | 'neumf';

/**
 * The weights of a GMF, MLP or NeuMF network, row-major float32 as TF.js holds them (a Dense kernel is [in, out]).
 * Arrays of the branch a kind lacks are empty (GMF has no MLP weights, MLP no GMF embeddings).
 */
export interface NcfParams {
  readonly kind: NcfKind;
  readonly numUsers: number;
  readonly numItems: number;
  /** GMF embedding size (the GMF branch's predictive factors); 0 for MLP. */
  readonly gmfFactors: number;
  /**
   * The MLP tower as in the paper's code: layers[0] is the concatenated embedding size (each side layers[0]/2),
   * layers[1…] the hidden Dense sizes (ReLU), the last one the MLP's predictive factors; [] for GMF.
   */
  readonly layers: readonly number[];
  /** p_u^G, numUsers × gmfFactors. */
  readonly gmfUser: Float32Array;
  /** q_i^G, numItems × gmfFactors. */
  readonly gmfItem: Float32Array;
  /** p_u^M, numUsers × layers[0]/2. */
  readonly mlpUser: Float32Array;
  /** q_i^M, numItems × layers[0]/2. */
  readonly mlpItem: Float32Array;
  /** W_l for l = 1…L−1, each [layers[l−1], layers[l]]. */
  readonly mlpKernels: readonly Float32Array[];
  /** b_l, each layers[l]. */
  readonly mlpBiases: readonly Float32Array[];
  /** h: [gmfFactors + last MLP layer] for NeuMF (GMF part first), gmfFactors for GMF, the last layer for MLP. */
  readonly outKernel: Float32Array;
  /** b of the output unit. */
  readonly outBias: number;
}

/** A user as NCF scores them: the GMF and MLP user embeddings (trained rows are views, folded-in ones copies). */
export interface NcfUserState extends UserState {
  readonly gmf: Float32Array;
  readonly mlp: Float32Array;
}

export interface NcfFoldInOptions {
  /** Gradient steps (default 30). */
  steps?: number;
  /** Adam step size (default 0.05). */
  learningRate?: number;
  /** Sampled negatives per positive, re-drawn every step (default 4, as in training). */
  negatives?: number;
  /** L2 pull of the embedding towards the mean trained user's: λ‖p − p̄‖² (default 0.01). */
  l2?: number;
  /** Seed of the negative sampling (default the model's training seed). */
  seed?: number;
}

/** The training log NCF keeps (engine and whatever else the trainer records). */
export interface NcfLog {
  engine: string;
  [key: string]: unknown;
}

/** `config` (JSON-serialisable) is where foldIn reads `seed` and `foldIn` (NcfFoldInOptions) from. */
export type NcfModelInit = ParamsModelInit<NcfParams, NcfLog>;

/** σ(z) = 1 / (1 + e^−z), the output unit of eq. 11. */
function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Checks that params hold consistent shapes; throws a RangeError naming the array. */
export function checkNcfParams(p: NcfParams, where = 'NcfModel'): void {
  const fail = (msg: string): never => {
    throw new RangeError(`${where}: ${msg}`);
  };
  if (p.kind !== 'gmf' && p.kind !== 'mlp' && p.kind !== 'neumf') fail(`kind is ${JSON.stringify(p.kind)}`);
  for (const [name, v] of [
    ['numUsers', p.numUsers],
    ['numItems', p.numItems],
    ['gmfFactors', p.gmfFactors],
  ] as const)
    if (!(Number.isInteger(v) && v >= 0)) fail(`${name} must be a non-negative integer, got ${v}`);
  const hasGmf = p.kind !== 'mlp';
  const hasMlp = p.kind !== 'gmf';
  if (hasGmf && p.gmfFactors < 1) fail(`a ${p.kind} model needs gmfFactors ≥ 1`);
  if (!hasGmf && p.gmfFactors !== 0) fail(`an mlp model has gmfFactors 0, got ${p.gmfFactors}`);
  if (hasMlp) {
    if (p.layers.length < 2)
      fail(`an ${p.kind} model needs layers [embedding×2, hidden…], got [${p.layers}]`);
    if (p.layers.some((l) => !(Number.isInteger(l) && l >= 1)))
      fail(`layers must be positive integers, got [${p.layers}]`);
    if (p.layers[0]! % 2 !== 0)
      fail(`layers[0] (both MLP embeddings together) must be even, got ${p.layers[0]}`);
  } else if (p.layers.length !== 0) fail(`a gmf model has no MLP layers, got [${p.layers}]`);
  const len = (name: string, a: ArrayLike<number>, want: number) => {
    if (a.length !== want) fail(`${name} has length ${a.length}, expected ${want}`);
  };
  const dM = hasMlp ? p.layers[0]! / 2 : 0;
  len('gmfUser', p.gmfUser, p.numUsers * p.gmfFactors);
  len('gmfItem', p.gmfItem, p.numItems * p.gmfFactors);
  len('mlpUser', p.mlpUser, p.numUsers * dM);
  len('mlpItem', p.mlpItem, p.numItems * dM);
  const hidden = hasMlp ? p.layers.length - 1 : 0;
  if (p.mlpKernels.length !== hidden || p.mlpBiases.length !== hidden)
    fail(`expected ${hidden} MLP kernels and biases, got ${p.mlpKernels.length} and ${p.mlpBiases.length}`);
  for (let l = 1; l <= hidden; l++) {
    len(`mlpKernels[${l - 1}]`, p.mlpKernels[l - 1]!, p.layers[l - 1]! * p.layers[l]!);
    len(`mlpBiases[${l - 1}]`, p.mlpBiases[l - 1]!, p.layers[l]!);
  }
  len('outKernel', p.outKernel, p.gmfFactors + (hasMlp ? p.layers[p.layers.length - 1]! : 0));
  if (!Number.isFinite(p.outBias)) fail(`outBias is ${p.outBias}`);
}

/**
 * A trained GMF / MLP / NeuMF network as a Recommender (task 'ranking'): scoreAll is the network's output
 * ŷ_ui = σ(·) for every item, similarItems and explain use the cosine of the item embeddings (see `itemVectors`).
 */
export class NcfModel extends ParamsModel<NcfParams, NcfLog> implements Recommender {
  readonly family = 'ncf';
  readonly task = 'ranking' as const;
  readonly #dM: number;
  #gmfScorer: DotScorer | undefined;
  #itemFirst: Float32Array | undefined;
  #cosine: CosineIndex | undefined;
  #simVectors: Float32Array | undefined;
  #meanUser: { gmf: Float32Array; mlp: Float32Array } | undefined;
  /** Scratch of the MLP tower: one Float64Array per layer. */
  readonly #act: Float64Array[];
  readonly #logits: Float64Array;
  readonly #rankKey: Float32Array;

  constructor(init: NcfModelInit) {
    checkNcfParams(init.params);
    super('NcfModel', init, { engine: 'unknown' });
    const p = init.params;
    this.#dM = p.kind === 'gmf' ? 0 : p.layers[0]! / 2;
    this.#act = p.layers.map((l) => new Float64Array(l));
    this.#logits = new Float64Array(p.numItems);
    this.#rankKey = new Float32Array(p.numItems);
  }

  get kind(): NcfKind {
    return this.params.kind;
  }
  userState(user: number): NcfUserState {
    checkUserIndex(user, this.params.numUsers);
    const { gmfFactors: dG, gmfUser, mlpUser } = this.params;
    const dM = this.#dM;
    return {
      index: user,
      gmf: gmfUser.subarray(user * dG, (user + 1) * dG),
      mlp: mlpUser.subarray(user * dM, (user + 1) * dM),
    };
  }

  #state(user: UserState): NcfUserState {
    const s = user as NcfUserState;
    if (!(s.gmf instanceof Float32Array) || !(s.mlp instanceof Float32Array))
      throw new TypeError(
        'NcfModel: the user state was not made by this NCF model (use userState or foldIn)',
      );
    if (s.gmf.length !== this.params.gmfFactors || s.mlp.length !== this.#dM)
      throw new RangeError(
        `NcfModel: the user state has embeddings of ${s.gmf.length}/${s.mlp.length}, the model ${this.params.gmfFactors}/${this.#dM}`,
      );
    return s;
  }

  /** W_{1,item}ᵀ q_i^M for every item (numItems × layers[1]), computed once. */
  #itemFirstLayer(): Float32Array {
    if (this.#itemFirst) return this.#itemFirst;
    const { numItems, layers, mlpItem, mlpKernels } = this.params;
    const dM = this.#dM;
    const l1 = layers[1]!;
    const w = mlpKernels[0]!;
    const out = new Float32Array(numItems * l1);
    const acc = new Float64Array(l1);
    for (let i = 0; i < numItems; i++) {
      acc.fill(0);
      for (let f = 0; f < dM; f++) {
        const q = mlpItem[i * dM + f]!;
        const row = (dM + f) * l1; // the item half of z_1 = [p^M, q^M] sits after the user half
        for (let o = 0; o < l1; o++) acc[o]! += q * w[row + o]!;
      }
      out.set(acc, i * l1);
    }
    this.#itemFirst = out;
    return out;
  }

  /** a_1 = b_1 + W_{1,user}ᵀ p^M (the user's share of the first MLP layer, before ReLU). */
  #userFirstLayer(pM: Float32Array, out: Float64Array): Float64Array {
    const { layers, mlpKernels, mlpBiases } = this.params;
    const l1 = layers[1]!;
    const w = mlpKernels[0]!;
    const b = mlpBiases[0]!;
    for (let o = 0; o < l1; o++) out[o] = b[o]!;
    for (let f = 0; f < this.#dM; f++) {
      const p = pM[f]!;
      for (let o = 0, row = f * l1; o < l1; o++) out[o]! += p * w[row + o]!;
    }
    return out;
  }

  /**
   * The MLP tower above the first layer for item i: z_1 = ReLU(a_1 + W_{1,item}ᵀ q_i), z_l = ReLU(W_lᵀ z_{l−1} + b_l);
   * returns h_Mᵀ z_L. Activations stay in this.#act (the backward pass of fold-in reads them).
   */
  #mlpTower(a1: Float64Array, itemFirst: Float32Array, i: number): number {
    const { layers, mlpKernels, mlpBiases, outKernel, gmfFactors } = this.params;
    const act = this.#act;
    const l1 = layers[1]!;
    const z1 = act[1]!;
    for (let o = 0, src = i * l1; o < l1; o++) {
      const x = a1[o]! + itemFirst[src + o]!;
      z1[o] = Math.max(x, 0);
    }
    for (let l = 2; l < layers.length; l++) {
      const nIn = layers[l - 1]!;
      const nOut = layers[l]!;
      const w = mlpKernels[l - 1]!;
      const b = mlpBiases[l - 1]!;
      const prev = act[l - 1]!;
      const cur = act[l]!;
      for (let o = 0; o < nOut; o++) cur[o] = b[o]!;
      for (let j = 0; j < nIn; j++) {
        const x = prev[j]!;
        if (x === 0) continue; // ReLU zeros contribute nothing
        for (let o = 0, row = j * nOut; o < nOut; o++) cur[o]! += x * w[row + o]!;
      }
      for (let o = 0; o < nOut; o++) if (cur[o]! < 0) cur[o] = 0;
    }
    const last = act[layers.length - 1]!;
    let s = 0;
    for (let o = 0; o < last.length; o++) s += outKernel[gmfFactors + o]! * last[o]!;
    return s;
  }

  /** The logit z_ui of eq. 11 (before σ) for every item, into `out`. */
  logits(user: UserState, out: Float64Array | Float32Array): Float64Array | Float32Array {
    const s = this.#state(user);
    const { kind, numItems, gmfFactors: dG, gmfItem, outKernel, outBias } = this.params;
    if (out.length < numItems) throw new RangeError(`logits: out has length ${out.length} < ${numItems}`);
    if (kind !== 'mlp') {
      // hᵀ(p ⊙ q_i) = q_i · (h ⊙ p)
      const w = new Float32Array(dG);
      for (let f = 0; f < dG; f++) w[f] = outKernel[f]! * s.gmf[f]!;
      this.#gmfScorer ??= new DotScorer(gmfItem, dG, numItems);
      const dots = this.#gmfScorer.dots(w);
      for (let i = 0; i < numItems; i++) out[i] = outBias + dots[i]!;
    } else out.fill(outBias, 0, numItems);
    if (kind !== 'gmf') {
      const itemFirst = this.#itemFirstLayer();
      const a1 = this.#userFirstLayer(s.mlp, new Float64Array(this.params.layers[1]!));
      for (let i = 0; i < numItems; i++) out[i]! += this.#mlpTower(a1, itemFirst, i);
    }
    return out;
  }

  /** ŷ_ui = σ(z_ui) for every item (the network's output, eq. 11). */
  scoreAll(user: UserState, out: Float32Array): Float32Array {
    const { numItems } = this.params;
    if (out.length < numItems) throw new RangeError(`scoreAll: out has length ${out.length} < ${numItems}`);
    const z = this.logits(user, this.#logits);
    for (let i = 0; i < numItems; i++) out[i] = sigmoid(z[i]!);
    return out;
  }

  /** ŷ for (user, item) pairs; `users[j]` are trained users (the check against TF.js' predict uses it). */
  predictPairs(users: Int32Array, items: Int32Array): Float32Array {
    if (users.length !== items.length)
      throw new RangeError(`predictPairs: users has ${users.length} entries, items ${items.length}`);
    const out = new Float32Array(users.length);
    for (let j = 0; j < users.length; j++) {
      this.checkItem(items[j]!);
      out[j] = sigmoid(this.#logitOne(this.userState(users[j]!), items[j]!));
    }
    return out;
  }

  #logitOne(s: NcfUserState, i: number): number {
    const { kind, gmfFactors: dG, gmfItem, outKernel, outBias } = this.params;
    let z = outBias;
    if (kind !== 'mlp') for (let f = 0; f < dG; f++) z += outKernel[f]! * s.gmf[f]! * gmfItem[i * dG + f]!;
    if (kind !== 'gmf') {
      const a1 = this.#userFirstLayer(s.mlp, new Float64Array(this.params.layers[1]!));
      z += this.#mlpTower(a1, this.#itemFirstLayer(), i);
    }
    return z;
  }

  recommend(user: UserState, query: RecommendQuery): TopItems {
    // rank by the logit (σ is monotone, and float32 σ saturates at 1 for z ≳ 17), report ŷ = σ(z)
    const z = this.logits(user, this.#rankKey);
    const top = topK(this.#rankKey, query);
    for (let j = 0; j < top.scores.length; j++) top.scores[j] = sigmoid(z[top.items[j]!]!);
    return top;
  }

  /**
   * The item vectors behind similarItems/explain, rows of unit length: for GMF the item embedding as the output
   * layer weighs it, h_G ⊙ q_i^G (the GMF score is the dot product p_u · (h_G ⊙ q_i^G)); for MLP the item
   * embedding q_i^M; for NeuMF both halves, each scaled to length 1/√2, so the cosine is the mean of the two
   * branches' cosines.
   */
  itemVectors(): { vectors: Float32Array; dim: number } {
    const { kind, numItems, gmfFactors: dG, gmfItem, mlpItem, outKernel } = this.params;
    const dM = this.#dM;
    const dim = dG + dM;
    if (!this.#simVectors) {
      const v = new Float32Array(numItems * dim);
      const halves = kind === 'neumf' ? Math.SQRT1_2 : 1;
      for (let i = 0; i < numItems; i++) {
        const o = i * dim;
        let n = 0;
        for (let f = 0; f < dG; f++) {
          const x = outKernel[f]! * gmfItem[i * dG + f]!;
          v[o + f] = x;
          n += x * x;
        }
        const sG = n > 0 ? halves / Math.sqrt(n) : 0;
        for (let f = 0; f < dG; f++) v[o + f]! *= sG;
        n = 0;
        for (let f = 0; f < dM; f++) {
          const x = mlpItem[i * dM + f]!;
          v[o + dG + f] = x;
          n += x * x;
        }
        const sM = n > 0 ? halves / Math.sqrt(n) : 0;
        for (let f = 0; f < dM; f++) v[o + dG + f]! *= sM;
      }
      this.#simVectors = v;
    }
    return { vectors: this.#simVectors, dim };
  }

  /** Core's cosine over itemVectors (rows already of unit length, so cos = the dot product). */
  protected get itemCosine(): CosineIndex {
    if (!this.#cosine) {
      const { vectors, dim } = this.itemVectors();
      this.#cosine = new CosineIndex(vectors, dim, this.params.numItems);
    }
    return this.#cosine;
  }

  /** cos(v_a, v_b) of the item vectors above. */
  itemSimilarity(a: number, b: number): number {
    this.checkItem(a);
    this.checkItem(b);
    return this.itemCosine.pair(a, b);
  }

  /** The mean trained user's embeddings (fold-in starts there; an empty history gets it as is). */
  meanUser(): { gmf: Float32Array; mlp: Float32Array } {
    if (this.#meanUser) return this.#meanUser;
    const { numUsers, gmfFactors: dG, gmfUser, mlpUser } = this.params;
    const mean = (m: Float32Array, d: number) => {
      const acc = new Float64Array(d);
      for (let u = 0; u < numUsers; u++) for (let f = 0; f < d; f++) acc[f]! += m[u * d + f]!;
      return Float32Array.from(acc, (x) => x / Math.max(1, numUsers));
    };
    this.#meanUser = { gmf: mean(gmfUser, dG), mlp: mean(mlpUser, this.#dM) };
    return this.#meanUser;
  }

  /**
   * Fold-in: the user's embeddings fitted to their history with every item-side weight frozen — `steps` Adam steps
   * (Kingma & Ba 2015) on the paper's log loss (eq. 7) L = −Σ_{i∈Y⁺} log ŷ_ui − Σ_{j∈Y⁻} log(1 − ŷ_uj), averaged
   * over the samples, + λ‖p − p̄‖², every history item (with a value ≥ the training positiveThreshold) a positive and `negatives` unseen items per positive drawn
   * afresh each step (seeded), starting from the mean trained user p̄. Gradients: ∂L/∂z = ŷ − y;
   * ∂z/∂p^G = h_G ⊙ q_i^G; ∂z/∂p^M = W_{1,user} δ_1 with δ_L = h_M ⊙ 1[z_L > 0], δ_{l−1} = (W_l δ_l) ⊙ 1[z_{l−1} > 0].
   */
  foldIn(history: UserHistory, options: NcfFoldInOptions = {}): NcfUserState {
    const defaults = (this.config.foldIn ?? {}) as NcfFoldInOptions;
    const steps = options.steps ?? defaults.steps ?? 30;
    const lr = options.learningRate ?? defaults.learningRate ?? 0.05;
    const negatives = options.negatives ?? defaults.negatives ?? 4;
    const l2 = options.l2 ?? defaults.l2 ?? 0.01;
    const seed =
      options.seed ?? defaults.seed ?? (typeof this.config.seed === 'number' ? this.config.seed : 42);
    const fail = (msg: string): never => {
      throw new RangeError(`foldIn: ${msg}`);
    };
    if (!(Number.isInteger(steps) && steps >= 0)) fail(`steps must be a non-negative integer, got ${steps}`);
    if (!(lr > 0 && Number.isFinite(lr))) fail(`learningRate must be a positive number, got ${lr}`);
    if (!(Number.isInteger(negatives) && negatives >= 0))
      fail(`negatives must be a non-negative integer, got ${negatives}`);
    if (!(l2 >= 0)) fail(`l2 must be ≥ 0, got ${l2}`);
    if (history.values.length !== history.items.length)
      fail(`history has ${history.items.length} items but ${history.values.length} values`);

    const { kind, numItems, gmfFactors: dG, gmfItem, outKernel, layers, mlpKernels } = this.params;
    const dM = this.#dM;
    const threshold = typeof this.config.positiveThreshold === 'number' ? this.config.positiveThreshold : 0;
    const seen = new Uint8Array(numItems);
    const positives: number[] = [];
    for (let j = 0; j < history.items.length; j++) {
      const i = history.items[j]!;
      if (!(Number.isInteger(i) && i >= 0 && i < numItems))
        fail(`history.items[${j}] = ${i} is not an item index`);
      // as in training: values below the model's positiveThreshold are seen (never negatives) but not positives
      if (seen[i] === 0 && history.values[j]! >= threshold) positives.push(i);
      seen[i] = 1;
    }
    const mean = this.meanUser();
    const pG = Float32Array.from(mean.gmf);
    const pM = Float32Array.from(mean.mlp);
    const state: NcfUserState = { index: -1, gmf: pG, mlp: pM };
    const P = positives.length;
    if (P === 0 || steps === 0) return state;
    // every item seen ⇒ nothing to sample as a negative
    const negPerPos = P >= numItems ? 0 : negatives;

    const dim = dG + dM;
    const theta = new Float64Array(dim); // [p^G, p^M]
    const prior = new Float64Array(dim);
    for (let f = 0; f < dG; f++) theta[f] = prior[f] = pG[f]!;
    for (let f = 0; f < dM; f++) theta[dG + f] = prior[dG + f] = pM[f]!;
    const grad = new Float64Array(dim);
    const m1 = new Float64Array(dim);
    const m2 = new Float64Array(dim);
    const rng = new Rng(seed);
    const L = layers.length;
    const delta = layers.map((l) => new Float64Array(l));
    const sumDelta1 = new Float64Array(L > 1 ? layers[1]! : 0);
    const a1 = new Float64Array(L > 1 ? layers[1]! : 0);
    const itemFirst = kind !== 'gmf' ? this.#itemFirstLayer() : new Float32Array(0);
    const hG = new Float64Array(dG);
    const samples = P * (1 + negPerPos);
    const beta1 = 0.9;
    const beta2 = 0.999;
    const eps = 1e-8;

    for (let t = 1; t <= steps; t++) {
      grad.fill(0);
      sumDelta1.fill(0);
      for (let f = 0; f < dG; f++) hG[f] = outKernel[f]! * theta[f]!;
      if (kind !== 'gmf') {
        for (let f = 0; f < dM; f++) pM[f] = theta[dG + f]!;
        this.#userFirstLayer(pM, a1);
      }
      for (let s = 0; s < samples; s++) {
        let i: number;
        let y: number;
        if (s < P) {
          i = positives[s]!;
          y = 1;
        } else {
          // a uniformly drawn item the user has not interacted with (rejection sampling)
          do i = rng.int(numItems);
          while (seen[i] === 1);
          y = 0;
        }
        let z = this.params.outBias;
        const q = i * dG;
        for (let f = 0; f < dG; f++) z += hG[f]! * gmfItem[q + f]!;
        if (kind !== 'gmf') z += this.#mlpTower(a1, itemFirst, i);
        const g = (sigmoid(z) - y) / samples; // ∂(mean log loss)/∂z
        for (let f = 0; f < dG; f++) grad[f]! += g * outKernel[f]! * gmfItem[q + f]!;
        if (kind !== 'gmf') {
          // backward through the tower: δ_L = h_M ⊙ 1[z_L > 0], δ_{l−1} = (W_l δ_l) ⊙ 1[z_{l−1} > 0]
          const act = this.#act;
          const top = delta[L - 1]!;
          const zL = act[L - 1]!;
          for (let o = 0; o < top.length; o++) top[o] = zL[o]! > 0 ? outKernel[dG + o]! : 0;
          for (let l = L - 1; l >= 2; l--) {
            const nIn = layers[l - 1]!;
            const nOut = layers[l]!;
            const w = mlpKernels[l - 1]!;
            const dl = delta[l]!;
            const below = delta[l - 1]!;
            const zBelow = act[l - 1]!;
            for (let j = 0; j < nIn; j++) {
              if (zBelow[j]! <= 0) {
                below[j] = 0;
                continue;
              }
              let acc = 0;
              for (let o = 0, row = j * nOut; o < nOut; o++) acc += w[row + o]! * dl[o]!;
              below[j] = acc;
            }
          }
          const d1 = delta[1]!;
          for (let o = 0; o < d1.length; o++) sumDelta1[o]! += g * d1[o]!;
        }
      }
      if (kind !== 'gmf') {
        // ∂L/∂p^M = W_{1,user} Σ_s g_s δ_1,s (the user rows of W_1, accumulated once per step)
        const l1 = layers[1]!;
        const w = mlpKernels[0]!;
        for (let f = 0; f < dM; f++) {
          let acc = 0;
          for (let o = 0, row = f * l1; o < l1; o++) acc += w[row + o]! * sumDelta1[o]!;
          grad[dG + f]! += acc;
        }
      }
      // + ∂(λ‖θ − θ̄‖²)/∂θ, then Adam: m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; θ ← θ − lr m̂ / (√v̂ + ε)
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      for (let f = 0; f < dim; f++) {
        const gf = grad[f]! + 2 * l2 * (theta[f]! - prior[f]!);
        m1[f] = beta1 * m1[f]! + (1 - beta1) * gf;
        m2[f] = beta2 * m2[f]! + (1 - beta2) * gf * gf;
        theta[f]! -= (lr * (m1[f]! / c1)) / (Math.sqrt(m2[f]! / c2) + eps);
      }
    }
    for (let f = 0; f < dG; f++) pG[f] = theta[f]!;
    for (let f = 0; f < dM; f++) pM[f] = theta[dG + f]!;
    return state;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Serialisation: the container of container.ts with the family's own magic "MRNC" (header format 'movierec-ncf',
// family 'ncf'), registered with core's model-family registry, so files and database rows load it by magic.

export const NCF_FORMAT = 'movierec-ncf';
export const NCF_FORMAT_VERSION = 1;
const NCF: FamilyFormat = { magic: 'MRNC', version: NCF_FORMAT_VERSION, format: NCF_FORMAT };

/** The NCF header's own fields (container.ts's encodeFamily adds config, log, users, items, blobs). */
interface NcfHeader {
  format: string;
  family: 'ncf';
  version: number;
  kind: NcfKind;
  shapes: { numUsers: number; numItems: number; gmfFactors: number; layers: number[] };
  outBias: number;
}

/** The model as bytes (float32 weights bit for bit, the ID maps, config and log in the header). */
export function serializeNcf(model: NcfModel): Uint8Array {
  const p = model.params;
  return encodeFamily<NcfHeader>(NCF, model, {
    blobs: [
      ['gmfUser', p.gmfUser],
      ['gmfItem', p.gmfItem],
      ['mlpUser', p.mlpUser],
      ['mlpItem', p.mlpItem],
      ...p.mlpKernels.map((w, l) => [`mlpKernel${l + 1}`, w] as [string, Float32Array]),
      ...p.mlpBiases.map((b, l) => [`mlpBias${l + 1}`, b] as [string, Float32Array]),
      ['outKernel', p.outKernel],
    ],
    header: {
      family: 'ncf',
      version: NCF_FORMAT_VERSION,
      kind: p.kind,
      shapes: { numUsers: p.numUsers, numItems: p.numItems, gmfFactors: p.gmfFactors, layers: [...p.layers] },
      outBias: p.outBias,
    },
  });
}

/** Reads serializeNcf's bytes back; a ModelFormatError names what is wrong (magic, version, a blob's shape). */
export function deserializeNcf(bytes: Uint8Array, source = 'NCF model'): NcfModel {
  const { header, blobs: found, fail, identity } = decodeFamily<NcfHeader, NcfLog>(bytes, source, NCF);
  const f32 = (name: string): Float32Array => {
    const a = found.get(name);
    if (!(a instanceof Float32Array)) return fail(`float32 blob ${name} is missing`);
    return a;
  };
  const shapes = header.shapes ?? ({} as NcfHeader['shapes']);
  const layers = Array.isArray(shapes.layers) ? shapes.layers : fail('shapes.layers is missing');
  const hidden = Math.max(0, layers.length - 1);
  const params: NcfParams = {
    kind: header.kind,
    numUsers: shapes.numUsers,
    numItems: shapes.numItems,
    gmfFactors: shapes.gmfFactors,
    layers,
    gmfUser: f32('gmfUser'),
    gmfItem: f32('gmfItem'),
    mlpUser: f32('mlpUser'),
    mlpItem: f32('mlpItem'),
    mlpKernels: Array.from({ length: hidden }, (_, l) => f32(`mlpKernel${l + 1}`)),
    mlpBiases: Array.from({ length: hidden }, (_, l) => f32(`mlpBias${l + 1}`)),
    outKernel: f32('outKernel'),
    outBias: header.outBias,
  };
  try {
    checkNcfParams(params, source);
  } catch (err) {
    fail((err as Error).message.replace(`${source}: `, ''));
  }
  return new NcfModel({
    params,
    ...identity(params.numUsers, { engine: 'unknown' }),
  });
}

registerModelClass('ncf', NCF.magic, NcfModel, { serialize: serializeNcf, deserialize: deserializeNcf });
