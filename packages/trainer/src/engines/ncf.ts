/**
 * Trains the NCF family (He et al., "Neural Collaborative Filtering", WWW 2017) in TensorFlow.js layers
 * (engines/ncf-model.ts) and returns core's native, servable NcfModel:
 *
 * - implicit feedback: every training interaction (or every rating ≥ `positiveThreshold`) is a positive y = 1;
 * - log loss with sampled negatives (eq. 7): per positive, `negatives` items the user never interacted with, drawn
 *   uniformly and re-drawn every epoch (the paper's 4), instances shuffled every epoch;
 * - GMF and MLP from scratch with Adam; NeuMF either from scratch with Adam, or — the paper's recipe (section 3.4.1) —
 *   initialised from a pre-trained GMF and MLP, the output layer h ← [α·h_GMF, (1−α)·h_MLP], b ← α·b_GMF +
 *   (1−α)·b_MLP (α = 0.5), then trained with plain SGD.
 *
 * Deterministic for a seed: initialisers take seeds derived from it and negative sampling and shuffles use
 * @movierec/data's seeded generator; TF.js on the wasm/cpu backends is single-threaded and reproducible.
 */
import { buildRatedIndex, type NcfKind, NcfModel, type NcfParams, type RatedIndex } from '@movierec/core';
import { IdMap, type RatingColumns, Rng } from '@movierec/data';
import type { TfjsBackendInfo, TfjsBackendName } from '../tfjs/index.ts';
import { TrainingInputError, yieldToEventLoop } from './common.ts';

export interface NcfConfig {
  /** 'neumf' (default), 'gmf' or 'mlp'. */
  kind: NcfKind;
  /** GMF embedding size (the paper's predictive factors). */
  gmfFactors: number;
  /** MLP tower [2 × embedding, hidden…] as in the paper's code (predictive factors = the last). */
  layers: number[];
  /** Epochs of the final model (NeuMF's SGD epochs after pre-training, or the model's own Adam epochs). */
  epochs: number;
  /** Adam epochs of each of GMF and MLP before NeuMF (with `pretrain`). */
  pretrainEpochs: number;
  /** Initialise NeuMF from pre-trained GMF and MLP (the paper's recipe); false: NeuMF from scratch with Adam. */
  pretrain: boolean;
  /** α of the pre-trained output layer h = [α·h_GMF, (1−α)·h_MLP]. */
  alpha: number;
  batchSize: number;
  /** Adam step size of GMF/MLP (and of NeuMF without pre-training). */
  learningRate: number;
  /** Plain-SGD step size of NeuMF after pre-training. */
  sgdLearningRate: number;
  /** Sampled negatives per positive, re-drawn every epoch. */
  negatives: number;
  /** Interactions with a rating below this are not positives (they are not sampled as negatives either); 0: all. */
  positiveThreshold: number;
  /** Keras-style L2 on the embeddings (0: none, the paper's default). */
  l2: number;
  seed: number;
  /** Fold-in settings stored with the model (see NcfModel.foldIn). */
  foldIn?: { steps?: number; learningRate?: number; negatives?: number; l2?: number };
}

/**
 * Defaults: the paper's architecture for 8 predictive factors (GMF 8, MLP [64, 32, 16, 8]), 4 negatives, Adam
 * 0.001 — with batches of 1,024 instead of 256 and fewer epochs to keep NeuMF with pre-training near a minute on the
 * bundled data on the wasm backend. NOT yet validated: epochs, batch size and the SGD step still have to be chosen on
 * a validation split carved from the training part (bench/accuracy-ncf.ts --inner).
 */
export const NCF_DEFAULTS: NcfConfig = {
  kind: 'neumf',
  gmfFactors: 8,
  layers: [64, 32, 16, 8],
  epochs: 4,
  pretrainEpochs: 6,
  pretrain: true,
  alpha: 0.5,
  batchSize: 1024,
  learningRate: 0.001,
  sgdLearningRate: 0.05,
  negatives: 4,
  positiveThreshold: 0,
  l2: 0,
  seed: 42,
};

export interface NcfEpoch {
  /** 'gmf' / 'mlp' (pre-training or alone) or 'neumf'. */
  stage: NcfKind;
  epoch: number;
  /** Mean log loss over the epoch's instances (positives and negatives). */
  loss: number;
  seconds: number;
}

export interface NcfTrainOptions {
  /**
   * After every epoch of every stage; `current()` builds the NcfModel of the stage's weights so far (for validation);
   * return 'stop' to end training (the current stage keeps its weights, later stages are skipped).
   */
  onEpoch?: (e: NcfEpoch, current: () => NcfModel) => unknown;
  signal?: AbortSignal;
  /** Backend to start the search at (default 'auto': tfjs-node, wasm, cpu). */
  backend?: TfjsBackendName | 'auto';
  /** Told which backend ran. */
  onBackend?: (info: TfjsBackendInfo) => void;
}

export interface NcfLog {
  engine: 'ncf';
  kind: NcfKind;
  backend: string;
  epochs: NcfEpoch[];
  positives: number;
  seconds: number;
  [key: string]: unknown;
}

export interface NcfResult {
  model: NcfModel;
  log: NcfLog;
}

/** The data to train on: a Dataset (keeps its IdMaps) or bare rating columns with their shape. */
export interface NcfData {
  ratings: RatingColumns;
  users?: IdMap;
  items?: IdMap;
}

/** Merges and checks a config; a TrainingInputError names the field. */
export function resolveNcfConfig(config: Partial<NcfConfig> = {}): NcfConfig {
  const c: NcfConfig = { ...NCF_DEFAULTS, ...config, layers: [...(config.layers ?? NCF_DEFAULTS.layers)] };
  const fail = (msg: string): never => {
    throw new TrainingInputError(`ncf: config.${msg}`);
  };
  if (!['gmf', 'mlp', 'neumf'].includes(c.kind))
    fail(`kind must be gmf, mlp or neumf, got ${JSON.stringify(c.kind)}`);
  const int = (name: keyof NcfConfig, min: number) => {
    const v = c[name] as number;
    if (!(Number.isInteger(v) && v >= min)) fail(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int('gmfFactors', 1);
  int('epochs', 0);
  int('pretrainEpochs', 0);
  int('batchSize', 1);
  int('negatives', 1);
  int('seed', 0);
  if (c.layers.length < 2 || c.layers.some((l) => !(Number.isInteger(l) && l >= 1)) || c.layers[0]! % 2 !== 0)
    fail(
      `layers must be [even embedding total, hidden…] of positive integers (e.g. [64, 32, 16, 8]), got [${c.layers}]`,
    );
  for (const name of ['learningRate', 'sgdLearningRate'] as const)
    if (!(c[name] > 0 && Number.isFinite(c[name]))) fail(`${name} must be a positive number, got ${c[name]}`);
  if (!(c.alpha >= 0 && c.alpha <= 1)) fail(`alpha must be in [0, 1], got ${c.alpha}`);
  if (!(c.l2 >= 0)) fail(`l2 must be ≥ 0, got ${c.l2}`);
  if (!(c.positiveThreshold >= 0)) fail(`positiveThreshold must be ≥ 0, got ${c.positiveThreshold}`);
  return c;
}

/** The positive (user, item) pairs: one per distinct interaction with rating ≥ threshold. */
export interface Positives {
  users: Int32Array;
  items: Int32Array;
  /** Every item each user interacted with (never sampled as their negative). */
  seen: RatedIndex;
}

export function positivesOf(ratings: RatingColumns, numUsers: number, threshold: number): Positives {
  const seen = buildRatedIndex(ratings, numUsers);
  const keep = buildRatedIndex(
    threshold > 0 ? filterRows(ratings, (r) => ratings.ratings[r]! >= threshold) : ratings,
    numUsers,
  );
  const n = keep.items.length;
  const users = new Int32Array(n);
  for (let u = 0; u < numUsers; u++) users.fill(u, keep.offsets[u]!, keep.offsets[u + 1]!);
  return { users, items: keep.items, seen };
}

function filterRows(c: RatingColumns, pred: (r: number) => boolean): RatingColumns {
  const rows: number[] = [];
  for (let r = 0; r < c.length; r++) if (pred(r)) rows.push(r);
  const pick = <T extends Int32Array | Float32Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(rows.length);
    for (let j = 0; j < rows.length; j++) out[j] = a[rows[j]!]!;
    return out;
  };
  return {
    length: rows.length,
    users: pick(c.users),
    items: pick(c.items),
    ratings: pick(c.ratings),
    timestamps: pick(c.timestamps),
  };
}

/** Whether `item` is in the ascending row of `user` (binary search). */
function contains(index: RatedIndex, user: number, item: number): boolean {
  let lo = index.offsets[user]!;
  let hi = index.offsets[user + 1]! - 1;
  const items = index.items;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = items[mid]!;
    if (v === item) return true;
    if (v < item) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * One epoch's instances: every positive (label 1) followed by `negatives` items drawn uniformly from those the
 * user never interacted with (label 0), then all instances shuffled (Fisher–Yates) — the paper's get_train_instances.
 */
export function epochInstances(
  pos: Positives,
  numItems: number,
  negatives: number,
  rng: Rng,
): { users: Int32Array; items: Int32Array; labels: Float32Array } {
  const n = pos.users.length * (1 + negatives);
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const labels = new Float32Array(n);
  let w = 0;
  for (let r = 0; r < pos.users.length; r++) {
    const u = pos.users[r]!;
    users[w] = u;
    items[w] = pos.items[r]!;
    labels[w++] = 1;
    const seenCount = pos.seen.offsets[u + 1]! - pos.seen.offsets[u]!;
    if (seenCount >= numItems)
      throw new TrainingInputError(`ncf: user ${u} has seen every item; no negatives`);
    for (let s = 0; s < negatives; s++) {
      let j: number;
      do j = rng.int(numItems);
      while (contains(pos.seen, u, j));
      users[w] = u;
      items[w] = j;
      labels[w++] = 0;
    }
  }
  for (let a = n - 1; a > 0; a--) {
    const b = rng.int(a + 1);
    const tu = users[a]!;
    users[a] = users[b]!;
    users[b] = tu;
    const ti = items[a]!;
    items[a] = items[b]!;
    items[b] = ti;
    const tl = labels[a]!;
    labels[a] = labels[b]!;
    labels[b] = tl;
  }
  return { users, items, labels };
}

/**
 * NeuMF's pre-trained start (section 3.4.1): embeddings and hidden layers copied from GMF and MLP, output layer
 * h = [α·h_GMF, (1−α)·h_MLP], b = α·b_GMF + (1−α)·b_MLP.
 */
export function neumfFromPretrained(gmf: NcfParams, mlp: NcfParams, alpha: number): NcfParams {
  if (gmf.kind !== 'gmf' || mlp.kind !== 'mlp')
    throw new TrainingInputError(
      `ncf: pre-training needs a gmf and an mlp model, got ${gmf.kind} and ${mlp.kind}`,
    );
  if (gmf.numUsers !== mlp.numUsers || gmf.numItems !== mlp.numItems)
    throw new TrainingInputError('ncf: the pre-trained GMF and MLP have different numbers of users or items');
  const outKernel = new Float32Array(gmf.outKernel.length + mlp.outKernel.length);
  for (let f = 0; f < gmf.outKernel.length; f++) outKernel[f] = alpha * gmf.outKernel[f]!;
  for (let f = 0; f < mlp.outKernel.length; f++)
    outKernel[gmf.outKernel.length + f] = (1 - alpha) * mlp.outKernel[f]!;
  return {
    kind: 'neumf',
    numUsers: gmf.numUsers,
    numItems: gmf.numItems,
    gmfFactors: gmf.gmfFactors,
    layers: [...mlp.layers],
    gmfUser: gmf.gmfUser.slice(),
    gmfItem: gmf.gmfItem.slice(),
    mlpUser: mlp.mlpUser.slice(),
    mlpItem: mlp.mlpItem.slice(),
    mlpKernels: mlp.mlpKernels.map((w) => w.slice()),
    mlpBiases: mlp.mlpBiases.map((b) => b.slice()),
    outKernel,
    outBias: alpha * gmf.outBias + (1 - alpha) * mlp.outBias,
  };
}

let announced = false;

/**
 * Trains GMF, MLP or NeuMF (with or without pre-training) on the interactions of `data` and returns the native
 * NcfModel (its trainedHistory = every training interaction) and a log of every stage's epochs.
 */
export async function trainNcf(
  data: NcfData,
  config: Partial<NcfConfig> = {},
  options: NcfTrainOptions = {},
): Promise<NcfResult> {
  const c = resolveNcfConfig(config);
  const { ratings } = data;
  if (ratings.length === 0) throw new TrainingInputError('ncf: there are no interactions to train on');
  let maxUser = -1;
  let maxItem = -1;
  for (let r = 0; r < ratings.length; r++) {
    const u = ratings.users[r]!;
    const i = ratings.items[r]!;
    if (!(u >= 0 && i >= 0))
      throw new TrainingInputError(`ncf: row ${r} has user ${u}, item ${i} (negative index)`);
    if (u > maxUser) maxUser = u;
    if (i > maxItem) maxItem = i;
  }
  const numUsers = data.users?.size ?? maxUser + 1;
  const numItems = data.items?.size ?? maxItem + 1;
  if (maxUser >= numUsers || maxItem >= numItems)
    throw new TrainingInputError(
      `ncf: an index is outside the ID maps (user ${maxUser} of ${numUsers}, item ${maxItem} of ${numItems})`,
    );
  const pos = positivesOf(ratings, numUsers, c.positiveThreshold);
  if (pos.users.length === 0)
    throw new TrainingInputError(
      `ncf: no interaction has a rating ≥ positiveThreshold ${c.positiveThreshold}`,
    );

  const started = performance.now();
  const tfjs = await import('../tfjs/index.ts');
  const info = await tfjs.initTfjsBackend(options.backend ?? 'auto');
  if (options.onBackend) options.onBackend(info);
  else if (!announced) {
    announced = true;
    process.stderr.write(`ncf: tfjs backend ${info.name}\n`);
  }
  const net = await import('./ncf-model.ts');
  const rng = new Rng(c.seed);
  const log: NcfLog = {
    engine: 'ncf',
    kind: c.kind,
    backend: info.name,
    epochs: [],
    positives: pos.users.length,
    seconds: 0,
  };
  let stopped = false;

  /** Trains one network for `epochs` epochs; returns its weights. */
  const fitStage = async (
    kind: NcfKind,
    epochs: number,
    optimizer: 'adam' | 'sgd',
    learningRate: number,
    init?: NcfParams,
  ): Promise<NcfParams> => {
    const shape = {
      kind,
      numUsers,
      numItems,
      gmfFactors: c.gmfFactors,
      layers: c.layers,
      l2: c.l2,
      seed: c.seed,
    };
    const model = net.buildNcfModel(shape);
    try {
      if (init) net.setNcfWeights(model, init);
      net.compileNcf(model, optimizer, learningRate);
      for (let epoch = 1; epoch <= epochs && !stopped; epoch++) {
        const t0 = performance.now();
        const inst = epochInstances(pos, numItems, c.negatives, rng);
        const n = inst.users.length;
        let weighted = 0;
        for (let start = 0; start < n; start += c.batchSize) {
          options.signal?.throwIfAborted();
          const end = Math.min(n, start + c.batchSize);
          const size = end - start;
          const xs = [
            tfjs.tf.tensor2d(inst.users.subarray(start, end), [size, 1], 'int32'),
            tfjs.tf.tensor2d(inst.items.subarray(start, end), [size, 1], 'int32'),
          ];
          const ys = tfjs.tf.tensor2d(inst.labels.subarray(start, end), [size, 1], 'float32');
          try {
            const out = await model.trainOnBatch(xs, ys);
            const loss = Array.isArray(out) ? out[0]! : out;
            if (!Number.isFinite(loss))
              throw new TrainingInputError(
                `ncf: ${kind} diverged (loss ${loss}) at epoch ${epoch}; lower the learning rate (${learningRate})`,
              );
            weighted += size * loss;
          } finally {
            tfjs.tf.dispose([...xs, ys]);
          }
          // trainOnBatch only awaits microtasks on wasm/cpu: give timers, I/O and abort handlers a turn
          if ((start / c.batchSize) % 16 === 15) await yieldToEventLoop();
        }
        const record: NcfEpoch = {
          stage: kind,
          epoch,
          loss: weighted / n,
          seconds: (performance.now() - t0) / 1000,
        };
        log.epochs.push(record);
        const current = () => wrap(net.getNcfWeights(model, shape));
        if ((await options.onEpoch?.(record, current)) === 'stop') stopped = true;
      }
      return net.getNcfWeights(model, shape);
    } finally {
      model.optimizer?.dispose();
      model.dispose();
    }
  };

  const identity = (size: number) => {
    const m = new IdMap();
    for (let j = 0; j < size; j++) m.add(j);
    return m;
  };
  const wrap = (params: NcfParams) =>
    new NcfModel({
      params,
      users: data.users ?? identity(numUsers),
      items: data.items ?? identity(numItems),
      config: { ...c },
      log,
      rated: pos.seen,
    });

  let params: NcfParams;
  if (c.kind === 'neumf' && c.pretrain) {
    const gmf = await fitStage('gmf', c.pretrainEpochs, 'adam', c.learningRate);
    const mlp = await fitStage('mlp', c.pretrainEpochs, 'adam', c.learningRate);
    params = await fitStage(
      'neumf',
      c.epochs,
      'sgd',
      c.sgdLearningRate,
      neumfFromPretrained(gmf, mlp, c.alpha),
    );
  } else {
    params = await fitStage(c.kind, c.epochs, 'adam', c.learningRate);
  }
  log.seconds = (performance.now() - started) / 1000;
  return { model: wrap(params), log };
}
