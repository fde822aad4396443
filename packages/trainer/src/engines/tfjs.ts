/**
 * The `tfjs` engine: trains the reference notebook's TensorFlow.js layers model (@movierec/core/tfjs) with Adam on
 * mean-over-batch MSE, feeding minibatches in a given or seeded-shuffled row order via model.trainOnBatch.
 * This is the reference implementation the native engines are checked against (test/engine-agreement.test.ts).
 */
import type { MFParams } from '@movierec/core';
import {
  buildMFModel,
  getMFWeights,
  initTfjsBackend,
  setMFWeights,
  type TfjsBackendInfo,
  type TfjsBackendName,
  tf,
} from '@movierec/core/tfjs';
import type { RatingColumns } from '@movierec/data';
import type { Engine, EpochStats, FitOptions, TrainConfig } from '../engine.ts';

export interface TfjsEngineOptions {
  /** Backend to start the search at ('auto': tfjs-node, then wasm, then cpu). */
  backend?: TfjsBackendName | 'auto';
  /** Told which backend ran, once per fit; default: one line on stderr the first time in a process. */
  onBackend?: (info: TfjsBackendInfo) => void;
}

export interface TfjsEngine extends Engine {
  /** The backend the last fit ran on (undefined before the first fit). */
  readonly backend: TfjsBackendInfo | undefined;
}

let announced = false;
function announce(info: TfjsBackendInfo): void {
  if (announced) return;
  announced = true;
  const skipped = info.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  process.stderr.write(`tfjs engine: backend ${info.name}${skipped ? ` (skipped ${skipped})` : ''}\n`);
}

export function createTfjsEngine(engineOptions: TfjsEngineOptions = {}): TfjsEngine {
  let lastBackend: TfjsBackendInfo | undefined;
  return {
    name: 'tfjs',
    get backend() {
      return lastBackend;
    },
    async fit(train, shape, config, options = {}) {
      checkInputs(train, shape, config, options.init);
      const info = await initTfjsBackend(engineOptions.backend ?? 'auto');
      lastBackend = info;
      (engineOptions.onBackend ?? announce)(info);
      return fitLayers(train, shape, config, options);
    },
  };
}

/** The tfjs engine with automatic backend selection. */
export const tfjsEngine: TfjsEngine = createTfjsEngine();

async function fitLayers(
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: TrainConfig,
  options: FitOptions,
): Promise<MFParams> {
  const n = train.length;
  const { batchSize, epochs } = config;
  // μ = mean training rating, a fixed constant of the model (as in the notebook and the native engines), also when
  // `init` is given: init supplies the learned weights only.
  const globalMean = meanRating(train);
  const model = buildMFModel({
    numUsers: shape.numUsers,
    numItems: shape.numItems,
    factors: config.factors,
    globalMean,
    learningRate: config.learningRate,
    l2: config.l2,
    l2Bias: config.l2Bias ?? config.l2,
    initStd: config.initStd,
    seed: config.seed,
  });
  try {
    if (options.init) setMFWeights(model, { ...options.init, globalMean });
    const numBatches = Math.ceil(n / batchSize);
    for (let epoch = 0; epoch < epochs; epoch++) {
      const started = performance.now();
      const order = options.batchOrder
        ? options.batchOrder(epoch)
        : seededPermutation(n, config.seed + epoch);
      if (order.length !== n) {
        throw new Error(`tfjs engine: batchOrder(${epoch}) returned ${order.length} rows, expected ${n}`);
      }
      let weightedLoss = 0; // Σ_b n_b · loss_b, so the epoch loss is the batch-size-weighted mean
      for (let b = 0; b < numBatches; b++) {
        options.signal?.throwIfAborted();
        const start = b * batchSize;
        const size = Math.min(n, start + batchSize) - start;
        const users = new Int32Array(size);
        const items = new Int32Array(size);
        const ratings = new Float32Array(size);
        for (let j = 0; j < size; j++) {
          const r = order[start + j]!;
          if (!(r >= 0 && r < n))
            throw new Error(`tfjs engine: batchOrder(${epoch})[${start + j}] = ${r} is not a row`);
          users[j] = train.users[r]!;
          items[j] = train.items[r]!;
          ratings[j] = train.ratings[r]!;
        }
        const xs = [tf.tensor2d(users, [size, 1], 'int32'), tf.tensor2d(items, [size, 1], 'int32')];
        const ys = tf.tensor2d(ratings, [size, 1], 'float32');
        let loss: number;
        try {
          const out = await model.trainOnBatch(xs, ys);
          loss = Array.isArray(out) ? out[0]! : out;
        } finally {
          tf.dispose([...xs, ys]);
        }
        if (!Number.isFinite(loss)) {
          throw new Error(
            `tfjs engine: training diverged: loss is ${loss} at epoch ${epoch + 1}, batch ${b + 1} of ${numBatches} ` +
              `(learning rate ${config.learningRate}); lower the learning rate or add L2`,
          );
        }
        weightedLoss += size * loss;
      }
      const seconds = (performance.now() - started) / 1000;
      const stats: EpochStats = {
        epoch: epoch + 1,
        loss: weightedLoss / n,
        ratingsPerSecond: n / seconds,
        seconds,
      };
      if (options.onEpoch && (await options.onEpoch(stats, getMFWeights(model))) === 'stop') break;
    }
    return getMFWeights(model);
  } finally {
    model.optimizer?.dispose(); // not owned by the model when passed as an instance
    model.dispose();
  }
}

function checkInputs(
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: TrainConfig,
  init: MFParams | undefined,
): void {
  const where = 'tfjs engine';
  if (config.optimizer !== 'adam') {
    throw new Error(
      `${where}: config.optimizer is '${config.optimizer}', but this engine trains with 'adam' only`,
    );
  }
  for (const key of ['factors', 'epochs', 'batchSize'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) {
      throw new Error(`${where}: config.${key} must be a positive integer, got ${config[key]}`);
    }
  }
  if (!(config.learningRate > 0) || !Number.isFinite(config.learningRate)) {
    throw new Error(
      `${where}: config.learningRate must be a positive finite number, got ${config.learningRate}`,
    );
  }
  if (train.length === 0) throw new Error(`${where}: no ratings to train on (train.length is 0)`);
  for (let r = 0; r < train.length; r++) {
    const u = train.users[r]!;
    const i = train.items[r]!;
    if (!(u >= 0 && u < shape.numUsers)) {
      throw new Error(`${where}: train.users[${r}] = ${u} is outside [0, numUsers = ${shape.numUsers})`);
    }
    if (!(i >= 0 && i < shape.numItems)) {
      throw new Error(`${where}: train.items[${r}] = ${i} is outside [0, numItems = ${shape.numItems})`);
    }
    if (!Number.isFinite(train.ratings[r]!)) {
      throw new Error(`${where}: train.ratings[${r}] is ${train.ratings[r]}, not a number`);
    }
  }
  if (
    init &&
    (init.numUsers !== shape.numUsers || init.numItems !== shape.numItems || init.factors !== config.factors)
  ) {
    throw new Error(
      `${where}: init has ${init.numUsers} users × ${init.numItems} movies × ${init.factors} factors, ` +
        `training needs ${shape.numUsers} × ${shape.numItems} × ${config.factors}`,
    );
  }
}

/** μ = (1/n) Σ r, accumulated in float64. */
function meanRating(train: RatingColumns): number {
  let sum = 0;
  for (let r = 0; r < train.length; r++) sum += train.ratings[r]!;
  return sum / train.length;
}

/** A seeded Fisher–Yates shuffle of 0…n−1 (mulberry32 generator). */
export function seededPermutation(n: number, seed: number): Int32Array {
  const order = new Int32Array(n);
  for (let j = 0; j < n; j++) order[j] = j;
  let a = seed >>> 0;
  for (let j = n - 1; j > 0; j--) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const k = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (j + 1));
    const tmp = order[j]!;
    order[j] = order[k]!;
    order[k] = tmp;
  }
  return order;
}
