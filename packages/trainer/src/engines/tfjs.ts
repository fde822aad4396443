/**
 * The `tfjs` engine: trains the reference notebook's TensorFlow.js layers model (src/tfjs) with Adam on
 * mean-over-batch MSE, feeding minibatches in a given or seeded-shuffled row order via model.trainOnBatch.
 * This is the reference implementation the native engines are checked against (test/engine-agreement.test.ts).
 * TensorFlow.js is imported on the first fit, so importing @movierec/trainer stays cheap.
 */
import type { MFParams } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import type { Engine, EpochStats, FitOptions, TrainConfig } from '../engine.ts';
import type { TfjsBackendInfo, TfjsBackendName } from '../tfjs/index.ts';
import {
  DivergenceError,
  diverged,
  epochOrder,
  seededStart,
  TrainingInputError,
  validateTraining,
  yieldToEventLoop,
} from './common.ts';

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
      validateTraining('tfjs', train, shape, config);
      if (config.optimizer !== 'adam') {
        throw new TrainingInputError(
          `tfjs: config.optimizer is '${config.optimizer}', but this engine trains with 'adam' only`,
        );
      }
      const tfjs = await import('../tfjs/index.ts');
      const info = await tfjs.initTfjsBackend(engineOptions.backend ?? 'auto');
      lastBackend = info;
      (engineOptions.onBackend ?? announce)(info);
      return fitLayers(tfjs, train, shape, config, options);
    },
  };
}

/** The tfjs engine with automatic backend selection. */
export const tfjsEngine: TfjsEngine = createTfjsEngine();

async function fitLayers(
  { buildMFModel, getMFWeights, setMFWeights, tf }: typeof import('../tfjs/index.ts'),
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: TrainConfig,
  options: FitOptions,
): Promise<MFParams> {
  const n = train.length;
  const { batchSize, epochs } = config;
  // μ = mean training rating, a fixed constant of the model (as in the notebook and the native engines); the same
  // seeded draws as the native engines (initial factors, then one shuffle per epoch), so a given seed gives the same
  // start and batch order on every engine; `init` and `batchOrder` override them.
  const { random, mean: globalMean, start: initial } = seededStart(train, shape, config, options.init);
  const model = buildMFModel({
    numUsers: shape.numUsers,
    numItems: shape.numItems,
    factors: config.factors,
    globalMean,
    learningRate: config.learningRate,
    l2: config.l2,
    l2Bias: config.l2Bias ?? 0,
    initStd: config.initStd,
    seed: config.seed,
  });
  const scratch = new Int32Array(options.batchOrder ? 0 : n);
  try {
    setMFWeights(model, initial);
    const numBatches = Math.ceil(n / batchSize);
    let firstLoss: number | undefined;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const started = performance.now();
      const order = epochOrder(n, epoch, random, options.batchOrder, scratch);
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
          if (!(r >= 0 && r < n)) {
            throw new TrainingInputError(
              `tfjs: batchOrder(${epoch})[${start + j}] = ${r} is not a rating row (0…${n - 1})`,
            );
          }
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
        firstLoss ??= loss;
        if (diverged(loss, firstLoss)) throw new DivergenceError('tfjs', epoch + 1, b + 1, loss, config);
        weightedLoss += size * loss;
        // trainOnBatch only awaits microtasks on wasm/cpu: give timers, I/O and abort handlers a turn
        await yieldToEventLoop();
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
