import type { MFParams } from '@movierec/core';
import type { RatingColumns, Rng } from '@movierec/data';
import type { EpochStats, FitOptions, TrainConfig } from '../engine.ts';
import {
  DivergenceError,
  diverged,
  epochOrder,
  seededStart,
  validateTraining,
  yieldToEventLoop,
} from './common.ts';
import { type NativeEngineOptions, ratingsInArena, useWasmKernels, type WasmArena } from './wasm.ts';

/**
 * How the minibatch engines (Adam, SGD) start: the input checked, the seeded generator (which draws the initial
 * factors first, then each epoch's shuffle), the initial parameters around the training mean, and whether the wasm
 * kernels run.
 */
export function startMinibatch(
  engine: string,
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: TrainConfig,
  options: FitOptions,
  engineOptions: NativeEngineOptions,
): { random: Rng; mean: number; start: MFParams; wasm: boolean } {
  validateTraining(engine, train, shape, config);
  const { random, mean, start } = seededStart(train, shape, config, options.init);
  return { random, mean, start, wasm: useWasmKernels(engineOptions, config.factors, engine) };
}

/**
 * The ratings side of a minibatch engine, after its parameters: with the wasm kernels (an arena) the packed rows and
 * the epoch's row order in the arena, which runEpochs then fills in place (`inScratch`); without, a plain row-order
 * scratch (none when batchOrder gives the order) and no packed rows.
 */
export function minibatchRows(
  arena: WasmArena | undefined,
  train: RatingColumns,
  options: FitOptions,
): { packed: Int32Array; scratch: Int32Array; inScratch: boolean } {
  if (arena) return { ...ratingsInArena(arena, train), inScratch: true };
  return {
    packed: new Int32Array(0),
    scratch: new Int32Array(options.batchOrder ? 0 : train.length),
    inScratch: false,
  };
}

/** What one batch reports: its loss (checked for divergence) and its share of the epoch's summed loss. */
export interface BatchLoss {
  loss: number;
  /** Added over the epoch's batches; the epoch loss is the sum / the number of ratings. */
  sum: number;
}

/**
 * The epoch loop shared by the minibatch engines (Adam, SGD): per epoch a row order (the caller's batchOrder or a
 * seeded shuffle, copied into `scratch` when the kernels need it there), consecutive batches of config.batchSize
 * rows handed to `batch`, divergence checked on every batch against the first one, cancellation through the signal,
 * progress every 64 batches, and onEpoch (which may stop training) after each epoch.
 */
export async function runEpochs(
  engine: string,
  n: number,
  config: TrainConfig,
  random: Rng,
  options: FitOptions,
  order: { scratch: Int32Array; inScratch: boolean },
  params: MFParams,
  batch: (order: Int32Array, start: number, end: number) => BatchLoss,
): Promise<void> {
  const B = config.batchSize;
  const batches = Math.ceil(n / B);
  let firstLoss = 0;
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const t0 = performance.now();
    let rows = epochOrder(n, epoch, random, options.batchOrder, order.scratch);
    if (order.inScratch && rows !== order.scratch) {
      order.scratch.set(rows);
      rows = order.scratch;
    }
    let sum = 0;
    for (let b = 0; b < batches; b++) {
      options.signal?.throwIfAborted();
      const s = b * B;
      const e = Math.min(n, s + B);
      const result = batch(rows, s, e);
      if (epoch === 0 && b === 0) firstLoss = result.loss;
      if (diverged(result.loss, firstLoss))
        throw new DivergenceError(engine, epoch + 1, b + 1, result.loss, config);
      sum += result.sum;
      if ((b & 63) === 63) {
        options.onProgress?.({ done: epoch * n + e, total: config.epochs * n });
        await yieldToEventLoop();
      }
    }
    options.onProgress?.({ done: (epoch + 1) * n, total: config.epochs * n });
    const seconds = (performance.now() - t0) / 1000;
    const stats: EpochStats = { epoch: epoch + 1, loss: sum / n, seconds, ratingsPerSecond: n / seconds };
    if ((await options.onEpoch?.(stats, params)) === 'stop') break;
    await yieldToEventLoop();
  }
}
